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
from sqlalchemy.orm import Session

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
    team_id: int | None = None,
) -> list[SlaFigures]:
    start, end = _bounds(first, last)
    groups: dict[str, SlaFigures] = {}
    for target, (due_column, done_column) in TARGETS.items():
        query = _scoped(
            select(due_column, done_column, Ticket.team_id, Ticket.owner_id).where(
                due_column >= start, due_column < end
            ),
            owner_id,
            team_id,
        )
        for due, done, ticket_team, owner in session.execute(query):
            key = _group(due, ticket_team, owner, by)
            figures = groups.setdefault(
                key, SlaFigures(key, defaultdict(int), defaultdict(int), defaultdict(int))
            )
            outcome = sla_outcome(due, done, now)
            {"achieved": figures.achieved, "breached": figures.breached, "pending": figures.pending}[outcome][
                target
            ] += 1
    return [groups[key] for key in sorted(groups)]


def sla_outcome(due: datetime, done: datetime | None, now: datetime) -> str:
    """achieved (done by the due time), breached (done later, or not done and past due), pending."""
    if done is not None and done <= due:
        return "achieved"
    return "breached" if done is not None or due < now else "pending"


def _scoped(query: Any, owner_id: int | None, team_id: int | None) -> Any:
    if owner_id is not None:
        query = query.where(Ticket.owner_id == owner_id)
    if team_id is not None:
        query = query.where(Ticket.team_id == team_id)
    return query


@dataclass(frozen=True)
class _Resolved:
    ticket_id: int
    customer: str
    resolved_at: datetime
    reopened: int
    team_id: int | None
    owner_id: int | None
    replies: int


def _customer(borrower_id: int | None, sender: str) -> str:
    return f"b{borrower_id}" if borrower_id is not None else f"s{sender}"


def _resolved_tickets(
    session: Session, start: datetime, end: datetime, owner_id: int | None, team_id: int | None
) -> list[_Resolved]:
    replies = (
        select(Message.ticket_id, func.count().label("replies"))
        .where(Message.direction == "out")
        .group_by(Message.ticket_id)
        .subquery()
    )
    query = _scoped(
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
        .where(Ticket.resolved_at >= start, Ticket.resolved_at < end),
        owner_id,
        team_id,
    )
    return [
        _Resolved(ticket_id, _customer(borrower_id, sender), resolved_at, reopened or 0, team, owner, count)
        for ticket_id, borrower_id, sender, resolved_at, reopened, team, owner, count in session.execute(
            query
        )
    ]


def _came_back_within(session: Session, resolved: list[_Resolved], calendar: WorkCalendar) -> set[int]:
    """Ids of the resolved tickets whose customer opened another ticket within 3 working days after
    the resolution: one read of the tickets created in the span, matched in memory."""
    if not resolved:
        return set()
    until_of_day: dict[date, datetime] = {}

    def until(moment: datetime) -> datetime:
        day = moment.astimezone(SHANGHAI).date()
        if day not in until_of_day:
            last = calendar.add_workdays(day, FCR_WORKDAYS) + timedelta(days=1)
            until_of_day[day] = datetime.combine(last, time(0), SHANGHAI)
        return until_of_day[day]

    earliest = min(ticket.resolved_at for ticket in resolved)
    latest = max(until(ticket.resolved_at) for ticket in resolved)
    created: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    later = select(Ticket.id, Ticket.borrower_id, Ticket.sender, Ticket.created_at).where(
        Ticket.created_at > earliest, Ticket.created_at < latest
    )
    for ticket_id, borrower_id, sender, created_at in session.execute(later):
        created[_customer(borrower_id, sender)].append((created_at, ticket_id))
    came_back = set()
    for ticket in resolved:
        window_end = until(ticket.resolved_at)
        if any(
            other != ticket.ticket_id and ticket.resolved_at < at < window_end
            for at, other in created.get(ticket.customer, ())
        ):
            came_back.add(ticket.ticket_id)
    return came_back


def fcr_figures(
    session: Session,
    *,
    first: date,
    last: date,
    calendar: WorkCalendar,
    by: str = "month",
    owner_id: int | None = None,
    team_id: int | None = None,
) -> list[FcrFigures]:
    """Resolved and first-contact resolved tickets per group: two reads, whatever the number of tickets."""
    start, end = _bounds(first, last)
    resolved = _resolved_tickets(session, start, end, owner_id, team_id)
    came_back = _came_back_within(session, resolved, calendar)
    groups: dict[str, FcrFigures] = {}
    for ticket in resolved:
        key = _group(ticket.resolved_at, ticket.team_id, ticket.owner_id, by)
        figures = groups.setdefault(key, FcrFigures(key))
        figures.resolved += 1
        if is_first_contact(ticket.replies, ticket.reopened, ticket.ticket_id in came_back):
            figures.first_contact += 1
    return [groups[key] for key in sorted(groups)]


