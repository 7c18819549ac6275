"""Collections fixtures: a small book with an overdue borrower, a pinned clock inside the contact
window, and the plan run by the close of business."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lenddesk.core.db import session_factory
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.models import BorrowerContact
from tests.ledger.book import add_loan, add_product

# The loans fall due on the 15th; by 2026-11-30 the first instalment (due 2026-10-15) is overdue.
DISBURSED = date(2026, 9, 15)
CLOSED = date(2026, 11, 30)  # the business date the COB closes; the plan prepares 2026-12-01
CONTACT_DAY = date(2026, 12, 1)
# Tuesday 1 December 2026, 10:00 in Shanghai: inside the 08:00–21:00 window.
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@dataclass
class Book:
    overdue_borrower: int
    overdue_contract: str
    current_borrower: int
    third_party_contact: int


def make_book(engine: Engine) -> Book:
    with session_factory(engine)() as session:
        product = add_product(session)
        overdue = add_loan(session, product, disbursed_on=DISBURSED)
        current = add_loan(session, product, disbursed_on=date(2026, 11, 4))
        friend = BorrowerContact(
            borrower_id=overdue.borrower_id,
            relation="emergency",
            name="王五",
            mobile="13900001111",
            is_third_party=True,
        )
        session.add(friend)
        session.commit()
        book = Book(overdue.borrower_id, overdue.contract_number, current.borrower_id, friend.id)
    run_cob(engine, CLOSED)
    return book


@pytest.fixture
def book(engine: Engine) -> Book:
    return make_book(engine)


@pytest.fixture
def pinned_app(app: FastAPI) -> FastAPI:
    app.state.collections_clock = lambda: NOW
    return app


def session_of(engine: Engine) -> Session:
    return session_factory(engine)()
