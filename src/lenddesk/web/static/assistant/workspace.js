// The agent's chat workspace: new lines of the conversation appear live (the same numbered stream).
(function () {
  "use strict";
  var list = document.getElementById("chat-lines");
  if (!list) return;
  var sessionId = list.getAttribute("data-session");
  var last = Number(list.getAttribute("data-last") || "0");
  var LABELS = { borrower: "客户", bot: "智能助手", agent: "客服", system: "系统" };
  function add(line) {
    if (line.seq <= last) return;
    last = line.seq;
    var item = document.createElement("li");
    item.className = "chatline " + line.author;
    item.setAttribute("data-seq", line.seq);
    var who = document.createElement("strong");
    who.textContent = (line.author === "agent" && line.author_label ? line.author_label : LABELS[line.author]) + "：";
    var text = document.createElement("span");
    text.textContent = line.text;
    item.appendChild(who);
    item.appendChild(text);
    list.appendChild(item);
  }
  function listen() {
    var source = new EventSource("/assistant/chats/" + encodeURIComponent(sessionId) + "/events?after=" + last);
    source.addEventListener("line", function (event) { add(JSON.parse(event.data)); });
    source.onerror = function () { source.close(); setTimeout(listen, 1000); };
  }
  listen();
})();
