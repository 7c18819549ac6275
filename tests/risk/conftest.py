"""Risk fixtures: a small book (borrowers whose ID numbers say Beijing, province 11), a pinned clock,
and helpers to post events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from lenddesk.core.db import session_factory
from lenddesk.ledger.models import Borrower
from tests.ledger.book import add_loan, add_product

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
CHANNEL_KEY = "risk-channel-key-for-tests"
BEIJING, SHANGHAI_REGION, GUANGZHOU = "110105", "310115", "440106"


@dataclass
class Book:
    borrower: int
    other: int
    mobile: str
    id_number: str


def make_book(engine: Engine, disbursed_on: date = date(2026, 9, 15)) -> Book:
    with session_factory(engine)() as session:
        product = add_product(session)
        first = add_loan(session, product, disbursed_on=disbursed_on)
        second = add_loan(session, product, disbursed_on=disbursed_on)
        session.commit()
        borrower = session.get(Borrower, first.borrower_id)
        assert borrower is not None
        return Book(first.borrower_id, second.borrower_id, borrower.mobile, borrower.id_number)


@pytest.fixture
def book(engine: Engine) -> Book:
    return make_book(engine)


@pytest.fixture
def pinned_app(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    from lenddesk.core.settings import get_settings

    app.state.risk_clock = lambda: NOW
    app.state.desk_clock = lambda: NOW
    monkeypatch.setattr(get_settings(), "channel_keys", {"bank": CHANNEL_KEY})
    return app


def event(
    borrower_id: int, event_id: str, kind: str, at: str, region: str = BEIJING, **extra: Any
) -> dict[str, Any]:
    return {
        "source": "bank",
        "event_id": event_id,
        "borrower_id": borrower_id,
        "kind": kind,
        "at": at,
        "region": region,
        **extra,
    }
