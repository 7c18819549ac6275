"""Waivers (减免) of penalty, late fee or interest, with reason and approver."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import Conflict, Forbidden, Unprocessable
from lenddesk.core.money import format_fen
from lenddesk.core.policy import get_policy
from lenddesk.ledger.models import ScheduleLine, Waiver
from lenddesk.ledger.service._common import (
    _check_money,
    _check_open,
    _due,
    _not_found,
    _required_text,
    loan_by_contract,
)
from lenddesk.ledger.service.posting import _Book, _locked_book, _refresh_loan

WAIVABLE = ("penalty", "late_fee", "interest")
_WAIVED_FIELD = {
    "penalty": "waived_penalty_fen",
    "late_fee": "waived_late_fee_fen",
    "interest": "waived_interest_fen",
}


def _check_component(component: str) -> str:
    if component not in WAIVABLE:
        raise Unprocessable(
            f"只能减免罚息、滞纳金或利息：{component}",
            f"Only penalty, late_fee or interest can be waived: {component}",
            code="not_waivable",
        )
    return component


def waivable_fen(lines: Sequence[ScheduleLine], component: str, today: date) -> int:
    """What is owed on `component` on the lines a waiver may reach (due on or before `today`)."""
    return sum(_due(line).amount(component) for line in lines if line.due_on <= today)


def _needs_second_person(amount_fen: int) -> bool:
    return amount_fen > get_policy().ledger.waiver_single_approval_fen


def _check_waiver_approver(requested_by: audit.Actor, approved_by: audit.Actor) -> None:
    if approved_by.role not in (*get_policy().ledger.waiver_approver_roles, "admin"):
        raise Forbidden(
            "审批人的角色无权审批减免",
            f"Role {approved_by.role} may not approve waivers",
            code="role_forbidden",
        )
    if approved_by.name == requested_by.name:
        raise Forbidden(
            "超过限额的减免须由另一人审批",
            "A waiver above the limit needs a second person",
            code="own_request",
        )


def waive(
    session: Session,
    *,
    loan_id: int,
    component: str,
    amount_fen: int,
    reason: str,
    requested_by: audit.Actor,
    approved_by: audit.Actor | None = None,
    today: date,
) -> Waiver:
    """Forgive `amount_fen` of a loan's penalty, late fee or interest, oldest instalment first.

    Amounts above the policy's `waiver_single_approval_fen` need `approved_by`: a different person
    of a `waiver_approver_roles` role. Only what is owed on instalments due by `today` can be
    waived; more is refused, never clamped. The loan's state follows (a waiver can cure or settle).
    """
    component = _check_component(component)
    reason = _required_text(reason, "减免原因", "reason", "reason_required")
    amount_fen = _check_money(amount_fen)
    if _needs_second_person(amount_fen):
        if approved_by is None:
            raise Forbidden(
                f"超过 {format_fen(get_policy().ledger.waiver_single_approval_fen)} 元的减免须经审批",
                "A waiver above the single-approval limit needs an approver",
                code="approval_required",
            )
        _check_waiver_approver(requested_by, approved_by)
    book = _locked_book(session, loan_id)
    waiver = Waiver(
        loan_id=loan_id,
        component=component,
        amount_fen=amount_fen,
        reason=reason,
        status="applied",
        requested_by=requested_by.name,
    )
    _apply_waiver(session, book, waiver, approved_by or requested_by, today)
    session.add(waiver)
    session.flush()
    _audit_waiver(session, approved_by or requested_by, waiver, before=None)
    return waiver


def _apply_waiver(session: Session, book: _Book, waiver: Waiver, approver: audit.Actor, today: date) -> None:
    _check_open(book.loan)
    owed = waivable_fen(book.lines, waiver.component, today)
    if waiver.amount_fen > owed:
        raise Unprocessable(
            f"减免金额超过应还{_WAIVABLE_ZH[waiver.component]} {format_fen(owed)} 元",
            f"The waiver exceeds the {waiver.component.replace('_', ' ')} owed ({format_fen(owed)})",
            code="waiver_exceeds_owed",
            details={"owed": format_fen(owed)},
        )
    left, spread = waiver.amount_fen, []
    field_name = _WAIVED_FIELD[waiver.component]
    for line in book.lines:
        if left == 0 or line.due_on > today:
            continue
        part = min(_due(line).amount(waiver.component), left)
        if part:
            setattr(line, field_name, getattr(line, field_name) + part)
            spread.append({"period": line.period, "amount": part})
            left -= part
    book.mark_paid_off(today)
    waiver.allocation, waiver.status = spread, "applied"
    waiver.approved_by, waiver.applied_on = approver.name, today
    _refresh_loan(session, book, today=today, actor=approver, settled_on=today)


_WAIVABLE_ZH = {"penalty": "罚息", "late_fee": "滞纳金", "interest": "利息"}


def _audit_waiver(
    session: Session, actor: audit.Actor, waiver: Waiver, before: dict[str, Any] | None
) -> None:
    audit.record(
        session,
        actor,
        f"waiver.{waiver.status}",
        ("loan", waiver.loan_id),
        before,
        {
            "waiver_id": waiver.id,
            "component": waiver.component,
            "amount_fen": waiver.amount_fen,
            "reason": waiver.reason,
            "requested_by": waiver.requested_by,
            "approved_by": waiver.approved_by,
            "allocation": waiver.allocation,
        },
    )


def waived_alone_fen(session: Session, *, loan_id: int, person: str, today: date) -> int:
    """What `person` waived on this loan on their own word (no second person) within the policy's
    rolling window (`waiver_single_approval_window_days`, today included): the amount the
    single-person limit is counted against. Take the loan's lock before calling it."""
    since = today - timedelta(days=get_policy().ledger.waiver_single_approval_window_days - 1)
    total = session.scalar(
        select(func.coalesce(func.sum(Waiver.amount_fen), 0)).where(
            Waiver.loan_id == loan_id,
            Waiver.status == "applied",
            Waiver.requested_by == person,
            Waiver.approved_by == person,
            Waiver.applied_on >= since,
        )
    )
    return int(total or 0)


