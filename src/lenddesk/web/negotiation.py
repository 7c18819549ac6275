"""Console pages of the negotiation room: the negotiation panel of a ticket, the approvals queue,
the printable agreement and the case library."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.calendar import business_date
from lenddesk.core.errors import LendDeskError
from lenddesk.core.http import db_session
from lenddesk.core.models import User
from lenddesk.core.money import format_fen, parse_yuan
from lenddesk.core.roles import admits
from lenddesk.desk import service as desk
from lenddesk.negotiation import plans, service
from lenddesk.negotiation.models import HardshipCase
from lenddesk.negotiation.roles import APPROVERS, LIBRARIANS, LIBRARY_READERS, NEGOTIATORS, READERS
from lenddesk.web.console import add_nav, console_user, redirect, refused, render, request_time

router = APIRouter(include_in_schema=False)
TicketNumber = Annotated[str, Path(max_length=20, pattern=r"^[A-Za-z0-9-]+$")]
CaseId = Annotated[int, Path(ge=1, le=2**63 - 1)]

add_nav("协商审批", "/negotiation/approvals", *APPROVERS, area="协商")
add_nav("协商案例库", "/negotiation/library", *LIBRARY_READERS, area="协商")


def yuan(fen: int) -> str:
    return format_fen(fen, thousands=True, symbol=True)


def chart(comparison: plans.Comparison, width: int = 420, height: int = 220) -> dict[str, Any]:
    """Points of a small SVG chart: monthly amount (x) against total to pay (y), one per option."""
    points = [("现状", comparison.continue_monthly, comparison.continue_total)] + [
        (option.slug, option.monthly_amount, option.total_to_pay) for option in comparison.options
    ]
    xs, ys = [p[1] for p in points], [p[2] for p in points]
    low_x, high_x, low_y, high_y = min(xs), max(xs), min(ys), max(ys)
    pad = 36

    def scale(value: int, low: int, high: int, span: int) -> float:
        return pad + (value - low) / (high - low or 1) * (span - 2 * pad)

    return {
        "width": width,
        "height": height,
        "pad": pad,
        "points": [
            {
                "label": label,
                "x": round(scale(x, low_x, high_x, width), 1),
                "y": round(height - scale(y, low_y, high_y, height), 1),
                "monthly": yuan(x),
                "total": yuan(y),
            }
            for label, x, y in points
        ],
        "x_range": (yuan(low_x), yuan(high_x)),
        "y_range": (yuan(low_y), yuan(high_y)),
    }


def _open_case_of(session: Session, number: str) -> HardshipCase | None:
    return session.scalar(
        select(HardshipCase)
        .where(HardshipCase.ticket_number == number.upper())
        .order_by(HardshipCase.id.desc())
    )


@router.get("/negotiation/tickets/{number}", response_class=HTMLResponse)
def panel(
    number: TicketNumber,
    request: Request,
    capacity: str | None = None,
    session: Session = db_session,
    user: User = console_user(*READERS),
) -> Response:
    now = request_time(request)
    actor = audit.Actor.of(user)
    context: dict[str, Any] = {
        "number": number.upper(),
        "error": None,
        "causes": plans.CAUSES,
    }
    try:
        ticket = desk.get_ticket(session, number=number)
        context["ticket"] = ticket
        context["level"] = desk.effective_level(session, ticket, now)
        context["required"] = desk.desk_policy().account_detail_level
        case = _open_case_of(session, number)
        if case is not None:
            case = service.open_case_for(session, actor=actor, case_id=case.id)
            trial = parse_yuan(capacity) if capacity else None
            comparison = service.compare_options(
                session, case=case, on=business_date(now), capacity_fen=trial if trial and trial > 0 else None
            )
            context.update(
                case=case,
                comparison=comparison,
                capacity_fen=trial if trial and trial > 0 else case.monthly_capacity_fen,
                chart=chart(comparison),
                option_id=service.option_id,
                proposals=service.case_proposals(session, case_id=case.id),
                agreements=service.case_agreements(session, case_id=case.id),
            )
        elif ticket.borrower_id is not None and context["level"] != "none":
            summary = desk.account_details(session, ticket=ticket, now=now)
            context["contracts"] = [
                loan.contract_number for loan in summary.loans if loan.status in ("current", "overdue")
            ]
    except LendDeskError as exc:
        context["error"] = exc.message_zh
    return render(request, "negotiation/panel.html", user, yuan=yuan, levels=plans.LEVEL_LABELS_ZH, **context)


@router.post("/negotiation/tickets/{number}/cases")
def open_case(
    number: TicketNumber,
    request: Request,
    contract_number: Annotated[str, Form(max_length=32)],
    cause: Annotated[str, Form(max_length=24)],
    monthly_capacity: Annotated[str, Form(max_length=24)],
    notes: Annotated[str, Form(max_length=2000)] = "",
    session: Session = db_session,
    user: User = console_user(*NEGOTIATORS),
) -> Response:
    back = f"/negotiation/tickets/{number}"
    try:
        service.open_case(
            session,
            actor=audit.Actor.of(user),
            contract_number=contract_number,
            ticket_number=number,
            cause=cause,
            monthly_capacity_fen=parse_yuan(monthly_capacity),
            notes=notes,
            now=request_time(request),
        )
    except LendDeskError as exc:
        return refused(session, exc, back)
    return redirect(back, "已建立协商案件")


@router.post("/negotiation/cases/{case_id}/proposals")
def propose(
    case_id: CaseId,
    request: Request,
    option_id: Annotated[str, Form(max_length=40)],
    session: Session = db_session,
    user: User = console_user(*NEGOTIATORS),
) -> Response:
    case = session.get(HardshipCase, case_id)
    back = f"/negotiation/tickets/{case.ticket_number}" if case else "/desk"
    try:
        proposal = service.propose(
            session,
            actor=audit.Actor.of(user),
            case_id=case_id,
            chosen_option_id=option_id,
            now=request_time(request),
        )
        state = "已批准，可请借款人确认" if proposal.status == "approved" else "已提交审批"
    except LendDeskError as exc:
        return refused(session, exc, back)
    return redirect(back, f"方案{state}")


@router.post("/negotiation/proposals/{proposal_id}/accept")
def accept(
    proposal_id: CaseId,
    request: Request,
    channel: Annotated[str, Form(max_length=16)],
    evidence_text: Annotated[str, Form(max_length=2000)],
    session: Session = db_session,
    user: User = console_user(*NEGOTIATORS),
) -> Response:
    now = request_time(request)
    try:
        proposal = service.get_proposal(session, proposal_id=proposal_id)
        case = service.get_case(session, case_id=proposal.case_id)
        back = f"/negotiation/tickets/{case.ticket_number}"
        result = service.accept(
            session,
            actor=audit.Actor.of(user),
            proposal_id=proposal_id,
            channel=channel,
            evidence_text=evidence_text,
            accepted_at=now,
            now=now,
        )
        number = result.agreement.number
    except LendDeskError as exc:
        return refused(session, exc, locals().get("back", "/desk"))
    return redirect(f"/negotiation/agreements/{number}", "协议已生成并生效")


@router.get("/negotiation/approvals", response_class=HTMLResponse)
def approvals(
    request: Request,
    session: Session = db_session,
    user: User = console_user(*APPROVERS),
) -> Response:
    rows = service.approval_queue(session, actor=audit.Actor.of(user))
    return render(
        request,
        "negotiation/approvals.html",
        user,
        rows=rows,
        yuan=yuan,
        levels=plans.LEVEL_LABELS_ZH,
        causes=plans.CAUSES,
    )


@router.post("/negotiation/proposals/{proposal_id}/{decision}")
def decide(
    proposal_id: CaseId,
    decision: Annotated[str, Path(pattern="^(approve|reject)$")],
    request: Request,
    comment: Annotated[str, Form(max_length=2000)] = "",
    session: Session = db_session,
    user: User = console_user(*APPROVERS),
) -> Response:
    action = service.approve_proposal if decision == "approve" else service.reject_proposal
    try:
        action(
            session,
            actor=audit.Actor.of(user),
            proposal_id=proposal_id,
            comment=comment,
            now=request_time(request),
        )
    except LendDeskError as exc:
        return refused(session, exc, "/negotiation/approvals")
    return redirect("/negotiation/approvals", "已批准" if decision == "approve" else "已驳回")


@router.get("/negotiation/agreements/{number}", response_class=HTMLResponse)
def agreement_page(
    number: Annotated[str, Path(max_length=32, pattern=r"^[A-Za-z0-9]+$")],
    request: Request,
    session: Session = db_session,
    user: User = console_user(*READERS, "qa"),
) -> Response:
    try:
        agreement = service.get_agreement(session, number=number)
        case = service.open_case_for(session, actor=audit.Actor.of(user), case_id=agreement.case_id)
    except LendDeskError as exc:
        return render(
            request, "negotiation/agreement.html", user, status_code=exc.status_code, error=exc.message_zh
        )
    return render(request, "negotiation/agreement.html", user, agreement=agreement, case=case)


@router.get("/negotiation/library", response_class=HTMLResponse)
def library(
    request: Request,
    outcome: str | None = None,
    session: Session = db_session,
    user: User = console_user(*LIBRARY_READERS),
) -> Response:
    chosen = outcome if outcome in service.OUTCOMES else None
    closed = (
        list(
            session.scalars(
                select(HardshipCase)
                .where(HardshipCase.status != "open", HardshipCase.library_outcome.is_(None))
                .order_by(HardshipCase.id.desc())
                .limit(50)
            )
        )
        if admits(user.role, LIBRARIANS)
        else []
    )
    return render(
        request,
        "negotiation/library.html",
        user,
        cases=service.library(session, outcome=chosen),
        closed=closed,
        outcome=chosen,
        outcomes=service.OUTCOMES,
        causes=plans.CAUSES,
    )


@router.post("/negotiation/cases/{case_id}/library")
def mark_library(
    case_id: CaseId,
    request: Request,
    outcome: Annotated[str, Form(max_length=8)],
    lesson: Annotated[str, Form(max_length=2000)],
    session: Session = db_session,
    user: User = console_user(*LIBRARIANS),
) -> Response:
    try:
        service.mark_library(
            session,
            actor=audit.Actor.of(user),
            case_id=case_id,
            outcome=outcome,
            lesson=lesson,
            now=request_time(request),
        )
    except LendDeskError as exc:
        return refused(session, exc, "/negotiation/library")
    return redirect("/negotiation/library", "已收入案例库")


@router.post("/negotiation/cases/{case_id}/close")
def close_case(
    case_id: CaseId,
    request: Request,
    note: Annotated[str, Form(max_length=2000)],
    session: Session = db_session,
    user: User = console_user(*NEGOTIATORS),
) -> Response:
    case = session.get(HardshipCase, case_id)
    back = f"/negotiation/tickets/{case.ticket_number}" if case else "/desk"
    try:
        service.close_case(
            session, actor=audit.Actor.of(user), case_id=case_id, note=note, now=request_time(request)
        )
    except LendDeskError as exc:
        return refused(session, exc, back)
    return redirect(back, "协商已结案")


__all__ = ["chart", "router", "yuan"]
