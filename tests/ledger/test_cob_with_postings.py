"""The close of business and the posting rules agree: credit pays what falls due before COB judges it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lenddesk.ledger import service
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.models import Loan, ScheduleLine
from tests.ledger import factories


def test_credit_from_an_over_payment_keeps_the_next_instalment_current(
    engine: Engine, session: Session
) -> None:
    factories.product(session)
    loan = factories.loan(session, disbursed_on=date(2026, 1, 15))
    lines = session.query(ScheduleLine).filter_by(loan_id=loan.id).order_by(ScheduleLine.period).all()
    first, second = lines[0], lines[1]
    instalment = first.principal_fen + first.interest_fen
    service.post_repayment(
        session,
        actor=factories.AGENT,
        contract_number=loan.contract_number,
        channel="wechat_pay",
        external_reference="WX-OVERPAY-1",
        amount_fen=instalment + second.principal_fen + second.interest_fen,
        value_date=date(2026, 2, 10),
        today=date(2026, 2, 10),
    )
    session.commit()
    loan_id = loan.id

    run_cob(engine, date(2026, 3, 20))  # catches up from 2026-02-10's book to past the second due date

    session.expire_all()
    closed = session.get(Loan, loan_id)
    assert closed is not None
    assert closed.credit_balance_fen == 0
    assert closed.status == "current" and closed.days_past_due == 0 and closed.bucket == "M0"
    second_line = session.get(ScheduleLine, second.id)
    assert second_line is not None and second_line.paid_off_on is not None


def test_without_credit_the_missed_instalment_is_overdue(engine: Engine, session: Session) -> None:
    factories.product(session)
    loan = factories.loan(session, disbursed_on=date(2026, 1, 15))
    session.commit()
    loan_id = loan.id

    run_cob(engine, date(2026, 2, 25))

    session.expire_all()
    closed = session.get(Loan, loan_id)
    assert closed is not None
    assert closed.status == "overdue" and closed.days_past_due == 10 and closed.bucket == "M1"
