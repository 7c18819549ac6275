"""Concurrent callers of the negotiation's write paths, shared by the SQLite and PostgreSQL tests.

Each scenario takes a migrated database URL with one user per role (named after the role), runs
its callers in threads released together by a barrier (tests/desk/races.run_together), each in its
own session and transaction, and asserts what must be conserved.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from lenddesk.core.db import make_engine, session_factory
from lenddesk.core.models import AuditEntry
from lenddesk.desk.models import FollowUp
from lenddesk.ledger.models import ScheduleRevision, Waiver
from lenddesk.negotiation import jobs, service
from lenddesk.negotiation.models import Agreement, Proposal
from tests.desk.races import only_refusals, run_together
from tests.negotiation.support import NOW, TODAY, Book, actor, hardship_book


def _proposal(session: Session, book: Book, kind: str) -> int:
    agent = actor(session, "agent")
    case = service.open_case(
        session,
        actor=agent,
        contract_number=book.contract_number,
        ticket_number=book.ticket_number,
        cause="income_drop",
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
    session.commit()
    return proposal.id


def _setup(url: str, books: int = 1) -> tuple[sessionmaker[Session], list[Book]]:
    factory = session_factory(make_engine(url))
    with factory() as session:
        made = [hardship_book(session, sequence=100 + index) for index in range(books)]
    return factory, made


def _accept(proposal_id: int, evidence: str = "同意"):  # type: ignore[no-untyped-def]
    def call(session: Session) -> Agreement:
        return service.accept(
            session,
            actor=actor(session, "agent"),
            proposal_id=proposal_id,
            channel="phone",
            evidence_text=evidence,
            accepted_at=NOW,
            now=NOW,
        ).agreement

    return call


def two_accepts_make_one_agreement(url: str) -> None:
    factory, (book,) = _setup(url)
    with factory() as session:
        proposal_id = _proposal(session, book, "combined")
        service.approve_proposal(
            session, actor=actor(session, "team_lead"), proposal_id=proposal_id, comment="", now=NOW
        )
        session.commit()
    outcome = run_together(factory, [_accept(proposal_id), _accept(proposal_id)])
    only_refusals(outcome, "already_accepted")
    assert len(outcome.results) == 1 and len(outcome.errors) == 1
    with factory() as session:
        assert session.scalar(select(func.count(Agreement.id))) == 1
        assert session.scalar(select(func.count(ScheduleRevision.id))) == 1
        assert session.scalar(select(func.count(Waiver.id))) == 2  # penalty and late fee, once
        assert service.verify_agreements(session).ok


def two_approvals_approve_once(url: str) -> None:
    factory, (book,) = _setup(url)
    with factory() as session:
        proposal_id = _proposal(session, book, "reinstalment")

    def decide(username: str, approve: bool):  # type: ignore[no-untyped-def]
        def call(session: Session) -> Proposal:
            decide = service.approve_proposal if approve else service.reject_proposal
            return decide(
                session, actor=actor(session, username), proposal_id=proposal_id, comment=username, now=NOW
            )

        return call

    outcome = run_together(
        factory, [decide("team_lead", True), decide("compliance", True), decide("admin", False)]
    )
    only_refusals(outcome, "proposal_decided")
    assert len(outcome.results) == 1 and len(outcome.errors) == 2
    with factory() as session:
        proposal = session.get(Proposal, proposal_id)
        assert proposal is not None and proposal.decided_by == outcome.results[0].decided_by


def agreements_on_different_loans_chain_in_turn(url: str) -> None:
    factory, books = _setup(url, books=3)
    with factory() as session:
        proposals = [_proposal(session, book, "extension") for book in books]
    outcome = run_together(
        factory, [_accept(proposal_id, f"同意 {i}") for i, proposal_id in enumerate(proposals)]
    )
    assert not outcome.errors, outcome.errors
    with factory() as session:
        seqs = session.scalars(select(Agreement.seq).order_by(Agreement.seq)).all()
        assert seqs == [1, 2, 3]
        check = service.verify_agreements(session)
        assert check.ok and check.checked == 3


def two_closes_break_each_agreement_once(url: str) -> None:
    """Two runs of the after-close step for one date at once (a re-run racing a stuck one): every
    broken agreement of the day is handled by exactly one of them, all of them together."""
    factory, books = _setup(url, books=3)
    with factory() as session:
        proposals = [_proposal(session, book, "combined") for book in books]
        lead = actor(session, "team_lead")
        for proposal_id in proposals:
            if session.get(Proposal, proposal_id).status == "pending_approval":  # type: ignore[union-attr]
                service.approve_proposal(session, actor=lead, proposal_id=proposal_id, comment="", now=NOW)
        session.commit()
        agreements = [_accept(proposal_id)(session) for proposal_id in proposals]
        session.commit()
        day = max(a.condition_due_on for a in agreements if a.condition_due_on) + timedelta(days=1)
        waiver_ids = [w for a in agreements for w in a.conditional_waiver_ids or []]
    assert len(waiver_ids) == 6  # penalty and late fee of each loan

    def close(session: Session) -> dict[str, int]:
        with session.get_bind().connect() as connection:  # type: ignore[union-attr]
            return jobs.judge_agreements(connection, day)

    outcome = run_together(factory, [close, close])
    assert not outcome.errors, outcome.errors
    assert sorted(result["broken_handled"] for result in outcome.results) == [0, 3]
    with factory() as session:
        assert set(session.scalars(select(Agreement.status))) == {"broken"}
        assert set(session.scalars(select(Waiver.status).where(Waiver.id.in_(waiver_ids)))) == {"reinstated"}
        assert session.scalar(select(func.count(FollowUp.id))) == 3
        broken = session.scalars(
            select(AuditEntry.entity_id).where(AuditEntry.action == "negotiation.agreement.broken")
        ).all()
        assert sorted(broken) == sorted(a.number for a in agreements)


SCENARIOS = [
    two_accepts_make_one_agreement,
    two_approvals_approve_once,
    agreements_on_different_loans_chain_in_turn,
    two_closes_break_each_agreement_once,
]
