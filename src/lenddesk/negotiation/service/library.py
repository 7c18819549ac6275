"""Closing a case and the case library."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import Conflict, Unprocessable
from lenddesk.desk import service as desk
from lenddesk.negotiation.models import Agreement, HardshipCase, Proposal
from lenddesk.negotiation.service._common import _text
from lenddesk.negotiation.service.cases import _case_ticket, _check_ticket_owner
from lenddesk.negotiation.service.proposals import _lock_case

# --- the case library -----------------------------------------------------------------------------

OUTCOMES = {"success": "成功案例", "failure": "失败案例"}


def mark_library(
    session: Session, *, actor: audit.Actor, case_id: int, outcome: str, lesson: str, now: datetime
) -> HardshipCase:
    """Mark a closed (or agreed) negotiation as a success or failure case with its lesson."""
    if outcome not in OUTCOMES:
        raise Unprocessable(
            f"未知的案例类型：{outcome}（可选：success、failure）",
            f"Unknown outcome: {outcome} (success or failure)",
            code="unknown_outcome",
        )
    lesson = _text(lesson, "经验教训", "lesson", required=True)
    case = _lock_case(session, case_id)
    if case.status == "open":
        raise Conflict(
            "协商尚未结束，不能收入案例库", "The negotiation is still open", code="case_not_closed"
        )
    before = {"outcome": case.library_outcome, "lesson": case.library_lesson}
    case.library_outcome, case.library_lesson = outcome, lesson
    case.library_marked_by, case.library_marked_at = actor.name, now
    audit.record(
        session,
        actor,
        "negotiation.case.library",
        ("negotiation_case", case.id),
        before,
        {"outcome": outcome, "lesson": lesson},
    )
    return case


def close_case(
    session: Session, *, actor: audit.Actor, case_id: int, note: str, now: datetime
) -> HardshipCase:
    """End a negotiation without (or after) an agreement; open proposals are withdrawn."""
    note = _text(note, "结案说明", "note", required=True)
    case = _lock_case(session, case_id)
    _check_ticket_owner(actor, _case_ticket(session, case))
    if case.status == "closed":
        return case
    before = {"status": case.status}
    for proposal in session.scalars(
        select(Proposal).where(
            Proposal.case_id == case.id, Proposal.status.in_(("pending_approval", "approved"))
        )
    ):
        proposal.status = "withdrawn"
    case.status = "closed"
    desk.add_note(
        session, actor=actor, number=case.ticket_number, text=f"协商案件 #{case.id} 结案：{note}", now=now
    )
    audit.record(
        session,
        actor,
        "negotiation.case.close",
        ("negotiation_case", case.id),
        before,
        {"status": "closed", "note": note},
    )
    return case


def library(session: Session, *, outcome: str | None = None, limit: int = 200) -> list[HardshipCase]:
    statement = select(HardshipCase).where(HardshipCase.library_outcome.is_not(None))
    if outcome:
        statement = statement.where(HardshipCase.library_outcome == outcome)
    return list(session.scalars(statement.order_by(HardshipCase.library_marked_at.desc()).limit(limit)))


def case_agreements(session: Session, *, case_id: int) -> list[Agreement]:
    return list(
        session.scalars(select(Agreement).where(Agreement.case_id == case_id).order_by(Agreement.seq))
    )
