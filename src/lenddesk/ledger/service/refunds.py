"""Refund of a loan's credit balance (溢缴款退款), with four eyes."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.db import utcnow
from lenddesk.core.errors import Conflict, Forbidden
from lenddesk.core.money import format_fen
from lenddesk.core.policy import get_policy
from lenddesk.ledger.models import CreditRefund
from lenddesk.ledger.service._common import (
    _check_money,
    _lock_loan,
    _not_found,
    _required_text,
    loan_by_contract,
)
from lenddesk.ledger.service.posting import _Book


def _refund_approver_check(actor: audit.Actor, refund: CreditRefund) -> None:
    roles = get_policy().ledger.refund_approver_roles
    if actor.role not in (*roles, "admin"):
        raise Forbidden(
            "当前角色无权审批溢缴款退款", f"Role {actor.role} may not approve refunds", code="role_forbidden"
        )
    if refund.requested_by == actor.name:
        raise Forbidden(
            "不能审批自己提交的退款申请", "You cannot approve your own refund request", code="own_request"
        )


def request_refund(
    session: Session,
    *,
    actor: audit.Actor,
    contract_number: str,
    amount_fen: int,
    reference: str,
    reason: str,
) -> tuple[CreditRefund, bool]:
    """Ask for part of a loan's credit balance to be paid back; a second person approves.

    Idempotent on (loan, reference): the same request again answers the first one (True).
    """
    reference = _required_text(reference, "申请编号", "reference", "reference_required", 64)
    reason = _required_text(reason, "退款原因", "reason", "reason_required")
    amount_fen = _check_money(amount_fen)
    loan = _lock_loan(session, loan_by_contract(session, contract_number).id)
    existing = session.scalar(
        select(CreditRefund).where(CreditRefund.loan_id == loan.id, CreditRefund.reference == reference)
    )
    if existing is not None:
        if existing.amount_fen != amount_fen:
            raise Conflict(
                "该申请编号已用于另一笔金额不同的退款",
                "This reference was already used for a refund of another amount",
                code="reference_reused",
            )
        return existing, True
    if amount_fen > loan.credit_balance_fen:
        raise _exceeds_credit(amount_fen, loan.credit_balance_fen)
    refund = CreditRefund(
        loan_id=loan.id,
        reference=reference,
        amount_fen=amount_fen,
        reason=reason,
        status="requested",
        requested_by=actor.name,
    )
    session.add(refund)
    session.flush()
    audit.record(
        session,
        actor,
        "refund.request",
        ("loan", loan.id),
        None,
        {"refund_id": refund.id, "reference": reference, "amount_fen": amount_fen, "reason": reason},
    )
    return refund, False


def _exceeds_credit(amount_fen: int, credit_fen: int) -> Conflict:
    return Conflict(
        f"退款金额超过溢缴款余额 {format_fen(credit_fen)} 元",
        f"The refund exceeds the credit balance of {format_fen(credit_fen)}",
        code="refund_exceeds_credit",
        details={"credit_balance": format_fen(credit_fen), "amount": format_fen(amount_fen)},
    )


def _refund(session: Session, refund_id: int) -> CreditRefund:
    refund = session.get(CreditRefund, refund_id)
    if refund is None:
        raise _not_found("退款申请", "refund", refund_id)
    return refund


def approve_refund(session: Session, *, actor: audit.Actor, refund_id: int) -> tuple[CreditRefund, bool]:
    """Pay the refund out of the credit balance, exactly once (True when it was paid before)."""
    loan_id = _refund(session, refund_id).loan_id
    loan = _lock_loan(session, loan_id)
    refund = session.scalars(
        select(CreditRefund).where(CreditRefund.id == refund_id).execution_options(populate_existing=True)
    ).one()
    if refund.status == "paid":
        return refund, True
    if refund.status != "requested":
        raise Conflict("该退款申请已被驳回", "This refund was rejected", code="refund_rejected")
    _refund_approver_check(actor, refund)
    if refund.amount_fen > loan.credit_balance_fen:
        raise _exceeds_credit(refund.amount_fen, loan.credit_balance_fen)
    before = {"refund_id": refund.id, "status": refund.status, "credit_balance_fen": loan.credit_balance_fen}
    loan.credit_balance_fen -= refund.amount_fen
    refund.status, refund.decided_by, refund.decided_at = "paid", actor.name, utcnow()
    audit.record(
        session,
        actor,
        "refund.pay",
        ("loan", loan.id),
        before,
        {"refund_id": refund.id, "status": "paid", "credit_balance_fen": loan.credit_balance_fen},
    )
    return refund, False


def reject_refund(session: Session, *, actor: audit.Actor, refund_id: int, note: str = "") -> CreditRefund:
    loan = _lock_loan(session, _refund(session, refund_id).loan_id)
    refund = session.scalars(
        select(CreditRefund).where(CreditRefund.id == refund_id).execution_options(populate_existing=True)
    ).one()
    if refund.status != "requested":
        raise Conflict("该退款申请已处理", "This refund was already decided", code="refund_decided")
    _refund_approver_check(actor, refund)
    refund.status, refund.decided_by, refund.decided_at = "rejected", actor.name, utcnow()
    refund.note = note.strip()[:255] or None
    audit.record(
        session,
        actor,
        "refund.reject",
        ("loan", loan.id),
        {"refund_id": refund.id, "status": "requested"},
        {"refund_id": refund.id, "status": "rejected", "note": refund.note},
    )
    return refund


def refunded_fen(session: Session, loan_id: int) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(CreditRefund.amount_fen), 0)).where(
            CreditRefund.loan_id == loan_id, CreditRefund.status == "paid"
        )
    )
    return int(total or 0)


def _deduct_refunds(session: Session, book: _Book) -> None:
    """After a replay rebuilt the credit balance from the repayments, take out what was refunded."""
    refunded = refunded_fen(session, book.loan.id)
    if refunded > book.loan.credit_balance_fen:
        raise Conflict(
            "冲正后溢缴款余额不足以覆盖已退款金额，请先处理退款",
            "After this reversal the credit balance would not cover what was already refunded",
            code="refund_exceeds_credit",
        )
    book.loan.credit_balance_fen -= refunded
