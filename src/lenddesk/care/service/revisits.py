"""Revisits (回访): after a hardship agreement, a resolved complaint or a low CSAT, a follow-up on its
owner's list until marked done. Each source room calls the care room through a hook it owns
(negotiation's agreement hook, the desk's resolution hook, feedback's answer hook): they never
import care. One revisit per source event (the unique key absorbs a replay)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.care.models import Revisit
from lenddesk.care.service._common import care_policy, insert_for
from lenddesk.core import audit
from lenddesk.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from lenddesk.core.roles import admits
from lenddesk.desk import hooks as desk_hooks
from lenddesk.desk import service as desk
from lenddesk.feedback import service as feedback
from lenddesk.negotiation import service as negotiation

SOURCES = ("hardship", "complaint", "csat")
SOURCE_LABELS_ZH = {"hardship": "困难协商协议", "complaint": "投诉办结", "csat": "满意度低"}
STATUS_LABELS_ZH = {"open": "待回访", "done": "已完成"}
# Who may complete someone else's revisit.
REVISIT_SUPERVISORS = ("team_lead", "compliance")
OUTCOME_MAX = 500


@dataclass(frozen=True)
class RevisitView:
    id: int
    borrower_id: int
    source: str
    source_ref: str
    owner_id: int | None
    ticket_id: int | None
    note: str
    status: str
    due_at: datetime
    outcome: str | None
    done_by: str | None
    done_at: datetime | None


def _view(revisit: Revisit) -> RevisitView:
    return RevisitView(
        revisit.id,
        revisit.borrower_id,
        revisit.source,
        revisit.source_ref,
        revisit.owner_id,
        revisit.ticket_id,
        revisit.note,
        revisit.status,
        revisit.due_at,
        revisit.outcome,
        revisit.done_by,
        revisit.done_at,
    )


def open_revisit(
    session: Session,
    *,
    borrower_id: int,
    source: str,
    source_ref: str,
    owner_id: int | None,
    ticket_id: int | None,
    note: str,
    now: datetime,
) -> bool:
    """Put a revisit on `owner_id`'s list (False: this source event already has one)."""
    if source not in SOURCES:
        raise ValueError(f"unknown revisit source {source!r}")
    inserted = session.execute(
        insert_for(session)(Revisit)
        .values(
            borrower_id=borrower_id,
            source=source,
            source_ref=source_ref,
            owner_id=owner_id,
            ticket_id=ticket_id,
            note=note[:OUTCOME_MAX],
            status="open",
            due_at=now + timedelta(hours=care_policy().revisit_hours),
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["source", "source_ref"])
    ).rowcount
    return bool(inserted)


def list_revisits(
    session: Session,
    *,
    owner_id: int | None = None,
    status: str | None = None,
    borrower_id: int | None = None,
    limit: int = 200,
) -> list[RevisitView]:
    statement = select(Revisit).order_by(Revisit.due_at, Revisit.id).limit(limit)
    if owner_id is not None:
        statement = statement.where(Revisit.owner_id == owner_id)
    if status is not None:
        statement = statement.where(Revisit.status == status)
    if borrower_id is not None:
        statement = statement.where(Revisit.borrower_id == borrower_id)
    return [_view(row) for row in session.scalars(statement)]


def complete_revisit(
    session: Session, *, actor: audit.Actor, revisit_id: int, outcome: str, now: datetime
) -> RevisitView:
    """The owner (or a team lead, compliance) records how the revisit went and marks it done (once)."""
    outcome = outcome.strip()
    if not outcome or len(outcome) > OUTCOME_MAX:
        raise Unprocessable(
            f"回访结果须为 1–{OUTCOME_MAX} 字",
            f"The outcome needs 1–{OUTCOME_MAX} characters",
            code="bad_outcome",
        )
    revisit = session.scalar(
        select(Revisit)
        .where(Revisit.id == revisit_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if revisit is None:
        raise NotFound(
            f"回访不存在：{revisit_id}", f"No such revisit: {revisit_id}", code="revisit_not_found"
        )
    if revisit.owner_id != actor.user_id and not admits(actor.role, REVISIT_SUPERVISORS):
        raise Forbidden(
            "只能完成自己的回访（组长、合规除外）",
            "Only the owner or a supervisor completes a revisit",
            code="revisit_not_yours",
        )
    if revisit.status == "done":
        raise Conflict("该回访已完成", "The revisit is already done", code="revisit_done")
    revisit.status, revisit.outcome, revisit.done_by, revisit.done_at = "done", outcome, actor.name, now
    session.flush()
    audit.record(
        session,
        actor,
        "care.revisit.done",
        ("care_revisit", revisit.id),
        {"status": "open"},
        {"status": "done"},
    )
    return _view(revisit)


# --- the hooks -------------------------------------------------------------------------------------------


def revisit_after_agreement(session: Session, agreement: negotiation.AgreementMade, now: datetime) -> None:
    open_revisit(
        session,
        borrower_id=agreement.borrower_id,
        source="hardship",
        source_ref=agreement.number,
        owner_id=agreement.owner_id,
        ticket_id=agreement.ticket_id,
        note=f"回访：困难协商协议 {agreement.number} 已生效，了解执行情况",
        now=now,
    )


def revisit_after_complaint(session: Session, ticket: desk_hooks.ResolvedTicket, at: datetime) -> None:
    borrower_id = ticket.borrower_id
    complaint_id = desk.complaint_of_ticket(session, ticket.id)
    if borrower_id is None or complaint_id is None:
        return
    open_revisit(
        session,
        borrower_id=borrower_id,
        source="complaint",
        source_ref=f"{ticket.number}/{ticket.reopened_count}",
        owner_id=ticket.owner_id,
        ticket_id=ticket.id,
        note=f"回访：投诉工单 {ticket.number} 已办结，确认客户满意",
        now=at,
    )


def revisit_after_low_csat(session: Session, survey: feedback.Survey, now: datetime) -> None:
    if (
        survey.csat is None
        or survey.borrower_id is None
        or survey.csat > feedback.feedback_policy().callback_csat
    ):
        return
    owner = desk.team_lead_id(session, survey.team_id) if survey.team_id is not None else None
    open_revisit(
        session,
        borrower_id=survey.borrower_id,
        source="csat",
        source_ref=f"survey:{survey.id}",
        owner_id=owner or survey.agent_id,
        ticket_id=survey.ticket_id,
        note=f"回访：满意度 {survey.csat} 分",
        now=now,
    )


negotiation.register_agreement_hook(revisit_after_agreement)
desk_hooks.register_resolution_hook(revisit_after_complaint)
feedback.register_answer_hook(revisit_after_low_csat)
