"""Hardship cases: opening one on a verified ticket, reading it back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from lenddesk.core.money import format_fen
from lenddesk.core.policy import get_policy
from lenddesk.desk import service as desk
from lenddesk.desk.macros import require_level
from lenddesk.ledger import service as ledger
from lenddesk.ledger.locking import lock_loan
from lenddesk.negotiation import plans
from lenddesk.negotiation.models import HardshipCase
from lenddesk.negotiation.service._common import _amount, _cause, _text

# --- cases ----------------------------------------------------------------------------------------


def _case_bound(actor: audit.Actor) -> bool:
    return actor.role in get_policy().ledger.case_bound_roles


def _check_ticket_owner(actor: audit.Actor, ticket: Any) -> None:
    if _case_bound(actor) and ticket.owner_id != actor.user_id:
        raise Forbidden(
            "只能处理您负责的工单上的协商",
            "You may negotiate only on a ticket of yours",
            code="not_your_ticket",
        )


def _ticket_for(session: Session, actor: audit.Actor, borrower_id: int, ticket_number: str | None) -> Any:
    if ticket_number:
        ticket = desk.get_ticket(
            session, number=_text(ticket_number, "工单号", "ticket number", required=True, max_length=20)
        )
    else:
        grant = ledger.check_borrower_access(
            session, viewer=actor, borrower_id=borrower_id, case_reference=None
        )
        if grant is None:
            raise Unprocessable(
                "请指定该借款人的工单", "Name the borrower's ticket (ticket_number)", code="ticket_required"
            )
        ticket = desk.get_ticket(session, number=grant.reference)
    if ticket.borrower_id != borrower_id:
        raise Unprocessable(
            "该工单不属于此合同的借款人",
            "The ticket is not the contract's borrower's",
            code="ticket_borrower_mismatch",
        )
    if ticket.status == "closed":
        raise Conflict("工单已关闭", "The ticket is closed", code="ticket_closed")
    _check_ticket_owner(actor, ticket)
    return ticket


def _require_verified(session: Session, ticket: Any, now: datetime, what_zh: str, what_en: str) -> None:
    require_level(
        desk.effective_level(session, ticket, now), desk.desk_policy().account_detail_level, what_zh, what_en
    )


def open_case(
    session: Session,
    *,
    actor: audit.Actor,
    contract_number: str,
    ticket_number: str | None,
    cause: str,
    monthly_capacity_fen: int,
    notes: str = "",
    evidence: str = "",
    monthly_income_fen: int | None = None,
    monthly_expenses_fen: int | None = None,
    now: datetime,
) -> HardshipCase:
    """Open a hardship case on a ticket whose caller is verified to the level account data needs."""
    cause = _cause(cause)
    capacity = _amount(monthly_capacity_fen, "月还款能力", "monthly capacity", required=True)
    income = _amount(monthly_income_fen, "月收入", "monthly income", required=False)
    expenses = _amount(monthly_expenses_fen, "月支出", "monthly expenses", required=False)
    notes = _text(notes, "备注", "notes", required=False)
    evidence = _text(evidence, "证明材料说明", "evidence", required=False)
    contract = _text(contract_number, "合同编号", "contract number", required=True, max_length=32)
    basis = ledger.restructuring_basis(session, contract_number=contract)
    ticket = _ticket_for(session, actor, basis.borrower_id, ticket_number)
    _require_verified(session, ticket, now, "建立协商案件", "A hardship case")
    loan = lock_loan(session, basis.loan_id)
    assert loan is not None
    if loan.status in ("settled", "written_off"):
        raise Conflict(
            f"贷款已{ledger.STATUS_LABELS_ZH[loan.status]}，无需协商",
            f"The loan is {loan.status.replace('_', ' ')}: there is nothing to negotiate",
            code=f"loan_{loan.status}",
        )
    already = session.scalar(
        select(HardshipCase.id).where(HardshipCase.loan_id == loan.id, HardshipCase.status == "open")
    )
    if already:
        raise Conflict(
            f"该贷款已有进行中的协商案件 {already}",
            f"The loan already has an open hardship case ({already})",
            code="case_open",
            details={"case_id": already},
        )
    case = HardshipCase(
        ticket_id=ticket.id,
        ticket_number=ticket.number,
        loan_id=loan.id,
        contract_number=loan.contract_number,
        borrower_id=loan.borrower_id,
        cause=cause,
        notes=notes,
        evidence=evidence,
        monthly_capacity_fen=capacity,
        monthly_income_fen=income,
        monthly_expenses_fen=expenses,
        status="open",
        owner_id=ticket.owner_id or actor.user_id,
        opened_by=actor.name,
        opened_at=now,
    )
    session.add(case)
    session.flush()
    desk.add_note(
        session,
        actor=actor,
        number=ticket.number,
        text=f"已建立困难协商案件 #{case.id}（{plans.CAUSES[cause]}，月还款能力 {format_fen(capacity)} 元）",
        now=now,
    )
    audit.record(
        session,
        actor,
        "negotiation.case.open",
        ("negotiation_case", case.id),
        None,
        {"ticket": ticket.number, "contract": loan.contract_number, "cause": cause, "capacity_fen": capacity},
    )
    return case


def get_case(session: Session, *, case_id: int) -> HardshipCase:
    case = session.get(HardshipCase, case_id)
    if case is None:
        raise NotFound(
            f"协商案件不存在：{case_id}", f"No such hardship case: {case_id}", code="case_not_found"
        )
    return case


def _case_ticket(session: Session, case: HardshipCase) -> Any:
    return desk.get_ticket(session, number=case.ticket_number)


def open_case_for(session: Session, *, actor: audit.Actor, case_id: int) -> HardshipCase:
    """The case, if `actor` may work on it (case-bound roles: only through a ticket of theirs)."""
    case = get_case(session, case_id=case_id)
    _check_ticket_owner(actor, _case_ticket(session, case))
    return case
