"""HTTP API of the negotiation room: thin routes over negotiation.service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.orm import Session

from lenddesk.core import audit, auth
from lenddesk.core.calendar import business_date
from lenddesk.core.http import Day, Id, db_session, errors, request_now
from lenddesk.core.models import User
from lenddesk.core.money import parse_yuan
from lenddesk.negotiation import plans, service
from lenddesk.negotiation.models import Agreement, HardshipCase, Proposal
from lenddesk.negotiation.roles import APPROVERS, AUDITORS, LIBRARIANS, LIBRARY_READERS, NEGOTIATORS, READERS
from lenddesk.negotiation.schemas import (
    AcceptIn,
    AcceptOut,
    AgreementOut,
    CaseIn,
    CaseOut,
    CloseIn,
    DecisionIn,
    LibraryCaseOut,
    LibraryIn,
    OptionOut,
    OptionsOut,
    ProposalIn,
    ProposalOut,
    VerifyOut,
)

router = APIRouter(prefix="/api/v1/negotiation", tags=["negotiation"])


Now = Depends(request_now)
Capacity = Annotated[
    str | None, Query(max_length=24, description="a trial monthly capacity in yuan, e.g. 1500.00")
]


def _case_out(case: HardshipCase) -> CaseOut:
    return CaseOut(
        case_id=case.id,
        ticket_number=case.ticket_number,
        contract_number=case.contract_number,
        cause=case.cause,
        cause_zh=plans.CAUSES[case.cause],
        monthly_capacity=case.monthly_capacity_fen,
        status=case.status,
        opened_by=case.opened_by,
        opened_at=case.opened_at,
    )


def options_out(case: HardshipCase, comparison: plans.Comparison, capacity_fen: int) -> OptionsOut:
    owed = comparison.outstanding
    return OptionsOut(
        case_id=case.id,
        on=comparison.on,
        monthly_capacity=capacity_fen,
        outstanding={
            "principal": owed.principal,
            "interest": owed.interest,
            "penalty": owed.penalty,
            "fees": owed.fees,
            "total": owed.total,
        },
        continue_as_now={
            "monthly_amount": comparison.continue_monthly,
            "total_to_pay": comparison.continue_total,
        },
        options=[
            OptionOut(
                option_id=service.option_id(case.id, option.slug),
                kind=option.kind,  # type: ignore[arg-type]
                title_zh=option.title_zh,
                monthly_amount=option.monthly_amount,
                term=option.term,
                first_due_date=option.first_due_on,
                total_to_pay=option.total_to_pay,
                extra_cost=option.extra_cost,
                waived=option.waived_fen,
                fits_capacity=option.fits_capacity,
                schedule=[
                    {
                        "period": line.period,
                        "due_date": line.due_on,
                        "principal": line.principal,
                        "interest": line.interest,
                        "fees": line.fees,
                        "total": line.total,
                    }
                    for line in option.lines
                ],
                conditions_zh=list(option.conditions_zh),
                pros_zh=list(option.pros_zh),
                cons_zh=list(option.cons_zh),
                approval=option.approval,  # type: ignore[arg-type]
            )
            for option in comparison.options
        ],
    )


def _proposal_out(proposal: Proposal) -> ProposalOut:
    return ProposalOut(
        proposal_id=proposal.id,
        case_id=proposal.case_id,
        option_id=proposal.option_id,
        title_zh=proposal.title_zh,
        status=proposal.status,  # type: ignore[arg-type]
        approval=proposal.approval_level,
        proposed_by=proposal.proposed_by,
        decided_by=proposal.decided_by,
        decision_comment=proposal.decision_comment,
    )


def _agreement_out(agreement: Agreement) -> AgreementOut:
    return AgreementOut(
        agreement_number=agreement.number,
        seq=agreement.seq,
        case_id=agreement.case_id,
        kind=agreement.kind,
        status=agreement.status,
        text_zh=agreement.text_zh,
        sha256=agreement.sha256,
        previous_sha256=agreement.previous_sha256,
        accepted_on=agreement.accepted_on,
        condition_amount=agreement.condition_amount_fen,
        condition_due_on=agreement.condition_due_on,
    )


@router.post(
    "/cases",
    response_model=CaseOut,
    status_code=201,
    summary="Open a hardship case on a verified ticket and a loan",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def open_case(
    body: CaseIn, session: Session = db_session, user: User = auth.allow(*NEGOTIATORS), now: datetime = Now
) -> CaseOut:
    case = service.open_case(
        session,
        actor=audit.Actor.of(user),
        contract_number=body.contract_number,
        ticket_number=body.ticket_number,
        cause=body.cause,
        monthly_capacity_fen=body.monthly_capacity,
        monthly_income_fen=body.monthly_income,
        monthly_expenses_fen=body.monthly_expenses,
        notes=body.notes,
        evidence=body.evidence,
        now=now,
    )
    return _case_out(case)


@router.get(
    "/cases/{case_id}",
    response_model=CaseOut,
    summary="A hardship case",
    responses=errors(401, 403, 404, 422),
)
def get_case(case_id: Id, session: Session = db_session, user: User = auth.allow(*READERS)) -> CaseOut:
    return _case_out(service.open_case_for(session, actor=audit.Actor.of(user), case_id=case_id))


@router.get(
    "/cases/{case_id}/options",
    response_model=OptionsOut,
    summary="Every plan option for the case's loan on a date, side by side",
    responses=errors(401, 403, 404, 422),
)
def options(
    case_id: Id,
    on: Day | None = None,
    capacity: Capacity = None,
    first_due: Day | None = None,
    session: Session = db_session,
    user: User = auth.allow(*READERS),
    now: datetime = Now,
) -> OptionsOut:
    case = service.open_case_for(session, actor=audit.Actor.of(user), case_id=case_id)
    capacity_fen = parse_yuan(capacity) if capacity is not None else case.monthly_capacity_fen
    comparison = service.compare_options(
        session, case=case, on=on or business_date(now), capacity_fen=capacity_fen, first_due_on=first_due
    )
    return options_out(case, comparison, capacity_fen)


@router.post(
    "/cases/{case_id}/proposals",
    response_model=ProposalOut,
    status_code=201,
    summary="Propose one option to the borrower (approved within authority, else queued for approval)",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def propose(
    case_id: Id,
    body: ProposalIn,
    session: Session = db_session,
    user: User = auth.allow(*NEGOTIATORS),
    now: datetime = Now,
) -> ProposalOut:
    proposal = service.propose(
        session, actor=audit.Actor.of(user), case_id=case_id, chosen_option_id=body.option_id, now=now
    )
    return _proposal_out(proposal)


@router.get(
    "/approvals",
    response_model=list[ProposalOut],
    summary="Proposals waiting for the caller's approval level",
    responses=errors(401, 403),
)
def approvals(session: Session = db_session, user: User = auth.allow(*APPROVERS)) -> list[ProposalOut]:
    return [
        _proposal_out(row.proposal) for row in service.approval_queue(session, actor=audit.Actor.of(user))
    ]


def _decision(
    proposal_id: int, body: DecisionIn, session: Session, user: User, now: datetime, approve: bool
) -> ProposalOut:
    decide = service.approve_proposal if approve else service.reject_proposal
    proposal = decide(
        session, actor=audit.Actor.of(user), proposal_id=proposal_id, comment=body.comment, now=now
    )
    return _proposal_out(proposal)


@router.post(
    "/proposals/{proposal_id}/approve",
    response_model=ProposalOut,
    summary="Approve a waiting proposal (never one's own; the level the authority matrix names)",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def approve(
    proposal_id: Id,
    body: DecisionIn,
    session: Session = db_session,
    user: User = auth.allow(*APPROVERS),
    now: datetime = Now,
) -> ProposalOut:
    return _decision(proposal_id, body, session, user, now, approve=True)


@router.post(
    "/proposals/{proposal_id}/reject",
    response_model=ProposalOut,
    summary="Reject a waiting proposal with a comment",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def reject(
    proposal_id: Id,
    body: DecisionIn,
    session: Session = db_session,
    user: User = auth.allow(*APPROVERS),
    now: datetime = Now,
) -> ProposalOut:
    return _decision(proposal_id, body, session, user, now, approve=False)


@router.post(
    "/proposals/{proposal_id}/accept",
    response_model=AcceptOut,
    status_code=201,
    summary="Record the borrower's acceptance: the agreement is chained and applied to the ledger",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def accept(
    proposal_id: Id,
    body: AcceptIn,
    session: Session = db_session,
    user: User = auth.allow(*NEGOTIATORS),
    now: datetime = Now,
) -> AcceptOut:
    result = service.accept(
        session,
        actor=audit.Actor.of(user),
        proposal_id=proposal_id,
        channel=body.channel,
        evidence_text=body.evidence_text,
        accepted_at=body.accepted_at,
        now=now,
    )
    return AcceptOut(
        agreement_number=result.agreement.number,
        sha256=result.agreement.sha256,
        previous_sha256=result.agreement.previous_sha256,
    )


@router.get(
    "/agreements/verify",
    response_model=VerifyOut,
    summary="Check the agreements' hash chain and name the first tampered record",
    responses=errors(401, 403),
)
def verify(session: Session = db_session, user: User = auth.allow(*AUDITORS)) -> VerifyOut:
    check = service.verify_agreements(session)
    audit.record(
        session,
        audit.Actor.of(user),
        "negotiation.agreements.verify",
        ("negotiation_chain", 1),
        None,
        {"ok": check.ok, "checked": check.checked, "first_tampered": check.first_tampered},
    )
    return VerifyOut(
        ok=check.ok, checked=check.checked, first_tampered=check.first_tampered, reason=check.reason
    )


@router.get(
    "/agreements/{agreement_number}",
    response_model=AgreementOut,
    summary="One agreement: its Chinese text, hashes and status",
    responses=errors(401, 403, 404, 422),
)
def get_agreement(
    agreement_number: Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9]+$")],
    session: Session = db_session,
    user: User = auth.allow(*READERS, "qa"),
) -> AgreementOut:
    agreement = service.get_agreement(session, number=agreement_number)
    service.open_case_for(session, actor=audit.Actor.of(user), case_id=agreement.case_id)
    return _agreement_out(agreement)


@router.post(
    "/cases/{case_id}/close",
    response_model=CaseOut,
    summary="End a negotiation (open proposals are withdrawn)",
    responses=errors(400, 401, 403, 404, 422),
)
def close_case(
    case_id: Id,
    body: CloseIn,
    session: Session = db_session,
    user: User = auth.allow(*NEGOTIATORS),
    now: datetime = Now,
) -> CaseOut:
    case = service.close_case(session, actor=audit.Actor.of(user), case_id=case_id, note=body.note, now=now)
    return _case_out(case)


@router.post(
    "/cases/{case_id}/library",
    response_model=CaseOut,
    summary="Mark a closed negotiation as a success or failure case with its lesson",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def mark_library(
    case_id: Id,
    body: LibraryIn,
    session: Session = db_session,
    user: User = auth.allow(*LIBRARIANS),
    now: datetime = Now,
) -> CaseOut:
    case = service.mark_library(
        session,
        actor=audit.Actor.of(user),
        case_id=case_id,
        outcome=body.outcome,
        lesson=body.lesson,
        now=now,
    )
    return _case_out(case)


@router.get(
    "/library",
    response_model=list[LibraryCaseOut],
    summary="The case library for training: success and failure cases with their lessons",
    responses=errors(401, 403, 422),
)
def library(
    outcome: Literal["success", "failure"] | None = None,
    session: Session = db_session,
    user: User = auth.allow(*LIBRARY_READERS),
) -> list[LibraryCaseOut]:
    return [
        LibraryCaseOut(
            case_id=case.id,
            cause_zh=plans.CAUSES[case.cause],
            outcome=case.library_outcome or "",
            lesson=case.library_lesson or "",
            marked_by=case.library_marked_by or "",
            status=case.status,
        )
        for case in service.library(session, outcome=outcome)
    ]