def is_first_contact(replies: int, reopened: int, came_back: bool) -> bool:
    """At most one agent reply, never reopened, no new ticket from the customer within 3 working days."""
    return replies <= 1 and not reopened and not came_back


def complaint_root_causes(
    session: Session, *, first: date, last: date, team_id: int | None = None
) -> list[tuple[str, int]]:
    """Complaints closed in the period by root cause, most frequent first (a Pareto's bars)."""
    start, end = _bounds(first, last)
    query = (
        select(Complaint.root_cause, func.count())
        .where(Complaint.closed_at >= start, Complaint.closed_at < end)
        .group_by(Complaint.root_cause)
    )
    if team_id is not None:
        query = query.join(Ticket, Ticket.id == Complaint.ticket_id).where(Ticket.team_id == team_id)
    rows = session.execute(query).all()
    return sorted(((cause or "", int(count)) for cause, count in rows), key=lambda row: (-row[1], row[0]))


# --- drill-down: the tickets behind a figure --------------------------------------------------------

BEHIND = (
    "first_response_achieved",
    "first_response_breached",
    "resolution_achieved",
    "resolution_breached",
    "resolved",
    "first_contact",
    "not_first_contact",
    "complaints",
)


@dataclass(frozen=True)
class TicketBehind:
    ticket_id: int
    number: str
    status: str
    category: str | None
    team_id: int | None
    owner_id: int | None
    created_at: datetime


def tickets_behind(
    session: Session,
    *,
    figure: str,
    first: date,
    last: date,
    now: datetime,
    calendar: WorkCalendar,
    owner_id: int | None = None,
    team_id: int | None = None,
    root_cause: str | None = None,
    limit: int = 200,
) -> list[TicketBehind]:
    """The tickets counted in a figure of the period (SLA target outcomes, resolutions, first-contact
    resolution, closed complaints by root cause), by the same definitions as the figures."""
    start, end = _bounds(first, last)
    if figure.startswith(("first_response_", "resolution_")):
        target, _, outcome = figure.rpartition("_")
        due_column, done_column = TARGETS[target]
        rows = session.execute(
            _scoped(
                select(Ticket.id, due_column, done_column).where(due_column >= start, due_column < end),
                owner_id,
                team_id,
            ).order_by(due_column)
        ).all()
        ids = [ticket_id for ticket_id, due, done in rows if sla_outcome(due, done, now) == outcome]
    elif figure in ("resolved", "first_contact", "not_first_contact"):
        resolved = _resolved_tickets(session, start, end, owner_id, team_id)
        came_back = _came_back_within(session, resolved, calendar)
        wanted = {"resolved": None, "first_contact": True, "not_first_contact": False}[figure]
        ids = [
            t.ticket_id
            for t in sorted(resolved, key=lambda t: t.resolved_at)
            if wanted is None or is_first_contact(t.replies, t.reopened, t.ticket_id in came_back) == wanted
        ]
    elif figure == "complaints":
        query = _scoped(
            select(Ticket.id)
            .join(Complaint, Complaint.ticket_id == Ticket.id)
            .where(Complaint.closed_at >= start, Complaint.closed_at < end),
            owner_id,
            team_id,
        ).order_by(Complaint.closed_at)
        if root_cause is not None:
            query = query.where(Complaint.root_cause == root_cause)
        ids = list(session.scalars(query))
    else:
        raise ValueError(figure)
    return _behind_rows(session, ids[:limit])


def _behind_rows(session: Session, ids: list[int]) -> list[TicketBehind]:
    if not ids:
        return []
    rows = session.execute(
        select(
            Ticket.id,
            Ticket.number,
            Ticket.status,
            Ticket.category,
            Ticket.team_id,
            Ticket.owner_id,
            Ticket.created_at,
        ).where(Ticket.id.in_(ids))
    ).all()
    order = {ticket_id: index for index, ticket_id in enumerate(ids)}
    return sorted((TicketBehind(*row) for row in rows), key=lambda row: order[row.ticket_id])
