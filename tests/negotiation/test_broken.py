"""The close of business judges agreements: a missed conditional payment breaks the agreement,
reinstates the conditional waiver and gives the owner a follow-up; a kept one is marked kept."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.desk.models import FollowUp
from lenddesk.ledger import service as ledger
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.models import CobRun, Loan, Waiver
from lenddesk.negotiation import service
from lenddesk.negotiation.models import Agreement
from tests.negotiation.support import NOW, TODAY, Book, actor


def agree(session: Session, book: Book, kind: str = "combined") -> Agreement:
    agent, lead = actor(session, "agent"), actor(session, "team_lead")
    case = service.open_case(
        session,
        actor=agent,
        contract_number=book.contract_number,
        ticket_number=book.ticket_number,
        cause="illness",
        monthly_capacity_fen=150_000,
        now=NOW,
    )
    option = next(o for o in service.compare_options(session, case=case, on=TODAY).options if o.kind == kind)
    proposal = service.propose(
        session,
        actor=agent,
        case_id=case.id,
        chosen_option_id=service.option_id(case.id, option.slug),
        now=NOW,
    )
    if proposal.status == "pending_approval":
        service.approve_proposal(session, actor=lead, proposal_id=proposal.id, comment="同意", now=NOW)
    result = service.accept(
        session,
        actor=agent,
        proposal_id=proposal.id,
        channel="phone",
        evidence_text="同意",
        accepted_at=NOW,
        now=NOW,
    )
    session.commit()
    return result.agreement


def test_missed_first_instalment_breaks_the_agreement_once(session: Session, book: Book) -> None:
    agreement = agree(session, book)
    assert agreement.condition_due_on is not None and agreement.conditional_waiver_ids
    owed_before = session.get(Loan, book.loan_id)
    assert owed_before is not None and owed_before.status == "current"
    day_after = agreement.condition_due_on + timedelta(days=1)
    summary = run_cob(session.get_bind(), day_after)
    session.expire_all()
    assert summary.business_dates[-1] == day_after
    stored = session.get(Agreement, agreement.id)
    assert stored is not None and stored.status == "broken" and stored.closed_on == day_after
    waivers = session.scalars(select(Waiver).where(Waiver.id.in_(agreement.conditional_waiver_ids))).all()
    assert {w.status for w in waivers} == {"reinstated"}
    loan = session.get(Loan, book.loan_id)
    assert loan is not None and loan.status == "overdue"
    follow_ups = session.scalars(select(FollowUp)).all()
    assert len(follow_ups) == 1 and agreement.number in follow_ups[0].note
    assert follow_ups[0].owner_id == actor(session, "agent").user_id
    # Idempotent: the same date again (a crash before it was marked done) changes nothing.
    session.execute(
        CobRun.__table__.update().where(CobRun.business_date == day_after).values(status="running")
    )
    session.commit()
    run_cob(session.get_bind(), day_after)
    session.expire_all()
    assert session.scalar(select(func.count(FollowUp.id))) == 1
    assert session.scalar(select(Waiver.status).where(Waiver.id == agreement.conditional_waiver_ids[0])) == (
        "reinstated"
    )


def test_paid_first_instalment_keeps_the_agreement(session: Session, book: Book) -> None:
    agreement = agree(session, book)
    assert agreement.condition_due_on is not None and agreement.condition_amount_fen
    admin = actor(session, "admin")
    ledger.post_repayment(
        session,
        actor=admin,
        contract_number=book.contract_number,
        channel="wechat_pay",
        external_reference="FIRST-1",
        amount_fen=agreement.condition_amount_fen,
        value_date=agreement.condition_due_on,
        today=agreement.condition_due_on,
    )
    session.commit()
    run_cob(session.get_bind(), agreement.condition_due_on + timedelta(days=1))
    session.expire_all()
    stored = session.get(Agreement, agreement.id)
    assert stored is not None and stored.status == "kept"
    assert {w.status for w in session.scalars(select(Waiver)).all()} == {"applied"}
    assert session.scalar(select(func.count(FollowUp.id))) == 0
    loan = session.get(Loan, book.loan_id)
    assert loan is not None and loan.status == "current"
