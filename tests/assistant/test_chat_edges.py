"""The chat at the edges: the session token never travels in a URL and the id alone opens nothing;
/chat/events holds a bounded number of streams; public JSON bodies have a size limit."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lenddesk.assistant import tokens
from lenddesk.core.policy import get_policy
from lenddesk.web import assistant as chat_pages
from tests.assistant.conftest import token_headers
from tests.conftest import PASSWORD

Chat = Callable[..., dict[str, Any]]
STATIC = Path(chat_pages.__file__).parent / "static" / "assistant" / "chat.js"


def test_the_session_id_alone_opens_no_transcript(chat: Chat, client: TestClient) -> None:
    chat("你好，我的还款日是哪天")
    outsider = TestClient(client.app)  # no cookie: what a log reader or an agent's URL gives
    for url in (
        f"/api/v1/assistant/sessions/{chat.session_id}/messages",
        f"/api/v1/assistant/sessions/{chat.token}/messages",
        f"/api/v1/assistant/messages?session_id={chat.session_id}",
        f"/chat/events?session_id={chat.session_id}",
    ):
        answer = outsider.get(url)
        assert answer.status_code == 404, url
        assert "还款日" not in answer.text, url
    assert (
        outsider.get("/api/v1/assistant/messages", headers=token_headers(chat.session_id)).status_code == 404
    )


def test_a_browser_gets_its_token_in_an_http_only_cookie_and_keeps_its_session(
    app: FastAPI,
    clock,
    desk_data: dict,  # type: ignore[no-untyped-def]
) -> None:
    browser = TestClient(app)
    first = browser.post("/api/v1/assistant/messages", json={"text": "你好"})
    assert first.status_code == 200, first.text
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"{tokens.COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    token = browser.cookies[tokens.COOKIE]
    assert first.json()["session_id"] == tokens.public_id_of(token) != token
    second = browser.post("/api/v1/assistant/messages", json={"text": "怎么还款"}).json()
    assert second["session_id"] == first.json()["session_id"] and second["message_seq"] == 3
    lines = browser.get("/api/v1/assistant/messages").json()["lines"]
    assert [line["seq"] for line in lines] == [1, 2, 3, 4]
    script = STATIC.read_text()
    assert "session_id" not in script and 'localStorage.setItem("lenddesk-chat-session"' not in script


@pytest.fixture
def short_streams(monkeypatch: pytest.MonkeyPatch) -> Callable[[int, int], None]:
    monkeypatch.setattr(chat_pages, "STREAM_SECONDS", 1.5)

    def limits(per_client: int, total: int) -> None:
        changed = get_policy().assistant.model_copy(
            update={"event_streams_per_client": per_client, "event_streams_total": total}
        )
        policy = get_policy().model_copy(update={"assistant": changed})
        monkeypatch.setattr(chat_pages, "get_policy", lambda: policy)

    return limits


def _streams_at_once(app: FastAPI, token: str, addresses: list[str]) -> list[int]:
    barrier = threading.Barrier(len(addresses))

    def open_stream(address: str) -> int:
        with TestClient(app, client=(address, 50000)) as browser:
            browser.cookies.set(tokens.COOKIE, token)
            barrier.wait()
            return browser.get("/chat/events").status_code

    with ThreadPoolExecutor(max_workers=len(addresses)) as pool:
        return sorted(pool.map(open_stream, addresses))


def test_event_streams_are_limited_per_client_and_in_all(
    app: FastAPI, chat: Chat, short_streams: Callable[[int, int], None]
) -> None:
    chat("你好")
    short_streams(2, 100)
    assert _streams_at_once(app, chat.token, ["198.51.100.5"] * 3) == [200, 200, 429]
    assert _streams_at_once(app, chat.token, ["198.51.100.5"] * 2) == [200, 200]  # slots given back
    short_streams(10, 3)
    assert _streams_at_once(app, chat.token, [f"198.51.100.{n}" for n in range(4)]) == [200, 200, 200, 429]
    assert chat_pages.STREAMS.take("x", per_client=1, total=1)  # every slot came back
    chat_pages.STREAMS.give_back("x")


def test_a_public_json_body_over_the_limit_is_refused_before_it_is_read(
    chat: Chat, client: TestClient
) -> None:
    limit = get_policy().auth.public_json_max_bytes
    big = ('{"text": "' + "啊" * limit + '"}').encode()
    declared = client.post(
        "/api/v1/assistant/messages",
        content=big,
        headers={"content-type": "application/json", **token_headers(chat.token)},
    )
    assert declared.status_code == 413
    assert declared.json()["message_zh"] and declared.json()["message_en"]

    def chunks() -> Any:  # no Content-Length: counted as it streams in
        for start in range(0, len(big), 4096):
            yield big[start : start + 4096]

    streamed = client.post(
        "/api/v1/assistant/messages",
        content=chunks(),
        headers={"content-type": "text/plain", **token_headers(chat.token)},
    )
    assert streamed.status_code == 413 and streamed.json()["code"] == "payload_too_large"
    assert chat("你好")["message_seq"] == 1  # nothing of the refused bodies was kept


def test_agents_follow_a_chat_live_by_its_id_only_when_signed_in(
    app: FastAPI, chat: Chat, short_streams: Callable[[int, int], None]
) -> None:
    chat("你好，我的还款日是哪天")
    url = f"/assistant/chats/{chat.session_id}/events"
    stranger = TestClient(app).get(url, follow_redirects=False)
    assert stranger.status_code in (302, 303, 401) and "还款日" not in stranger.text
    agent = TestClient(app)
    signed = agent.post("/login", data={"username": "agent", "password": PASSWORD, "next": "/"})
    assert signed.status_code == 200, signed.text
    stream = agent.get(url)
    assert stream.status_code == 200 and "还款日" in stream.text
