"""An agent who answers a web chat from the desk's own ticket page or API reaches the borrower's
chat: the outbox's `chat` messages go through the assistant's adapter (channels/registry.py), once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from lenddesk.desk.models import OutboxMessage
from tests.assistant.conftest import token_headers
from tests.conftest import PASSWORD, carry_csrf

Chat = Callable[..., dict[str, Any]]


def agent_lines(client: TestClient, token: str) -> list[str]:
    """What the borrower's chat shows (the stream's lines, as a reconnect reads them) from agents."""
    lines = client.get("/api/v1/assistant/messages", headers=token_headers(token)).json()["lines"]
    return [line["text"] for line in lines if line["author"] == "agent"]


@pytest.fixture
def deliver(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], str]:
    """`lenddesk desk deliver` (one batch, the channels room's worker) against the test database."""
    from lenddesk.cli import app
    from lenddesk.core.settings import get_settings

    monkeypatch.setattr(get_settings(), "database_url", db_url)
    monkeypatch.chdir(tmp_path)  # the worker may generate its channels key file in the working directory

    def run() -> str:
        result = CliRunner().invoke(app, ["desk", "deliver", "--log-dir", str(tmp_path)])
        assert result.exit_code == 0, result.output
        return result.output

    return run


def test_a_reply_from_the_desk_api_reaches_the_chat_once_through_the_worker(
    chat: Chat, client: TestClient, as_role, session: Session, deliver: Callable[[], str], tmp_path: Path
) -> None:
    number = chat("转人工")["ticket_number"]
    sent = client.post(
        f"/api/v1/desk/tickets/{number}/reply",
        json={"text": "您好，我是客服小李，马上为您处理"},
        headers=as_role("agent"),
    )
    assert sent.status_code == 200 and sent.json()["delivery"] == "queued"
    assert agent_lines(client, chat.token) == []  # queued, not delivered yet

    assert "delivered: 1" in deliver()
    assert agent_lines(client, chat.token) == ["您好，我是客服小李，马上为您处理"]
    assert not (tmp_path / "delivery-chat.jsonl").exists()  # into the chat, not the delivery log

    assert "delivered: 0" in deliver()  # nothing left to deliver
    # A worker that wrote the line and died before settling: the lease runs out, the row goes again.
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == sent.json()["outbox_id"])
        .values(status="queued", claimed_by=None, claimed_until=None, delivered_at=None)
    )
    session.commit()
    assert "delivered: 1" in deliver()
    assert agent_lines(client, chat.token) == ["您好，我是客服小李，马上为您处理"]  # still once
    later = chat("好的谢谢")  # 1–2: the handoff and its answer, 3: the agent's line
    assert later["message_seq"] == 4 and later["reply_seq"] is None  # a person has it: the bot is quiet


def test_a_reply_from_the_ticket_page_reaches_the_chat_once_through_deliver_now(
    app, chat: Chat, client: TestClient, as_role, session: Session
) -> None:
    number = chat("我要人工客服")["ticket_number"]
    browser = TestClient(app)
    browser.post("/login", data={"username": "agent", "password": PASSWORD})
    page = carry_csrf(browser).post(
        f"/desk/tickets/{number}/reply", data={"text": "您好，请问有什么可以帮您"}
    )
    assert page.status_code in (200, 303), page.text
    row = session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == f"chat:{chat.session_id}"))
    assert row is not None and row.channel == "chat" and row.status == "queued"

    lead = as_role("team_lead")
    assert client.post("/api/v1/desk/outbox/deliver", headers=lead).json()["delivered"] == 1
    assert client.post("/api/v1/desk/outbox/deliver", headers=lead).json()["delivered"] == 0
    assert agent_lines(client, chat.token) == ["您好，请问有什么可以帮您"]


def test_a_chat_ticket_that_is_no_web_chat_still_goes_to_the_delivery_log(
    inbound, client: TestClient, as_role, deliver: Callable[[], str], tmp_path: Path
) -> None:
    """Chat tickets from elsewhere (the demo, another widget) keep the channel's previous adapter."""
    number = inbound("你好", sender="visitor-9").json()["ticket_number"]
    sent = client.post(
        f"/api/v1/desk/tickets/{number}/reply", json={"text": "您好"}, headers=as_role("agent")
    )
    assert sent.status_code == 200
    assert "delivered: 1" in deliver()
    assert "visitor-9" in (tmp_path / "delivery-chat.jsonl").read_text()
