"""Property: service postings and reversals interleaved with closes of business on random days.

Loans made and repaid through the ledger's service (not the seeder's bulk rows): every step moves
the business date on, posts regular, back-dated and early repayments or reverses earlier ones on
that date, and on some days runs the close of business (before or after the postings, catching up
the days it skipped). After every step: the close never fails, every loan's status, bucket and
days past due are what `loan_standing` says for its schedule, each loan has at most one bucket
transition a day and its transitions chain to its bucket, and no fen is lost or made up.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lenddesk.core.db import make_engine, session_factory
from lenddesk.core.errors import LendDeskError
from lenddesk.ledger import service
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.models import Loan, Repayment, ScheduleLine
from lenddesk.ledger.owed import owed_fen
from tests.ledger import factories
from tests.ledger.factories import AGENT, LEAD
from tests.ledger.standing import assert_history_agrees, assert_standing_agrees

FIRST_CLOSE = date(2026, 2, 5)
LOANS = (
    ("EI12", "equal_instalment", 12, 1_200_000, date(2026, 1, 10)),
    ("BL3", "bullet", 3, 500_000, date(2026, 1, 20)),
    ("EP6", "equal_principal", 6, 600_000, date(2026, 2, 1)),
)
KINDS = ("overdue", "instalment", "part", "early_full", "early_partial", "reverse")

step = st.fixed_dictionaries(
    {
        "advance": st.integers(1, 25),
        "close": st.sampled_from(["after", "before", "none"]),
        "actions": st.lists(
            st.tuples(st.integers(0, len(LOANS) - 1), st.sampled_from(KINDS), st.integers(0, 40)),
            max_size=3,
        ),
    }
)


class Book:
    """A fresh ledger database with the loans of `LOANS`, closed up to FIRST_CLOSE."""

    def __init__(self, template: Path, directory: Path) -> None:
        path = directory / "book.db"
        shutil.copy(template, path)
        self.engine: Engine = make_engine(f"sqlite:///{path}")
        self.session: Session = session_factory(self.engine)()
        self.loan_ids: list[int] = []
        borrower = factories.borrower(self.session)
        for code, method, term, principal, disbursed in LOANS:
            factories.product(self.session, code=code, method=method, term=term, late_fee_fixed_fen=2000)
            loan = factories.loan(
                self.session, principal_fen=principal, disbursed_on=disbursed, product_code=code,
                borrower_id=borrower.id,
            )  # fmt: skip
            self.loan_ids.append(loan.id)
        self.session.commit()
        self.references = 0
        self.close(FIRST_CLOSE)

    def close(self, day: date) -> None:
        self.session.close()
        run_cob(self.engine, day)  # must never fail

    def dispose(self) -> None:
        self.session.close()
        self.engine.dispose()

    def act(self, today: date, loan_index: int, kind: str, offset: int) -> int | None:
        """One posting or reversal on `today`; returns the loan id it changed (None if refused)."""
        session = self.session
        loan = session.get(Loan, self.loan_ids[loan_index])
        assert loan is not None
        try:
            if kind == "reverse":
                self._reverse(loan, offset, today)
            else:
                self._post(loan, kind, max(today - timedelta(days=offset % 12), loan.disbursed_on), today)
        except LendDeskError:
            session.rollback()
            return None
        session.commit()
        return loan.id

    def _post(self, loan: Loan, kind: str, value_date: date, today: date) -> None:
        contract = loan.contract_number
        if kind in ("early_full", "early_partial"):
            quote = service.settlement_quote(self.session, contract_number=contract, on=value_date)
            amount = quote.total_fen if kind == "early_full" else quote.before_principal_fen + 50_000
        else:
            lines = self.session.scalars(
                select(ScheduleLine).where(ScheduleLine.loan_id == loan.id).order_by(ScheduleLine.period)
            ).all()
            owing = [owed_fen(line) for line in lines if owed_fen(line) > 0]
            if kind == "overdue":
                amount = sum(owed_fen(line) for line in lines if line.due_on < value_date)
            else:
                amount = owing[0] if owing else 0
                amount = amount // 3 if kind == "part" else amount
        self.references += 1
        service.post_repayment(
            self.session,
            actor=AGENT,
            contract_number=contract,
            channel="alipay",
            external_reference=f"P{self.references}",
            amount_fen=max(amount, 1),
            value_date=value_date,
            today=today,
            kind="regular" if kind in ("overdue", "instalment", "part") else kind,
        )

    def _reverse(self, loan: Loan, offset: int, today: date) -> None:
        posted = self.session.scalars(
            select(Repayment)
            .where(Repayment.loan_id == loan.id, Repayment.status == "posted")
            .order_by(Repayment.id)
        ).all()
        if not posted:
            raise LendDeskError("nothing to reverse", "nothing to reverse")
        repayment = posted[offset % len(posted)]
        service.request_reversal(self.session, actor=AGENT, repayment_id=repayment.id, reason="退票")
        service.approve_reversal(self.session, actor=LEAD, repayment_id=repayment.id, today=today)


def assert_money_conserved(session: Session, loan: Loan) -> None:
    """Posted = paid on the lines + early repayment fees + credit balance (reversed ones count nothing)."""
    repayments = session.scalars(
        select(Repayment).where(Repayment.loan_id == loan.id, Repayment.status != "reversed")
    ).all()
    lines = session.scalars(select(ScheduleLine).where(ScheduleLine.loan_id == loan.id)).all()
    paid = sum(
        line.paid_principal_fen + line.paid_interest_fen + line.paid_penalty_fen + line.paid_late_fee_fen
        for line in lines
    )
    fees = sum(entry.get("early_repayment_fee", 0) for r in repayments for entry in (r.allocation or []))
    assert sum(r.amount_fen for r in repayments) == paid + fees + loan.credit_balance_fen
    assert loan.outstanding_principal_fen == loan.principal_fen - sum(
        line.paid_principal_fen for line in lines
    )


def check(book: Book, touched: set[int], today: date, *, closed_today: bool) -> None:
    session = book.session
    session.expire_all()
    for loan_id in book.loan_ids:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        if loan_id in touched:
            assert_standing_agrees(session, loan, today, closing=False)
        elif closed_today:
            assert_standing_agrees(session, loan, today, closing=True)
        assert_history_agrees(session, loan)
        assert_money_conserved(session, loan)


@pytest.fixture
def books(template_db: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    made: list[Book] = []

    def make() -> Book:
        made.append(Book(template_db, tmp_path_factory.mktemp("state")))
        return made[-1]

    yield make
    for book in made:
        book.dispose()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=10))
def test_postings_reversals_and_closes_in_any_order_keep_one_truth(
    books, steps: list[dict[str, Any]]
) -> None:  # type: ignore[no-untyped-def]
    book = books()
    today = FIRST_CLOSE
    for item in steps:
        today += timedelta(days=item["advance"])
        if item["close"] == "before":
            book.close(today)
        touched = set()
        for loan_index, kind, offset in item["actions"]:
            loan_id = book.act(today, loan_index, kind, offset)
            if loan_id is not None:
                touched.add(loan_id)
        check(book, touched, today, closed_today=item["close"] == "before")
        if item["close"] == "after":
            book.close(today)
            check(book, set(), today, closed_today=True)
