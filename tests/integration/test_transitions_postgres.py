"""Bucket transitions on PostgreSQL: the same-day cure and reversal closes, and concurrent upserts of
one loan's day leave exactly one row (on SQLite too)."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lenddesk.core.db import make_engine, session_factory, upgrade_database
from lenddesk.ledger import transitions
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.models import BucketTransition, Loan
from tests.ledger import factories
from tests.ledger.test_loan_state import DISBURSED, cure_then_reverse


@pytest.fixture
def pg_engine(pg_url: str) -> Engine:
    upgrade_database(pg_url)
    engine = make_engine(pg_url)
    yield engine  # type: ignore[misc]
    engine.dispose()


def test_a_cure_reversed_the_same_day_closes_on_postgres(pg_engine: Engine) -> None:
    with session_factory(pg_engine)() as session:
        factories.product(session)
        loan_id = factories.loan(session, disbursed_on=DISBURSED).id
        session.commit()
    run_cob(pg_engine, date(2026, 3, 20))
    today = date(2026, 3, 21)
    with session_factory(pg_engine)() as session:
        cure_then_reverse(session, loan_id, today)
        session.commit()
    assert run_cob(pg_engine, today).business_dates == [today]
    with session_factory(pg_engine)() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        assert (loan.status, loan.bucket, loan.days_past_due) == ("overdue", "M2", 34)
        rows = session.scalars(
            select(BucketTransition).where(
                BucketTransition.loan_id == loan_id, BucketTransition.business_date == today
            )
        ).all()
        assert rows == []


def upsert_at_once(engine: Engine, loan_id: int, day: date, targets: list[str]) -> list[BaseException]:
    """Each thread records the loan moving from M1 to its target on the same day, all at once."""
    barrier = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def worker(target: str) -> None:
        try:
            with Session(engine) as session:
                barrier.wait()
                transitions.record(
                    session, loan_id=loan_id, business_date=day, from_bucket="M1", to_bucket=target,
                    days_past_due=0 if target == "M0" else 40,
                )  # fmt: skip
                session.commit()
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_concurrent_upserts_of_one_loans_day_leave_one_row(
    database: str, request: pytest.FixtureRequest, template_db: Path, tmp_path: Path
) -> None:
    if database == "postgresql":
        engine = request.getfixturevalue("pg_engine")
    else:
        path = tmp_path / "book.db"
        path.write_bytes(template_db.read_bytes())
        engine = make_engine(f"sqlite:///{path}")
    with session_factory(engine)() as session:
        factories.product(session)
        loan_id = factories.loan(session, disbursed_on=DISBURSED).id
        session.commit()
    day = date(2026, 3, 21)

    errors = upsert_at_once(engine, loan_id, day, ["M0", "M2", "M3", "M0", "M2", "M3"])

    assert errors == []
    with session_factory(engine)() as session:
        rows = session.scalars(select(BucketTransition).where(BucketTransition.loan_id == loan_id)).all()
        assert len(rows) == 1
        (row,) = rows
        assert (row.business_date, row.from_bucket) == (day, "M1") and row.to_bucket in ("M0", "M2", "M3")
