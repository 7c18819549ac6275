"""Seeding the live server's database for the desk flows: a team, the agent online, macros, borrowers.

The live server holds only the six role users, so each flow creates what it needs — directly on
the same SQLite file (WAL lets the server and the test write in turn) and through the HTTP API.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import select

from lenddesk.core.calendar import business_date
from lenddesk.core.db import make_engine, session_factory, utcnow
from lenddesk.core.models import User
from lenddesk.desk.models import Agent, Macro, Team
from lenddesk.ledger.models import Borrower, Loan, Product, ScheduleLine
from tests.conftest import PASSWORD

_numbers = itertools.count(1)


@dataclass(frozen=True)
class BorrowerFacts:
    name: str
    id_number: str
    mobile: str
    contract_number: str
    instalment: str  # yuan as the console shows it, e.g. "1,050.00"


def _session(database: Path):  # type: ignore[no-untyped-def]
    return session_factory(make_engine(f"sqlite:///{database}"))()


def seed_desk(database: Path) -> None:
    """A 7×24 team that takes every category, the agent online in it, two macros (idempotent)."""
    with _session(database) as session:
        if session.scalar(select(Team.id).where(Team.code == "general")) is None:
            team = Team(
                code="general",
                name="综合服务组",
                skills=["*"],
                opens="00:00",
                closes="23:59",
                always_open=True,
            )
            session.add(team)
            session.flush()
            agent = session.scalar(select(User.id).where(User.username == "agent"))
            session.add(Agent(user_id=agent, team_id=team.id, status="online", capacity=500))
            session.add(
                Macro(
                    code="greeting",
                    title="问候",
                    body="您好，我是{agent_name}，很高兴为您服务。",
                    active=True,
                )
            )
            session.add(
                Macro(
                    code="amount_due",
                    title="本期应还",
                    body=(
                        "{borrower_name}您好，合同 {contract_number} 本期应还 {amount_due} 元，"
                        "还款日 {due_date}。"
                    ),
                    active=True,
                )
            )
        session.commit()


def add_borrower(database: Path, name: str = "王芳") -> BorrowerFacts:
    """A borrower with one loan: 1,050.00 yuan due in ten days, nothing overdue."""
    serial = f"{uuid.uuid4().int % 10**8:08d}"
    facts = BorrowerFacts(
        name=name,
        id_number=f"3101151990{serial}"[:18],
        mobile=f"137{serial}",
        contract_number=f"HT{serial}{next(_numbers):03d}",
        instalment="1,050.00",
    )
    today = business_date(utcnow())
    with _session(database) as session:
        person = Borrower(name=facts.name, id_number=facts.id_number, mobile=facts.mobile)
        product = Product(
            code=f"E2E{serial}", name="12期", annual_rate=Decimal("0.12"), term=1, method="equal_principal"
        )
        session.add_all([person, product])
        session.flush()
        loan = Loan(
            contract_number=facts.contract_number,
            borrower_id=person.id,
            product_id=product.id,
            principal_fen=100000,
            annual_rate=Decimal("0.12"),
            term=1,
            method="equal_principal",
            disbursed_on=today - timedelta(days=20),
            outstanding_principal_fen=100000,
            next_due_on=today + timedelta(days=10),
        )
        session.add(loan)
        session.flush()
        session.add(
            ScheduleLine(
                loan_id=loan.id,
                period=1,
                due_on=today + timedelta(days=10),
                principal_fen=100000,
                interest_fen=5000,
            )
        )
        session.commit()
    return facts


def post_inbound(live_server: str, text: str, sender: str, channel: str = "chat") -> str:
    """An inbound message as a channel gateway would send it (here with an admin's token)."""
    with httpx.Client(base_url=live_server, timeout=10) as http:
        token = http.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD})
        token.raise_for_status()
        response = http.post(
            "/api/v1/desk/inbound",
            json={
                "channel": channel,
                "channel_message_id": f"e2e-{uuid.uuid4().hex}",
                "sender": sender,
                "text": text,
            },
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        )
        response.raise_for_status()
        return str(response.json()["ticket_number"])


def fresh_mobile() -> str:
    return f"136{uuid.uuid4().int % 10**8:08d}"
