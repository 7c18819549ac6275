"""One truth for a loan's state: postings, reversals and the close of business agree on status,
bucket and days past due, and a business date has at most one bucket transition per loan."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lenddesk.ledger import service
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.models import BucketTransition, Loan
from tests.ledger import factories
from tests.ledger.factories import AGENT, LEAD

DISBURSED = date(2026, 1, 15)  # instalments fall due on the 15th: 2026-02-15 is the first


def cure_then_reverse(session: Session, loan_id: int, today: date) -> None:
    """Pay everything overdue on `today`, then reverse that payment the same day."""
    loan = session.get(Loan, loan_id)
    assert loan is not None
    overdue = service.settlement_quote(session, contract_number=loan.contract_number, on=today).overdue_fen
    result = service.post_repayment(
        session,
        actor=AGENT,
        contract_number=loan.contract_number,
        channel="alipay",
        external_reference=f"CURE-{loan_id}-{today}",
        amount_fen=overdue,
        value_date=today,
        today=today,
    )
    assert (loan.status, loan.bucket, loan.days_past_due) == ("current", "M0", 0)
    service.request_reversal(session, actor=AGENT, repayment_id=result.repayment.id, reason="付款被银行退回")
    service.approve_reversal(session, actor=LEAD, repayment_id=result.repayment.id, today=today)


def transitions_of(session: Session, loan_id: int) -> list[tuple[date, str, str, int]]:
    rows = session.scalars(
        select(BucketTransition)
        .where(BucketTransition.loan_id == loan_id)
        .order_by(BucketTransition.business_date)
    )
    return [(row.business_date, row.from_bucket, row.to_bucket, row.days_past_due) for row in rows]


def test_a_cure_reversed_the_same_day_leaves_a_consistent_loan_and_a_close_that_runs(
    engine: Engine, session: Session
) -> None:
    factories.product(session)
    loan_id = factories.loan(session, disbursed_on=DISBURSED).id
    session.commit()
    run_cob(engine, date(2026, 3, 20))  # 33 days past the 2026-02-15 instalment: M2
    session.expire_all()
    today = date(2026, 3, 21)

    cure_then_reverse(session, loan_id, today)
    session.commit()

    loan = session.get(Loan, loan_id)
    assert loan is not None
    assert (loan.status, loan.bucket, loan.days_past_due) == ("overdue", "M2", 34)
    summary = run_cob(engine, today)  # failed with UNIQUE(bucket_transitions.loan_id, business_date)
    assert summary.business_dates == [today]
    session.expire_all()
    assert (loan.status, loan.bucket, loan.days_past_due) == ("overdue", "M2", 34)
    # Out to M0 and back to M2 within the day: no transition for that day.
    assert [row for row in transitions_of(session, loan_id) if row[0] == today] == []


def test_a_reversal_that_crosses_a_bucket_bound_records_the_roll_cob_would_have_recorded(
    engine: Engine, session: Session
) -> None:
    factories.product(session)
    loan_id = factories.loan(session, disbursed_on=DISBURSED).id
    session.commit()
    run_cob(engine, date(2026, 3, 17))  # 30 days past due: still M1
    session.expire_all()
    today = date(2026, 3, 18)  # 31 days: M2

    cure_then_reverse(session, loan_id, today)
    session.commit()
    run_cob(engine, today)

    session.expire_all()
    loan = session.get(Loan, loan_id)
    assert loan is not None
    assert (loan.status, loan.bucket, loan.days_past_due) == ("overdue", "M2", 31)
    assert [row for row in transitions_of(session, loan_id) if row[0] == today] == [(today, "M1", "M2", 31)]


def test_the_close_after_a_cure_posted_the_same_day_keeps_the_cure(engine: Engine, session: Session) -> None:
    factories.product(session)
    loan_id = factories.loan(session, disbursed_on=DISBURSED).id
    session.commit()
    run_cob(engine, date(2026, 3, 20))
    session.expire_all()
    today = date(2026, 3, 21)
    loan = session.get(Loan, loan_id)
    assert loan is not None
    overdue = service.settlement_quote(session, contract_number=loan.contract_number, on=today).overdue_fen
    post = service.post_repayment(
        session,
        actor=AGENT,
        contract_number=loan.contract_number,
        channel="alipay",
        external_reference="CURE-ONLY",
        amount_fen=overdue,
        value_date=today,
        today=today,
    )
    assert post.repayment.status == "posted"
    session.commit()

    run_cob(engine, today + timedelta(days=1))

    session.expire_all()
    assert (loan.status, loan.bucket, loan.days_past_due) == ("current", "M0", 0)
    assert [row for row in transitions_of(session, loan_id) if row[0] == today] == [(today, "M2", "M0", 0)]


def test_a_reversal_on_a_written_off_loan_leaves_it_written_off(engine: Engine, session: Session) -> None:
    factories.product(session)
    loan = factories.loan(session, disbursed_on=DISBURSED)
    posted = service.post_repayment(
        session,
        actor=AGENT,
        contract_number=loan.contract_number,
        channel="alipay",
        external_reference="SMALL",
        amount_fen=10_000,
        value_date=date(2026, 2, 20),
        today=date(2026, 2, 20),
    )
    session.commit()
    loan_id, repayment_id = loan.id, posted.repayment.id
    run_cob(engine, date(2026, 8, 15))  # 181 days past the 2026-02-15 instalment: written off
    session.expire_all()
    written_off = session.get(Loan, loan_id)
    assert written_off is not None
    assert (written_off.status, written_off.bucket, written_off.days_past_due) == ("written_off", "WO", 181)
    history = transitions_of(session, loan_id)

    service.request_reversal(session, actor=AGENT, repayment_id=repayment_id, reason="银行退票")
    service.approve_reversal(session, actor=LEAD, repayment_id=repayment_id, today=date(2026, 8, 20))
    session.commit()

    assert (written_off.status, written_off.bucket, written_off.days_past_due) == ("written_off", "WO", 181)
    assert transitions_of(session, loan_id) == history
