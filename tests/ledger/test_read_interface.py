"""The ledger's read interface for other rooms: the SQL it lends to set-based jobs agrees with the
ledger's own arithmetic, and the borrower lookups find what they should."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, bindparam, select, text
from sqlalchemy.orm import Session

from lenddesk.core.db import session_factory
from lenddesk.ledger import read_sql
from lenddesk.ledger import service as ledger
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.models import Borrower, Loan, ScheduleLine
from lenddesk.ledger.owed import COLUMNS, owed_fen, owed_sql
from tests.ledger.book import add_loan, add_product

_COLUMN_NAMES = [name for columns in COLUMNS.values() for name in columns if name]
_amount = st.integers(min_value=0, max_value=10_000_000)


@given(st.fixed_dictionaries({name: _amount for name in _COLUMN_NAMES}))
def test_owed_sql_is_owed_fen_in_sql(line: dict[str, int]) -> None:
    """Over- and under-paid components alike: the SQL amount equals the Python one."""
    columns = ", ".join(f":{name} AS {name}" for name in line)
    with sqlite3.connect(":memory:") as connection:
        (in_sql,) = connection.execute(f"SELECT {owed_sql('s')} FROM (SELECT {columns}) s", line).fetchone()
    assert in_sql == owed_fen(line)


@pytest.fixture
def overdue_book(engine: Engine) -> tuple[int, int]:
    """One borrower overdue since October, one current: (overdue borrower, current borrower)."""
    with session_factory(engine)() as session:
        product = add_product(session)
        overdue = add_loan(session, product, disbursed_on=date(2026, 9, 15))
        current = add_loan(session, product, disbursed_on=date(2026, 11, 4))
        session.commit()
        ids = overdue.borrower_id, current.borrower_id
    run_cob(engine, date(2026, 11, 30))
    return ids


def test_overdue_borrowers_owe_what_their_lines_due_by_the_date_owe(
    engine: Engine, overdue_book: tuple[int, int]
) -> None:
    overdue_id, _ = overdue_book
    as_of = date(2026, 11, 30)
    with session_factory(engine)() as session:
        rows = session.execute(
            text(read_sql.overdue_borrowers(":d")).bindparams(bindparam("d", value=as_of))
        ).all()
        lines = session.scalars(
            select(ScheduleLine)
            .join(Loan, Loan.id == ScheduleLine.loan_id)
            .where(Loan.borrower_id == overdue_id, ScheduleLine.due_on <= as_of)
        ).all()
        loan = session.scalar(select(Loan).where(Loan.borrower_id == overdue_id))
    assert [row.borrower_id for row in rows] == [overdue_id]  # the current borrower is not there
    assert rows[0].owed == sum(owed_fen(line) for line in lines) > 0
    assert rows[0].dpd == loan.days_past_due > 0


def test_the_borrower_lookups_find_by_address_and_by_id(session: Session) -> None:
    borrower = Borrower(
        name="李四", id_number="11010119900101123X", mobile="13800001234", email="li@example.com"
    )
    session.add(borrower)
    session.flush()
    assert ledger.find_borrower_id(session, mobile="13800001234") == borrower.id
    assert ledger.find_borrower_id(session, email="li@example.com") == borrower.id
    assert ledger.find_borrower_id(session, mobile="13900009999") is None
    assert ledger.find_borrower_id(session) is None
    card = ledger.borrower_card(session, borrower.id)
    assert card is not None and (card.name, card.mobile) == ("李四", "13800001234")
    assert not hasattr(card, "id_number")  # the identity number stays in the ledger
    assert session.scalars(ledger.borrower_ids_where("name", "李四")).all() == [borrower.id]
    with pytest.raises(ValueError):
        ledger.borrower_ids_where("id_number", "11010119900101123X")


def test_the_knowledge_check_needs_name_id_and_contract_or_phone(session: Session) -> None:
    loan = add_loan(session, add_product(session), disbursed_on=date(2026, 9, 15))
    borrower = session.get(Borrower, loan.borrower_id)
    assert borrower is not None
    last6 = borrower.id_number[-6:]
    by_contract = ledger.match_identity(
        session, name=borrower.name, id_last6=last6, contract_number=loan.contract_number
    )
    assert by_contract == ledger.IdentityMatch(borrower.id, loan.id)
    by_phone = ledger.match_identity(session, name=borrower.name, id_last6=last6, phone=borrower.mobile)
    assert by_phone == ledger.IdentityMatch(borrower.id, None)
    wrong_id = "000000" if last6 != "000000" else "111111"
    assert (
        ledger.match_identity(session, name=borrower.name, id_last6=wrong_id, phone=borrower.mobile) is None
    )
    assert ledger.match_identity(session, name="别人", id_last6=last6, phone=borrower.mobile) is None
