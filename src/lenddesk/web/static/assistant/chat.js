// The borrower's web chat: send with POST /api/v1/assistant/messages, read every line (own, bot,
// agent) from the numbered SSE stream /chat/events; a reconnect resumes after the last number.
// The session's token lives in an HttpOnly cookie the server sets with the first message: this
// script never sees it and no URL carries it. `STARTED` only remembers that a chat exists.
(function () {
  "use strict";
  var STARTED = "lenddesk-chat-started";
  localStorage.removeItem("lenddesk-chat-session");  // the old client-made id, once in URLs
  var listening = false;
  var lines = document.getElementById("lines");
  var form = document.getElementById("form");
  var input = document.getElementById("text");
  var status = document.getElementById("status");
  var shown = {};
  var last = 0;
  var LABELS = { borrower: "我", bot: "智能助手", agent: "人工客服", system: "系统" };

  function add(line) {
    if (shown[line.seq]) return;
    shown[line.seq] = true;
    last = Math.max(last, line.seq);
    var item = document.createElement("li");
    item.className = "line " + line.author;
    item.setAttribute("data-seq", line.seq);
    item.setAttribute("data-author", line.author);
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = line.author === "agent" ? "人工客服 " + (line.author_label || "") : LABELS[line.author] || "";
    var bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = line.text;
    item.appendChild(who);
    item.appendChild(bubble);
    var after = Array.prototype.find.call(lines.querySelectorAll("li[data-seq]"), function (el) {
      return Number(el.getAttribute("data-seq")) > line.seq;
    });
    lines.insertBefore(item, after || null);
    item.scrollIntoView({ block: "end" });
  }

  function listen() {
    listening = true;
    var source = new EventSource("/chat/events?after=" + last);
    source.addEventListener("line", function (event) { add(JSON.parse(event.data)); });
    source.onopen = function () { status.textContent = ""; };
    source.onerror = function () {
      source.close();
      status.textContent = "连接中断，正在重连…";
      setTimeout(listen, 1000);  // resume after the last line we have
    };
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    fetch("/api/v1/assistant/messages", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify({ text: text })
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { status.textContent = body.message_zh || "发送失败，请重试"; return; }
        localStorage.setItem(STARTED, "1");
        if (!listening) listen();
        add({ seq: body.message_seq, author: "borrower", text: text });
        if (body.reply_seq) add({ seq: body.reply_seq, author: "bot", text: body.reply });
        status.textContent = body.handoff ? "已转人工客服" + (body.ticket_number ? "（工单 " + body.ticket_number + "）" : "") : "";
      });
    }).catch(function () { status.textContent = "网络异常，请重试"; input.value = text; });
  });

  if (localStorage.getItem(STARTED)) listen();
})();
