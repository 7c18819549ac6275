"""Read models: queues, ticket detail, team board, console lists and the agent's home page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, exists, func, or_, select, union, union_all
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import Unprocessable
from lenddesk.core.models import User
from lenddesk.core.pii import is_valid_mobile, normalise_mobile
from lenddesk.desk import categorise, sla
from lenddesk.desk.models import (
    ACTIVE_STATUSES,
    Agent,
    Complaint,
    ComplaintExtension,
    ComplaintStage,
    Consult,
    FollowUp,
    Message,
    Notification,
    SlaPolicy,
    Team,
    Ticket,
    TicketEvent,
)
from lenddesk.desk.service._common import (
    _TICKET_NUMBER,
    _team_of,
    _teams,
    desk_policy,
    get_ticket,
    mask_sender,
    require_one_of,
    to_simplified,
)
from lenddesk.desk.service.consults import follow_ups_due
from lenddesk.desk.service.verification import levels_now
from lenddesk.ledger import service as ledger

# --- queues, detail, board ------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketFilters:
    view: str = "all"  # all, mine, team, queue, due_soon, breached
    status: str | None = None
    category: str | None = None
    severity: str | None = None
    channel: str | None = None
    q: str | None = None


VIEWS = ("all", "mine", "team", "queue", "due_soon", "breached")


@dataclass(frozen=True)
class TicketRow:
    id: int
    number: str
    subject: str
    channel: str
    sender_masked: str
    status: str
    category: str
    severity: str
    sla_state: str
    due_at: datetime
    owner_id: int | None
    owner_name: str | None
    team_id: int | None
    team_name: str | None
    verification_level: str
    updated_at: datetime


@dataclass(frozen=True)
class TicketPage:
    rows: list[TicketRow]
    next_cursor: str | None


def _cursor(row: Any) -> str:
    return f"{row.due_at.astimezone(UTC).isoformat()}|{row.id}"


def _parse_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        moment, ident = cursor.rsplit("|", 1)
        return datetime.fromisoformat(moment), int(ident)
    except ValueError as exc:
        raise Unprocessable("分页游标无效", "Invalid page cursor", code="bad_cursor") from exc


def _viewer_team(session: Session, viewer_id: int) -> int | None:
    return session.scalar(select(Agent.team_id).where(Agent.user_id == viewer_id))


def _tickets_of_phone(session: Session, mobile: str) -> list[int]:
    """Tickets sent from this phone or of the borrower registered with it (linked by verification or
    named as the sender's candidate): three index lookups."""
    holders = ledger.borrower_ids_where("mobile", mobile)
    return list(
        session.scalars(
            union(
                select(Ticket.id).where(Ticket.sender == mobile),
                select(Ticket.id).where(Ticket.borrower_id.in_(holders)),
                select(Ticket.id).where(Ticket.candidate_borrower_id.in_(holders)),
            )
        )
    )


def _apply_search(session: Session, statement: Select[Any], q: str) -> tuple[Select[Any], bool]:
    """The statement narrowed to the search; True when it now seeks a few tickets by id."""
    q = q.strip()
    if _TICKET_NUMBER.match(q):
        return statement.where(Ticket.number == q.upper()), False
    if is_valid_mobile(q):
        # An OR of sender and borrower in one statement makes SQLite walk the whole queue in due
        # order; the ids of the phone's tickets come from two index lookups instead.
        return statement.where(Ticket.id.in_(_tickets_of_phone(session, normalise_mobile(q)))), True
    simplified = to_simplified(q)
    pattern = f"%{simplified.replace('%', '').replace('_', '')}%"
    by_name = ledger.borrower_ids_where("name", simplified)
    in_messages = exists().where(Message.ticket_id == Ticket.id, Message.text_simplified.like(pattern))
    return statement.where(
        or_(
            Ticket.borrower_id.in_(by_name),
            Ticket.subject.like(pattern),
            Ticket.sender == q.lower(),
            in_messages,
        )
    ), False


def _due_soon_rows(session: Session, statement: Select[Any], limit: int) -> Sequence[Any]:
    """Not yet breached, in due order: one index seek per SLA state (ok, at risk), merged.

    Most overdue tickets are breached; walking the due-date index from the oldest deadline would
    step over all of them before reaching the first one that is merely due soon.
    """
    by_state = [
        statement.where(Ticket.sla_state == state) for state in (sla.SlaState.OK, sla.SlaState.AT_RISK)
    ]
    merged = union_all(*by_state).subquery()
    return session.execute(select(merged).order_by(merged.c.due_at, merged.c.id).limit(limit)).all()


def list_tickets(
    session: Session,
    *,
    viewer: User,
    filters: TicketFilters,
    now: datetime,
    after: str | None = None,
    limit: int = 50,
) -> TicketPage:
    """One page of a queue, ordered by the deadline that counts now (keyset pagination on due_at, id)."""
    require_one_of(filters.view, VIEWS, what_zh="视图", what_en="view", code="unknown_view")
    statement = (
        select(
            Ticket.id,
            Ticket.number,
            Ticket.subject,
            Ticket.channel,
            Ticket.sender,
            Ticket.status,
            Ticket.category,
            Ticket.severity,
            Ticket.sla_state,
            Ticket.due_at,
            Ticket.owner_id,
            User.display_name.label("owner_name"),
            Ticket.team_id,
            Team.name.label("team_name"),
            Ticket.verification_level,
            Ticket.verified_at,
            Ticket.updated_at,
        )
        .outerjoin(User, User.id == Ticket.owner_id)
        .outerjoin(Team, Team.id == Ticket.team_id)
    )
    seeks_ids = False
    if filters.q:
        statement, seeks_ids = _apply_search(session, statement, filters.q)
    if filters.status:
        statement = statement.where(Ticket.status == filters.status)
    elif seeks_ids:
        # The same tickets as `active`, but a term SQLite will not use to walk every active ticket
        # in due order instead of fetching the few ids.
        statement = statement.where(Ticket.status.in_(sorted(ACTIVE_STATUSES)))
    else:
        statement = statement.where(Ticket.active.is_(True))
    if filters.view == "mine":
        statement = statement.where(Ticket.owner_id == viewer.id)
    elif filters.view in ("team", "queue"):
        statement = statement.where(Ticket.team_id == _viewer_team(session, viewer.id))
        if filters.view == "queue":
            statement = statement.where(Ticket.owner_id.is_(None))
    elif filters.view == "due_soon":
        soon = now + timedelta(minutes=desk_policy().due_soon_minutes)
        statement = statement.where(Ticket.due_at <= soon, Ticket.paused_since.is_(None))
    elif filters.view == "breached":
        statement = statement.where(Ticket.sla_state == "breached")
    for column, value in (
        (Ticket.category, filters.category),
        (Ticket.severity, filters.severity),
        (Ticket.channel, filters.channel),
    ):
        if value:
            statement = statement.where(column == value)
    if after:
        due, ident = _parse_cursor(after)
        # The plain range on due_at lets the index seek; the OR only breaks ties.
        statement = statement.where(Ticket.due_at >= due, or_(Ticket.due_at > due, Ticket.id > ident))
    if filters.view == "due_soon":
        rows = _due_soon_rows(session, statement, limit + 1)
    else:
        rows = session.execute(statement.order_by(Ticket.due_at, Ticket.id).limit(limit + 1)).all()
    levels = levels_now(session, [(r.id, r.verification_level, r.verified_at) for r in rows[:limit]], now)
    page = [
        TicketRow(
            r.id,
            r.number,
            r.subject,
            r.channel,
            mask_sender(r.sender),
            r.status,
            r.category,
            r.severity,
            r.sla_state,
            r.due_at,
            r.owner_id,
            r.owner_name,
            r.team_id,
            r.team_name,
            levels[r.id],  # as it holds now: a verification lapses
            r.updated_at,
        )
        for r in rows[:limit]
    ]
    return TicketPage(page, _cursor(rows[limit - 1]) if len(rows) > limit else None)


@dataclass(frozen=True)
class TicketView:
    ticket: Ticket
    owner_name: str | None
    team_name: str | None
    sender_masked: str
    events: list[TicketEvent]
    complaint: Complaint | None
    complaint_stages: list[ComplaintStage]
    extensions: list[ComplaintExtension]
    consults: list[Consult]
    follow_ups: list[FollowUp]


def ticket_detail(session: Session, *, number: str) -> TicketView:
    ticket = get_ticket(session, number=number)
    complaint = session.scalar(select(Complaint).where(Complaint.ticket_id == ticket.id))
    owner = session.get(User, ticket.owner_id) if ticket.owner_id else None
    team = _team_of(session, ticket)
    return TicketView(
        ticket=ticket,
        owner_name=owner.display_name if owner else None,
        team_name=team.name if team else None,
        sender_masked=mask_sender(ticket.sender),
        events=list(
            session.scalars(
                select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
            )
        ),
        complaint=complaint,
        complaint_stages=list(
            session.scalars(
                select(ComplaintStage)
                .where(ComplaintStage.complaint_id == complaint.id)
                .order_by(ComplaintStage.id)
            )
        )
        if complaint
        else [],
        extensions=list(
            session.scalars(select(ComplaintExtension).where(ComplaintExtension.complaint_id == complaint.id))
        )
        if complaint
        else [],
        consults=list(
            session.scalars(select(Consult).where(Consult.ticket_id == ticket.id).order_by(Consult.id))
        ),
        follow_ups=list(
            session.scalars(select(FollowUp).where(FollowUp.ticket_id == ticket.id).order_by(FollowUp.id))
        ),
    )


@dataclass(frozen=True)
class AgentLoad:
    user_id: int
    name: str
    team_id: int | None
    status: str
    load: int
    capacity: int


@dataclass(frozen=True)
class TeamLoad:
    team_id: int | None
    code: str
    name: str
    active: int
    unassigned: int
    at_risk: int
    breached: int


def list_agents(session: Session) -> list[AgentLoad]:
    rows = session.execute(
        select(Agent, User.display_name)
        .join(User, User.id == Agent.user_id)
        .order_by(Agent.team_id, Agent.user_id)
    ).all()
    return [AgentLoad(a.user_id, name, a.team_id, a.status, a.load, a.capacity) for a, name in rows]


def team_board(session: Session) -> list[TeamLoad]:
    """Queue sizes and SLA flags per team (active tickets), for the team-lead board."""
    counts = session.execute(
        select(
            Ticket.team_id,
            func.count(Ticket.id),
            func.count(Ticket.id).filter(Ticket.owner_id.is_(None)),
            func.count(Ticket.id).filter(Ticket.sla_state == "at_risk"),
            func.count(Ticket.id).filter(Ticket.sla_state == "breached"),
        )
        .where(Ticket.active.is_(True))
        .group_by(Ticket.team_id)
    ).all()
    by_team = {row[0]: row for row in counts}
    board = []
    for team in _teams(session):
        row = by_team.get(team.id, (team.id, 0, 0, 0, 0))
        board.append(TeamLoad(team.id, team.code, team.name, row[1], row[2], row[3], row[4]))
    if None in by_team:
        row = by_team[None]
        board.append(TeamLoad(None, "", "未分配团队", row[1], row[2], row[3], row[4]))
    return board


def list_teams(session: Session) -> list[Team]:
    return _teams(session)


def list_sla_policies(session: Session) -> list[SlaPolicy]:
    return list(session.scalars(select(SlaPolicy).order_by(SlaPolicy.category, SlaPolicy.severity)))


def save_sla_policy(
    session: Session,
    *,
    actor: audit.Actor,
    category: str,
    severity: str,
    first_response: int,
    resolution: int,
) -> SlaPolicy:
    if category != "*":
        require_one_of(
            category, categorise.CATEGORIES, what_zh="分类", what_en="category", code="unknown_category"
        )
    require_one_of(
        severity, categorise.SEVERITIES, what_zh="严重级别", what_en="severity", code="unknown_severity"
    )
    if not 0 < first_response <= resolution:
        raise Unprocessable(
            "首次响应时限须大于 0 且不超过解决时限",
            "First response must be positive and no longer than resolution",
            code="bad_sla_targets",
        )
    row = session.scalar(
        select(SlaPolicy).where(SlaPolicy.category == category, SlaPolicy.severity == severity)
    )
    before = (
        None if row is None else {"first": row.first_response_minutes, "resolution": row.resolution_minutes}
    )
    if row is None:
        row = SlaPolicy(category=category, severity=severity)
        session.add(row)
    row.first_response_minutes, row.resolution_minutes = first_response, resolution
    session.flush()
    after = {"first": first_response, "resolution": resolution}
    audit.record(session, actor, "sla_policy.save", ("sla_policy", f"{category}/{severity}"), before, after)
    return row


# --- console read models (added for the console pages; read-only) ---------------------------------


@dataclass(frozen=True)
class ComplaintRow:
    ticket_number: str
    subject: str
    source: str
    flagged: bool
    stage: str
    received_at: datetime
    ack_due_at: datetime
    acknowledged_at: datetime | None
    resolution_days: int
    resolution_due_at: datetime
    root_cause: str | None
    closed_at: datetime | None
    owner_name: str | None
    overdue: bool


def list_complaints(
    session: Session, *, state: str = "open", now: datetime, limit: int = 500
) -> list[ComplaintRow]:
    """Complaints with their ticket in one query: open ones by deadline, closed ones latest first."""
    statement = (
        select(Complaint, Ticket.number, Ticket.subject, User.display_name)
        .join(Ticket, Ticket.id == Complaint.ticket_id)
        .outerjoin(User, User.id == Ticket.owner_id)
    )
    if state == "open":
        statement = statement.where(Complaint.closed_at.is_(None)).order_by(
            Complaint.resolution_due_at, Complaint.id
        )
    elif state == "closed":
        statement = statement.where(Complaint.closed_at.is_not(None)).order_by(Complaint.closed_at.desc())
    else:
        statement = statement.order_by(Complaint.received_at.desc())
    return [
        ComplaintRow(
            number,
            subject,
            c.source,
            c.flagged,
            c.stage,
            c.received_at,
            c.ack_due_at,
            c.acknowledged_at,
            c.resolution_days,
            c.resolution_due_at,
            c.root_cause,
            c.closed_at,
            owner,
            c.closed_at is None and now > c.resolution_due_at,
        )
        for c, number, subject, owner in session.execute(statement.limit(limit)).all()
    ]


# --- the agent's home page ------------------------------------------------------------------------


@dataclass(frozen=True)
class MyDesk:
    open_tickets: int
    at_risk: int
    breached: int
    follow_ups_due: int
    unread_notifications: int = 0


def my_desk(session: Session, *, viewer_id: int, now: datetime) -> MyDesk:
    """What one agent has on their plate now: active tickets they own, their SLA flags, follow-ups, unread
    notifications."""
    mine = select(
        func.count(Ticket.id),
        func.count(Ticket.id).filter(Ticket.sla_state == "at_risk"),
        func.count(Ticket.id).filter(Ticket.sla_state == "breached"),
    ).where(Ticket.owner_id == viewer_id, Ticket.active.is_(True))
    open_tickets, at_risk, breached = session.execute(mine).one()
    unread = session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == viewer_id, Notification.read_at.is_(None)
        )
    )
    follow_ups = len(follow_ups_due(session, owner_id=viewer_id, now=now))
    return MyDesk(open_tickets, at_risk, breached, follow_ups, unread or 0)
