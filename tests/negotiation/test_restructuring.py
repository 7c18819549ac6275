"""The ledger's restructuring write path (ledger/service/restructuring.py) as negotiation uses it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.core.errors import Conflict, Unprocessable
from lenddesk.ledger import service as ledger
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.models import Loan, Repayment, ScheduleLine, ScheduleRevision
from lenddesk.ledger.schedule import add_months
from lenddesk.negotiation.plans import spread
from tests.negotiation.support import TODAY, Book, actor


def plan(
    session: Session, book: Book, *, interest_each: int = 10_000, months: int = 12
) -> list[ledger.NewInstalment]:
    basis = ledger.restructuring_basis(session, contract_number=book.contract_number)
    principal = sum(line.principal for line in basis.lines)
    penalty = sum(line.penalty for line in basis.lines)
    late_fee = sum(line.late_fee for line in basis.lines)
    parts = spread(principal, months)
    return [
        ledger.NewInstalment(
            add_months(TODAY, k + 1),
            parts[k],
            interest_each,
            penalty if k == 0 else 0,
            late_fee if k == 0 else 0,
        )
        for k in range(months)
    ]


def counts(session: Session) -> tuple[int, int]:
    session.expire_all()
    return (
        session.scalar(select(func.count(ScheduleRevision.id))) or 0,
        session.scalar(select(func.count(ScheduleLine.id))) or 0,
    )


def test_a_plan_that_does_not_match_the_ledger_is_refused(session: Session, book: Book) -> None:
    instalments = plan(session, book)
    instalments[0] = ledger.NewInstalment(instalments[0].due_on, instalments[0].principal_fen + 1, 0)
    with pytest.raises(Conflict) as refused:
        ledger.restructure(
            session,
            loan_id=book.loan_id,
            instalments=instalments,
            on=TODAY,
            actor=actor(session, "agent"),
            kind="reinstalment",
            reference="test",
        )
    assert refused.value.code == "schedule_changed"


def test_a_plan_beyond_the_cost_cap_is_refused(session: Session, book: Book) -> None:
    before = counts(session)
    with pytest.raises(Unprocessable) as refused:
        ledger.restructure(
            session,
            loan_id=book.loan_id,
            instalments=plan(session, book, interest_each=500_000),
            on=TODAY,
            actor=actor(session, "agent"),
            kind="reinstalment",
            reference="test",
        )
    assert refused.value.code == "cost_cap_exceeded"
    session.rollback()
    assert counts(session) == before


def test_restructured_loan_keeps_history_ages_and_settles(session: Session, book: Book) -> None:
    lines_before = counts(session)[1]
    agent, lead = actor(session, "agent"), actor(session, "team_lead")
    # (Penalties carried onto instalments not yet due are not in the ledger's settlement quote yet:
    # docs/LEDGER.md "Restructuring". This plan carries none: they are waived first.)
    for component in ("penalty", "late_fee"):
        owed = sum(
            getattr(line, component)
            for line in ledger.restructuring_basis(session, contract_number=book.contract_number).lines
        )
        ledger.waive(
            session,
            loan_id=book.loan_id,
            component=component,
            amount_fen=owed,
            reason="协商",
            requested_by=agent,
            approved_by=lead,
            today=TODAY,
        )
    ledger.restructure(
        session,
        loan_id=book.loan_id,
        instalments=plan(session, book, months=12),
        on=TODAY,
        actor=agent,
        kind="reinstalment",
        reference="test",
    )
    session.commit()
    revisions, lines = counts(session)
    assert revisions == 1 and lines == lines_before  # 12 new lines re-use open rows; none deleted
    loan = session.get(Loan, book.loan_id)
    assert loan is not None and loan.status == "current" and loan.next_due_on == add_months(TODAY, 1)
    # A close of business later: nothing more is charged (the loan is current, closed lines owe nothing).
    penalties = select(func.sum(ScheduleLine.penalty_fen + ScheduleLine.late_fee_fen)).where(
        ScheduleLine.loan_id == book.loan_id
    )
    charged = session.scalar(penalties)
    run_cob(session.get_bind(), date(2026, 12, 10))
    session.expire_all()
    assert session.scalar(penalties) == charged
    quote = ledger.settlement_quote(session, contract_number=book.contract_number, on=date(2026, 12, 10))
    ledger.post_repayment(
        session,
        actor=agent,
        contract_number=book.contract_number,
        channel="alipay",
        external_reference="SETTLE",
        amount_fen=quote.total_fen,
        value_date=date(2026, 12, 10),
        today=date(2026, 12, 10),
        kind="early_full",
    )
    session.commit()
    loan = session.get(Loan, book.loan_id)
    assert loan is not None and loan.status == "settled"


def test_settling_a_restructured_loan_pays_the_penalties_carried_onto_later_instalments(
    session: Session, book: Book
) -> None:
    """A plan spreads the overdue penalty and late fee onto its first new instalment, not yet due.
    The settlement quote used to leave them out (it counted only instalments already due), so paying
    the quoted amount left the fees owed and the loan open."""
    agent = actor(session, "agent")
    instalments = plan(session, book, months=12)
    carried = instalments[0].penalty_fen + instalments[0].late_fee_fen
    assert carried > 0
    ledger.restructure(
        session,
        loan_id=book.loan_id,
        instalments=instalments,
        on=TODAY,
        actor=agent,
        kind="reinstalment",
        reference="test",
    )
    session.commit()
    on = date(2026, 12, 10)
    run_cob(session.get_bind(), on)
    session.expire_all()
    quote = ledger.settlement_quote(session, contract_number=book.contract_number, on=on)
    assert quote.carried_fees_fen == carried
    ledger.post_repayment(
        session,
        actor=agent,
        contract_number=book.contract_number,
        channel="alipay",
        external_reference="SETTLE-CARRIED",
        amount_fen=quote.total_fen,
        value_date=on,
        today=on,
        kind="early_full",
    )
    session.commit()
    loan = session.get(Loan, book.loan_id)
    assert loan is not None and loan.status == "settled" and loan.credit_balance_fen == 0
    owed = select(
        func.sum(
            ScheduleLine.penalty_fen
            + ScheduleLine.late_fee_fen
            - ScheduleLine.paid_penalty_fen
            - ScheduleLine.paid_late_fee_fen
            - ScheduleLine.waived_penalty_fen
            - ScheduleLine.waived_late_fee_fen
        )
    ).where(ScheduleLine.loan_id == book.loan_id)
    assert session.scalar(owed) == 0


def test_replays_are_refused_on_a_restructured_loan(session: Session, book: Book) -> None:
    agent, lead = actor(session, "agent"), actor(session, "team_lead")
    ledger.restructure(
        session,
        loan_id=book.loan_id,
        instalments=plan(session, book),
        on=TODAY,
        actor=agent,
        kind="reinstalment",
        reference="test",
    )
    session.commit()
    repayment = session.scalars(select(Repayment).where(Repayment.loan_id == book.loan_id)).first()
    assert repayment is not None
    ledger.request_reversal(session, actor=agent, repayment_id=repayment.id, reason="退票")
    with pytest.raises(Conflict) as refused:
        ledger.approve_reversal(session, actor=lead, repayment_id=repayment.id, today=TODAY)
    assert refused.value.code == "loan_restructured"