def request_waiver(
    session: Session,
    *,
    actor: audit.Actor,
    contract_number: str,
    component: str,
    amount_fen: int,
    reason: str,
    today: date,
) -> Waiver:
    """A waiver asked for by one person: applied at once while what they waived alone on this loan
    in the window stays within the policy limit, else held for a second person's approval.

    The loan's lock is taken before the person's total is summed, so waivers sent at once (by one
    person or several) never apply more than the limit alone, on SQLite and PostgreSQL alike.
    """
    loan = loan_by_contract(session, contract_number)
    amount_fen = _check_money(amount_fen)
    component = _check_component(component)
    reason = _required_text(reason, "减免原因", "reason", "reason_required")
    book = _locked_book(session, loan.id)
    _check_open(book.loan)
    owed = waivable_fen(book.lines, component, today)
    if amount_fen > owed:
        raise Unprocessable(
            f"减免金额超过应还{_WAIVABLE_ZH[component]} {format_fen(owed)} 元",
            f"The waiver exceeds the {component.replace('_', ' ')} owed ({format_fen(owed)})",
            code="waiver_exceeds_owed",
            details={"owed": format_fen(owed)},
        )
    waiver = Waiver(
        loan_id=loan.id,
        component=component,
        amount_fen=amount_fen,
        reason=reason,
        status="requested",
        requested_by=actor.name,
    )
    alone = waived_alone_fen(session, loan_id=loan.id, person=actor.name, today=today)
    if not _needs_second_person(alone + amount_fen):
        _apply_waiver(session, book, waiver, actor, today)
    session.add(waiver)
    session.flush()
    _audit_waiver(session, actor, waiver, before=None)
    return waiver


def _pending_waiver(session: Session, waiver_id: int) -> tuple[_Book, Waiver]:
    found = session.get(Waiver, waiver_id)
    if found is None:
        raise _not_found("减免申请", "waiver", waiver_id)
    book = _locked_book(session, found.loan_id)
    waiver = session.scalars(
        select(Waiver).where(Waiver.id == waiver_id).execution_options(populate_existing=True)
    ).one()
    if waiver.status != "requested":
        raise Conflict("该减免申请已处理", "This waiver was already decided", code="waiver_decided")
    return book, waiver


def approve_waiver(session: Session, *, actor: audit.Actor, waiver_id: int, today: date) -> Waiver:
    """A second person approves a held waiver; it applies to what is owed now (never below zero)."""
    book, waiver = _pending_waiver(session, waiver_id)
    requester = audit.Actor(user_id=None, name=waiver.requested_by, role="")
    _check_waiver_approver(requester, actor)
    _apply_waiver(session, book, waiver, actor, today)
    _audit_waiver(session, actor, waiver, before={"waiver_id": waiver.id, "status": "requested"})
    return waiver


def reject_waiver(session: Session, *, actor: audit.Actor, waiver_id: int, note: str = "") -> Waiver:
    _book_unused, waiver = _pending_waiver(session, waiver_id)
    requester = audit.Actor(user_id=None, name=waiver.requested_by, role="")
    _check_waiver_approver(requester, actor)
    waiver.status, waiver.approved_by = "rejected", actor.name
    audit.record(
        session,
        actor,
        "waiver.rejected",
        ("loan", waiver.loan_id),
        {"waiver_id": waiver.id, "status": "requested"},
        {"waiver_id": waiver.id, "status": "rejected", "note": note.strip()[:255]},
    )
    return waiver
