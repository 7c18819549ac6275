"""SLA attainment and first-contact resolution for reports: the desk's read interface over its tickets.

- SLA: a target (first response, resolution) counts in the period its due time falls in
  (Shanghai). Achieved when done by the due time; breached when done later, or still not done
  while the due time has passed; a target not yet due is pending and left out of the rate. Due
  times are the desk's, already in business minutes on the China calendar.
- First-contact resolution: a ticket resolved in the period with at most one reply to the
  customer, never reopened, and no new ticket from the same borrower (or, unlinked, the same
  sender) within 3 working days after it was resolved.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from lenddesk.core.calendar import SHANGHAI, WorkCalendar
from lenddesk.desk.models import Complaint, Message, Ticket

GROUPINGS = ("month", "team", "agent")
TARGETS = {
    "first_response": (Ticket.first_response_due, Ticket.first_response_at),
    "resolution": (Ticket.resolution_due, Ticket.resolved_at),
}
FCR_WORKDAYS = 3


@dataclass
class SlaFigures:
    key: str
    achieved: dict[str, int]
    breached: dict[str, int]
    pending: dict[str, int]


@dataclass
class FcrFigures:
    key: str
    resolved: int = 0
    first_contact: int = 0


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time(0), tzinfo=SHANGHAI)
    return start, datetime.combine(last + timedelta(days=1), time(0), tzinfo=SHANGHAI)


def _group(moment: datetime, team_id: int | None, owner_id: int | None, by: str) -> str:
    if by == "month":
        return moment.astimezone(SHANGHAI).strftime("%Y-%m")
    value = team_id if by == "team" else owner_id
    return "" if value is None else str(value)


def sla_figures(
    session: Session,
    *,
    first: date,
    last: date,
    now: datetime,
    by: str = "month",
    owner_id: int | None = None,
) -> list[SlaFigures]:
    start, end = _bounds(first, last)
    groups: dict[str, SlaFigures] = {}
    for target, (due_column, done_column) in TARGETS.items():
        query = select(due_column, done_column, Ticket.team_id, Ticket.owner_id).where(
            due_column >= start, due_column < end
        )
        if owner_id is not None:
            query = query.where(Ticket.owner_id == owner_id)
        for due, done, team_id, owner in session.execute(query):
            key = _group(due, team_id, owner, by)
            figures = groups.setdefault(
                key, SlaFigures(key, defaultdict(int), defaultdict(int), defaultdict(int))
            )
            if done is not None and done <= due:
                figures.achieved[target] += 1
            elif done is not None or due < now:
                figures.breached[target] += 1
            else:
                figures.pending[target] += 1
    return [groups[key] for key in sorted(groups)]


def fcr_figures(
    session: Session,
    *,
    first: date,
    last: date,
    calendar: WorkCalendar,
    by: str = "month",
    owner_id: int | None = None,
) -> list[FcrFigures]:
    start, end = _bounds(first, last)
    replies = (
        select(Message.ticket_id, func.count().label("replies"))
        .where(Message.direction == "out")
        .group_by(Message.ticket_id)
        .subquery()
    )
    query = (
        select(
            Ticket.id,
            Ticket.borrower_id,
            Ticket.sender,
            Ticket.resolved_at,
            Ticket.reopened_count,
            Ticket.team_id,
            Ticket.owner_id,
            func.coalesce(replies.c.replies, 0),
        )
        .outerjoin(replies, replies.c.ticket_id == Ticket.id)
        .where(Ticket.resolved_at >= start, Ticket.resolved_at < end)
    )
    if owner_id is not None:
        query = query.where(Ticket.owner_id == owner_id)
    groups: dict[str, FcrFigures] = {}
    for ticket_id, borrower_id, sender, resolved_at, reopened, team_id, owner, reply_count in session.execute(
        query
    ):
        key = _group(resolved_at, team_id, owner, by)
        figures = groups.setdefault(key, FcrFigures(key))
        figures.resolved += 1
        if (
            reply_count <= 1
            and not reopened
            and not _came_back(session, ticket_id, borrower_id, sender, resolved_at, calendar)
        ):
            figures.first_contact += 1
    return [groups[key] for key in sorted(groups)]


def _came_back(
    session: Session,
    ticket_id: int,
    borrower_id: int | None,
    sender: str,
    resolved_at: datetime,
    calendar: Any,
) -> bool:
    """A new ticket from the same customer within 3 working days after the resolution."""
    resolved_day = resolved_at.astimezone(SHANGHAI).date()
    until = datetime.combine(
        calendar.add_workdays(resolved_day, FCR_WORKDAYS) + timedelta(days=1), time(0), SHANGHAI
    )
    other = aliased(Ticket)
    same_customer = other.borrower_id == borrower_id if borrower_id is not None else other.sender == sender
    later = select(other.id).where(
        same_customer, other.id != ticket_id, other.created_at > resolved_at, other.created_at < until
    )
    return session.scalar(later.limit(1)) is not None


def complaint_root_causes(session: Session, *, first: date, last: date) -> list[tuple[str, int]]:
    """Complaints closed in the period by root cause, most frequent first (a Pareto's bars)."""
    start, end = _bounds(first, last)
    rows = session.execute(
        select(Complaint.root_cause, func.count())
        .where(Complaint.closed_at >= start, Complaint.closed_at < end)
        .group_by(Complaint.root_cause)
    ).all()
    return sorted(((cause or "", int(count)) for cause, count in rows), key=lambda row: (-row[1], row[0]))
