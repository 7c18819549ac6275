"""Concurrent callers of the negotiation's write paths, shared by the SQLite and PostgreSQL tests.

Each scenario takes a migrated database URL with one user per role (named after the role), runs
its callers in threads released together by a barrier (tests/desk/races.run_together), each in its
own session and transaction, and asserts what must be conserved.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from lenddesk.core.db import make_engine, session_factory
from lenddesk.ledger.models import ScheduleRevision, Waiver
from lenddesk.negotiation import service
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


SCENARIOS = [
    two_accepts_make_one_agreement,
    two_approvals_approve_once,
    agreements_on_different_loans_chain_in_turn,
]
