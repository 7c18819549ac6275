"""Care fixtures: a small book of borrowers in good standing, a clock pinned to 10:00 in Shanghai,
and helpers that consent borrowers and take a campaign through draft, approval and launch."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lenddesk.core import audit, auth
from lenddesk.core.db import session_factory
from tests.conftest import PASSWORD
from tests.ledger.book import add_loan, add_product

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a Tuesday
SIGNED = "祝您节日快乐，万事顺意！【LendDesk 消费金融】回复TD退订"
CAMPAIGNS = "/api/v1/care/campaigns"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    pinned = Clock(NOW)
    app.state.desk_clock = pinned
    return pinned


def make_borrowers(engine: Engine, count: int, disbursed_on: date = date(2026, 9, 15)) -> list[int]:
    with session_factory(engine)() as session:
        product = add_product(session)
        ids = [add_loan(session, product, disbursed_on=disbursed_on).borrower_id for _ in range(count)]
        session.commit()
    return ids


@pytest.fixture
def borrowers(engine: Engine) -> list[int]:
    return make_borrowers(engine, 4)


@pytest.fixture
def second_compliance(engine: Engine) -> str:
    with session_factory(engine)() as session:
        auth.create_user(
            session,
            actor=audit.Actor.system("tests"),
            username="compliance2",
            password=PASSWORD,
            role="compliance",
        )
        session.commit()
    return "compliance2"


def consent(
    client: TestClient,
    headers: dict[str, str],
    borrower_id: int,
    purpose: str = "marketing",
    channel: str = "sms",
) -> Any:
    response = client.post(
        f"/api/v1/care/borrowers/{borrower_id}/consents",
        json={"purpose": purpose, "channel": channel, "evidence": "App 勾选同意《营销信息推送授权》v3"},
        headers=headers,
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def draft(
    client: TestClient, headers: dict[str, str], borrower_ids: list[int] | None = None, **fields: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "元旦问候",
        "kind": "greeting",
        "channel": "sms",
        "text": SIGNED,
        "audience": {"borrower_ids": borrower_ids} if borrower_ids else {"segment": "all"},
        **fields,
    }
    response = client.post(CAMPAIGNS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def approved(client: TestClient, as_role: Callable[[str], dict[str, str]]) -> Callable[..., int]:
    """Draft (a team lead) and approve (compliance) a campaign; its id."""

    def make(borrower_ids: list[int] | None = None, **fields: Any) -> int:
        campaign = draft(client, as_role("team_lead"), borrower_ids, **fields)
        response = client.post(f"{CAMPAIGNS}/{campaign['id']}/approve", headers=as_role("compliance"))
        assert response.status_code == 200, response.text
        return int(campaign["id"])

    return make


def preview(client: TestClient, headers: dict[str, str], campaign_id: int) -> dict[str, Any]:
    response = client.get(f"{CAMPAIGNS}/{campaign_id}/preview", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()
