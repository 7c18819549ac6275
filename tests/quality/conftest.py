"""Quality and feedback fixtures: the desk's teams, borrower, pinned clock and inbound channel, and
helpers that work a ticket from first message to resolution through the API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.desk.conftest import (  # noqa: F401  (fixtures shared with the desk's tests)
    NOW,
    BorrowerFacts,
    Clock,
    borrower,
    channel_keys,
    clock,
    desk_data,
    inbound,
    user_id,
)


@dataclass
class Worked:
    number: str
    resolve: Callable[[], Any]


@pytest.fixture
def work_ticket(client: TestClient, as_role, inbound, clock):  # type: ignore[no-untyped-def]  # noqa: F811
    """Open a ticket with the borrower's messages, answer with the agent's replies, then resolve it."""

    def work(
        borrower_says: list[str],
        agent_says: list[str],
        *,
        sender: str = "13900001111",
        channel: str = "chat",
        resolve: bool = True,
        verify: BorrowerFacts | None = None,
        notes: tuple[str, ...] = (),
    ) -> str:
        number = None
        for index in range(max(len(borrower_says), len(agent_says))):
            if index < len(borrower_says):
                response = inbound(borrower_says[index], sender=sender, channel=channel)
                assert response.status_code in (200, 201), response.text
                number = response.json()["ticket_number"]
                if index == 0 and verify is not None:
                    checked = client.post(
                        f"/api/v1/desk/tickets/{number}/verify/knowledge",
                        json={"name": verify.name, "id_last6": verify.id_number[-6:]},
                        headers=as_role("agent"),
                    )
                    assert checked.json()["verified"], checked.text
            if index < len(agent_says):
                assert number is not None
                sent = client.post(
                    f"/api/v1/desk/tickets/{number}/reply",
                    json={"text": agent_says[index]},
                    headers=as_role("agent"),
                )
                assert sent.status_code == 200, sent.text
        assert number is not None
        for note in notes:
            client.post(f"/api/v1/desk/tickets/{number}/notes", json={"text": note}, headers=as_role("agent"))
        if resolve:
            done = client.post(
                f"/api/v1/desk/tickets/{number}/status", json={"status": "resolved"}, headers=as_role("agent")
            )
            assert done.status_code == 200, done.text
        return number

    return work


GOOD_AGENT = [
    "您好，我是客服小李，很高兴为您服务。",
    "非常理解您的难处，我们可以为您申请延期还款方案，我会在一个工作日内回复您。感谢您的耐心，祝您生活愉快！",
]
GOOD_BORROWER = ["你好，我失业了，这个月还不上，能不能延期？", "好的，谢谢"]
