"""A loan's standing checked against its schedule: what every close or posting must leave behind.

Shared by the property test of postings and closes (test_loan_state_properties.py) and the
scale-out test on PostgreSQL (tests/integration/test_scale_out_postgres.py).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core.policy import get_policy
from lenddesk.ledger.delinquency import DelinquencyRules, loan_standing
from lenddesk.ledger.models import BucketTransition, Loan, ScheduleLine
from lenddesk.ledger.owed import owed_fen


def assert_standing_agrees(session: Session, loan: Loan, day: date, *, closing: bool) -> None:
    """Status, bucket and days past due are `loan_standing` of the loan's schedule on `day`."""
    rules = DelinquencyRules.from_policy(get_policy())
    lines = session.scalars(select(ScheduleLine).where(ScheduleLine.loan_id == loan.id)).all()
    owing = [line.due_on for line in lines if owed_fen(line) > 0]
    oldest = min(owing, default=None)
    assert loan.oldest_unpaid_due_on == oldest
    days = (day - oldest).days if oldest is not None and oldest < day else 0
    if loan.status == "written_off":
        assert loan.bucket == "WO" and loan.written_off_on is not None
        return
    expected = loan_standing(days, rules, owes=bool(owing), write_off=closing)
    assert (loan.status, loan.bucket, loan.days_past_due) == (
        expected.status,
        expected.bucket,
        expected.days_past_due,
    ), f"loan {loan.id} on {day}"


def assert_history_agrees(session: Session, loan: Loan) -> None:
    """One transition a day at most; each starts where the last ended; the last ends in the bucket."""
    rows = session.scalars(
        select(BucketTransition)
        .where(BucketTransition.loan_id == loan.id)
        .order_by(BucketTransition.business_date)
    ).all()
    days = [row.business_date for row in rows]
    assert len(days) == len(set(days))
    bucket = "M0"
    for row in rows:
        assert row.from_bucket == bucket and row.to_bucket != row.from_bucket, (loan.id, row.business_date)
        bucket = row.to_bucket
    assert bucket == loan.bucket
