"""Desk fixtures: teams, agents, SLA policies, macros, a borrower with a loan, and a pinned clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core.models import User
from lenddesk.desk.models import Agent, Macro, SlaPolicy, Team
from lenddesk.ledger.models import Borrower, Loan, Product, ScheduleLine

# Tuesday 24 November 2026, 10:00 in Shanghai: a normal workday inside service hours.
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
CHANNEL_KEYS = {"chat": "chat-key-123", "gateway": "gateway-key-456"}


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class BorrowerFacts:
    id: int
    name: str
    id_number: str
    mobile: str
    email: str
    contract_number: str


def user_id(session: Session, username: str) -> int:
    found = session.scalar(select(User.id).where(User.username == username))
    assert found is not None
    return found


@pytest.fixture
def desk_data(session: Session) -> dict[str, int]:
    """Three teams (office hours), the agent online in `general`, the team lead leading complaints."""
    lead = user_id(session, "team_lead")
    teams = {
        "general": Team(
            code="general", name="综合服务组", skills=["*", "repayment_question"], lead_user_id=lead
        ),
        "repayment": Team(
            code="repayment", name="还款组", skills=["repayment_failed", "hardship"], lead_user_id=lead
        ),
        "complaints": Team(
            code="complaints", name="投诉组", skills=["complaint", "collection_conduct"], lead_user_id=lead
        ),
        "fraud": Team(
            code="fraud", name="反欺诈", skills=["fraud"], always_open=True, opens="00:00", closes="23:59"
        ),
    }
    session.add_all(teams.values())
    session.flush()
    session.add(
        Agent(user_id=user_id(session, "agent"), team_id=teams["general"].id, status="online", capacity=10)
    )
    session.add(
        Agent(
            user_id=user_id(session, "team_lead"),
            team_id=teams["complaints"].id,
            status="offline",
            capacity=5,
        )
    )
    session.add(SlaPolicy(category="*", severity="P4", first_response_minutes=60, resolution_minutes=480))
    session.add(SlaPolicy(category="*", severity="P3", first_response_minutes=60, resolution_minutes=480))
    session.add(
        Macro(
            code="greeting",
            title="问候",
            body="您好，我是{agent_name}，工单 {ticket_number} 已收到。",
            active=True,
        )
    )
    session.add(
        Macro(
            code="amount_due",
            title="本期应还",
            body="{borrower_name}您好，合同 {contract_number} 本期应还 {amount_due} 元，还款日 {due_date}。",
            active=True,
        )
    )
    session.commit()
    return {code: team.id for code, team in teams.items()}


@pytest.fixture
def borrower(session: Session) -> BorrowerFacts:
    """张伟 with one loan: instalments of 1,050.00 yuan due 2026-12-05 and 2027-01-05."""
    person = Borrower(
        name="张伟",
        id_number="110105199001011232",
        mobile="13812345678",
        email="zhangwei@example.com",
        wechat_openid="oWX-zhangwei",
    )
    product = Product(code="P12", name="12期", annual_rate=Decimal("0.12"), term=2, method="equal_principal")
    session.add_all([person, product])
    session.flush()
    loan = Loan(
        contract_number="HT20260105001",
        borrower_id=person.id,
        product_id=product.id,
        principal_fen=200000,
        annual_rate=Decimal("0.12"),
        term=2,
        method="equal_principal",
        disbursed_on=date(2026, 11, 5),
        outstanding_principal_fen=200000,
        next_due_on=date(2026, 12, 5),
    )
    session.add(loan)
    session.flush()
    for period, due in ((1, date(2026, 12, 5)), (2, date(2027, 1, 5))):
        session.add(
            ScheduleLine(loan_id=loan.id, period=period, due_on=due, principal_fen=100000, interest_fen=5000)
        )
    session.commit()
    return BorrowerFacts(
        person.id, "张伟", "110105199001011232", "13812345678", "zhangwei@example.com", "HT20260105001"
    )


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    pinned = Clock()
    app.state.desk_clock = pinned
    return pinned


@pytest.fixture
def channel_keys(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    from lenddesk.core.settings import get_settings

    monkeypatch.setattr(get_settings(), "channel_keys", dict(CHANNEL_KEYS))
    return CHANNEL_KEYS


@pytest.fixture
def inbound(client: TestClient, channel_keys: dict[str, str], clock: Clock) -> Callable[..., Any]:
    """Post an inbound message with the gateway key; returns the response."""

    counter = iter(range(1, 10_000))

    def post(
        text: str = "请问我这个月还多少钱？",
        *,
        sender: str = "13900001111",
        channel: str = "chat",
        message_id: str | None = None,
        received_at: datetime | None = None,
        key: str | None = None,
    ) -> Any:
        body = {
            "channel": channel,
            "channel_message_id": message_id or f"m-{next(counter)}",
            "sender": sender,
            "text": text,
            "received_at": (received_at or clock.now).isoformat(),
        }
        return client.post(
            "/api/v1/desk/inbound", json=body, headers={"X-LendDesk-Key": key or CHANNEL_KEYS["gateway"]}
        )

    return post
