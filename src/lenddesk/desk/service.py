"""Use cases of the service desk. Keyword-only functions taking a Session; they never commit.

Every change a person makes is written to the audit trail in the same transaction. The clock is a
parameter (`now`), so jobs and tests decide what time it is.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import secrets
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

import opencc
from sqlalchemy import (
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    or_,
    select,
    union,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.calendar import SHANGHAI, business_date, calendar_from_policy
from lenddesk.core.errors import Conflict, Forbidden, LendDeskError, NotFound, Unprocessable
from lenddesk.core.models import User
from lenddesk.core.money import format_fen
from lenddesk.core.pii import is_valid_mobile, mask_email, mask_mobile, mask_name, normalise_mobile
from lenddesk.core.policy import DeskPolicy, get_policy
from lenddesk.core.settings import get_settings
from lenddesk.core.sqlite_gate import GatedConnection
from lenddesk.desk import categorise, complaints, disclosure, macros, routing, sla
from lenddesk.desk.models import (
    ACTIVE_STATUSES,
    TICKET_STATUSES,
    Agent,
    Complaint,
    ComplaintAlert,
    ComplaintExtension,
    ComplaintStage,
    Consult,
    FollowUp,
    Macro,
    Message,
    Notification,
    OtpAllowance,
    OtpChallenge,
    OutboxMessage,
    SlaPolicy,
    Team,
    Ticket,
    TicketCounter,
    TicketEvent,
)
from lenddesk.ledger import access as ledger_access
from lenddesk.ledger import service as ledger
from lenddesk.ledger.models import Borrower, Loan

DEPARTMENTS = {"legal": "法务", "risk": "风控", "finance": "财务", "tech": "技术"}
STATUS_LABELS = {
    "new": "新建",
    "open": "处理中",
    "pending_customer": "等待客户",
    "pending_internal": "等待内部",
    "resolved": "已解决",
    "closed": "已关闭",
}
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"open", "pending_customer", "pending_internal", "resolved", "closed"}),
    "open": frozenset({"pending_customer", "pending_internal", "resolved", "closed"}),
    "pending_customer": frozenset({"open", "pending_internal", "resolved", "closed"}),
    "pending_internal": frozenset({"open", "pending_customer", "resolved", "closed"}),
    "resolved": frozenset({"open", "closed"}),
    "closed": frozenset({"open"}),
}
ASSIGNABLE_ROLES = frozenset({"agent", "team_lead", "collector"})
_TICKET_NUMBER = re.compile(r"^T\d{8}-\d{6}$", re.IGNORECASE)


def desk_policy() -> DeskPolicy:
    return get_policy().desk


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → Simplified Chinese for search and rules (ASCII-only text is left alone)."""
    return text if text.isascii() else _t2s().convert(text)


# --- small helpers --------------------------------------------------------------------------------


def _event_row(
    ticket_id: int,
    kind: str,
    actor: audit.Actor,
    body: str | None = None,
    *,
    at: datetime,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The columns of one timeline line (intake inserts several in one statement)."""
    return {
        "ticket_id": ticket_id,
        "at": at,
        "kind": kind,
        "actor_id": actor.user_id,
        "actor_name": actor.name,
        "body": body,
        "data": data,
    }


def _event(
    session: Session,
    ticket: Ticket,
    kind: str,
    actor: audit.Actor,
    body: str | None = None,
    *,
    at: datetime,
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    event = TicketEvent(**_event_row(ticket.id, kind, actor, body, at=at, data=data))
    session.add(event)
    return event


def get_ticket(session: Session, *, number: str) -> Ticket:
    ticket = session.scalar(select(Ticket).where(Ticket.number == number.strip().upper()))
    if ticket is None:
        raise NotFound(f"工单不存在：{number}", f"No such ticket: {number}", code="ticket_not_found")
    return ticket


def _require_text(text: str, what_zh: str = "内容", what_en: str = "text") -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise Unprocessable(f"{what_zh}不能为空", f"The {what_en} must not be empty", code="empty_text")
    return cleaned


def require_one_of(value: str, choices: Iterable[str], *, what_zh: str, what_en: str, code: str) -> str:
    """`value` when it is one of `choices`; otherwise a 422 that names the choices."""
    options = list(choices)
    if value not in options:
        raise Unprocessable(
            f"未知{what_zh}：{value}（可选：{'、'.join(options)}）",
            f"Unknown {what_en}: {value} (one of: {', '.join(options)})",
            code=code,
        )
    return value


def check_channel(channel: str) -> str:
    return require_one_of(
        channel, desk_policy().channels, what_zh="渠道", what_en="channel", code="unknown_channel"
    )


def normalise_sender(sender: str) -> str:
    cleaned = (sender or "").strip()
    if not cleaned:
        raise Unprocessable("发送方不能为空", "The sender must not be empty", code="empty_sender")
    if "@" in cleaned:
        return cleaned.lower()
    if is_valid_mobile(cleaned):
        return normalise_mobile(cleaned)
    return cleaned


def mask_sender(sender: str) -> str:
    if "@" in sender:
        return mask_email(sender)
    if is_valid_mobile(sender):
        return mask_mobile(sender)
    return sender[:4] + "***" if len(sender) > 6 else sender


@lru_cache(maxsize=64)
def _parse_hours(opens: str, closes: str, always_open: bool) -> sla.TeamHours:
    return sla.TeamHours.parse(opens, closes, always_open=always_open)


def _team_hours(team: Team | None) -> sla.TeamHours:
    if team is None:
        return sla.TeamHours()
    return _parse_hours(team.opens, team.closes, team.always_open)


@dataclass(frozen=True)
class SlaDates:
    first_response_due: datetime
    resolution_due: datetime
    due_at: datetime  # the deadline that counts now
    at_risk_at: datetime
    provisional: bool


def _sla_dates(
    started_at: datetime,
    first_minutes: int,
    resolution_minutes: int,
    paused_minutes: int,
    *,
    answered: bool,
    hours: sla.TeamHours,
) -> SlaDates:
    """Deadlines from the clock start, targets and paused minutes; first response counts until answered."""
    calendar = calendar_from_policy()
    first = sla.Clock(started_at, first_minutes, paused_minutes)
    resolution = sla.Clock(started_at, resolution_minutes, paused_minutes)
    first_due, resolution_due = (
        sla.deadline(first, hours, calendar),
        sla.deadline(resolution, hours, calendar),
    )
    current, current_due = (resolution, resolution_due) if answered else (first, first_due)
    return SlaDates(
        first_response_due=first_due.at,
        resolution_due=resolution_due.at,
        due_at=current_due.at,
        at_risk_at=sla.at_risk_from(current, desk_policy().at_risk_ratio, hours, calendar).at,
        provisional=first_due.provisional or resolution_due.provisional,
    )


def _recompute_sla(ticket: Ticket, team: Team | None, *, now: datetime) -> None:
    """Deadlines from the clock start, targets and paused minutes; the flag as of `now`."""
    dates = _sla_dates(
        ticket.sla_started_at,
        ticket.first_response_minutes,
        ticket.resolution_minutes,
        ticket.paused_minutes,
        answered=ticket.first_response_at is not None,
        hours=_team_hours(team),
    )
    ticket.first_response_due, ticket.resolution_due = dates.first_response_due, dates.resolution_due
    ticket.due_at, ticket.at_risk_at = dates.due_at, dates.at_risk_at
    ticket.sla_provisional = dates.provisional
    if ticket.active:
        ticket.sla_state = sla.state_at(
            now,
            due_at=ticket.due_at,
            at_risk_at=ticket.at_risk_at,
            paused=ticket.paused_since is not None,
            previous=sla.SlaState(ticket.sla_state or "ok"),
        ).value


def _team_of(session: Session, ticket: Ticket) -> Team | None:
    return session.get(Team, ticket.team_id) if ticket.team_id is not None else None


def _change_load(session: Session, user_id: int | None, delta: int) -> None:
    if user_id is None or delta == 0:
        return
    result = session.execute(update(Agent).where(Agent.user_id == user_id).values(load=Agent.load + delta))
    if result.rowcount == 0 and delta > 0:  # type: ignore[attr-defined]
        session.add(Agent(user_id=user_id, load=delta, capacity=desk_policy().default_agent_capacity))
        session.flush()


def _set_owner(session: Session, ticket: Ticket, owner_id: int | None) -> None:
    if ticket.owner_id == owner_id:
        return
    if ticket.active:
        _change_load(session, ticket.owner_id, -1)
        _change_load(session, owner_id, +1)
    ticket.owner_id = owner_id


def _auto_assign(session: Session, ticket: Ticket, team: Team | None) -> int | None:
    """Give the ticket to the least-loaded online agent of its team, or leave it in the team queue."""
    if team is None:
        return None
    chosen = _choose_owner(session, team.id)
    if chosen is not None:
        _set_owner(session, ticket, chosen)
        team.last_assigned_user_id = chosen
    return chosen


def _teams(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(Team.id)))


@dataclass(frozen=True)
class RoutingTeam:
    """What intake needs of a team: its skills and its service hours."""

    skills: routing.TeamSkills
    hours: sla.TeamHours

    @property
    def id(self) -> int:
        return self.skills.team_id


def _route_team(teams: Sequence[RoutingTeam], category: str, *, flagged: bool) -> RoutingTeam | None:
    chosen = routing.choose_team(
        [t.skills for t in teams], category, flagged=flagged, complaints_team=desk_policy().complaints_team
    )
    return next((t for t in teams if chosen is not None and t.id == chosen.team_id), None)


def _snapshot(ticket: Ticket) -> dict[str, Any]:
    return {
        "status": ticket.status,
        "owner_id": ticket.owner_id,
        "team_id": ticket.team_id,
        "category": ticket.category,
        "severity": ticket.severity,
        "verification_level": ticket.verification_level,
    }


# --- intake ---------------------------------------------------------------------------------------
#
# Intake is the hot path (every message from every channel). It reads only the columns it needs,
# takes every decision that needs no lock before its first write (on SQLite the first write takes
# the database's write gate until COMMIT, so the time between them is what limits throughput),
# then writes the ticket, the message and the timeline lines with one INSERT each. Its statements
# are built once: building a SQLAlchemy statement costs more than SQLite takes to run it.


@dataclass(frozen=True)
class IntakeResult:
    ticket_number: str
    created: bool
    ticket_id: int
    outcome: str  # created, joined, reopened, duplicate


@dataclass(frozen=True)
class InboundMessage:
    """An inbound message, checked and normalised."""

    channel: str
    message_id: str
    sender: str
    text: str
    simplified: str  # OpenCC t2s, for rules and search
    received_at: datetime
    suggestion: categorise.Suggestion  # category and severity from the simplified text


# Core statements on the tables (not the ORM classes): no ORM loading on the hot path.
_tickets, _messages, _events = Ticket.__table__, Message.__table__, TicketEvent.__table__
_teams_t, _agents, _borrowers = Team.__table__, Agent.__table__, Borrower.__table__
_TICKET_OF_MESSAGE = (
    select(_tickets.c.number, _tickets.c.id)
    .join(_messages, _messages.c.ticket_id == _tickets.c.id)
    .where(
        _messages.c.channel == bindparam("channel"), _messages.c.channel_message_id == bindparam("message_id")
    )
)
_LATEST_TICKET_OF_SENDER = (
    select(
        *(
            _tickets.c[name]
            for name in (
                "id",
                "number",
                "status",
                "active",
                "severity",
                "category_confirmed",
                "flags",
                "resolved_at",
                "closed_at",
            )
        )
    )
    .where(_tickets.c.channel == bindparam("channel"), _tickets.c.sender == bindparam("sender"))
    .order_by(_tickets.c.active.desc(), _tickets.c.id.desc())  # the open one, else the latest
    .limit(1)
)
_BORROWER_BY = {
    name: select(_borrowers.c.id).where(_borrowers.c[name] == bindparam("sender")).limit(1)
    for name in ("email", "mobile", "wechat_openid")
}
_ROUTING_TEAMS = select(
    *(_teams_t.c[name] for name in ("id", "code", "skills", "opens", "closes", "always_open"))
).order_by(_teams_t.c.id)
_sla = SlaPolicy.__table__
_SLA_TARGETS = select(_sla.c.category, _sla.c.first_response_minutes, _sla.c.resolution_minutes).where(
    _sla.c.category.in_([bindparam("category"), "*"]), _sla.c.severity == bindparam("severity")
)
_TEAM_AGENTS = (
    select(
        _teams_t.c.last_assigned_user_id,
        _agents.c.user_id,
        _agents.c.status,
        _agents.c.capacity,
        _agents.c.load,
    )
    .select_from(_teams_t.outerjoin(_agents, _agents.c.team_id == _teams_t.c.id))
    .where(_teams_t.c.id == bindparam("team_id"))
)
_INSERT_MESSAGE = insert(_messages)
_INSERT_EVENTS = insert(_events)
_INSERT_COMPLAINT = insert(Complaint.__table__).returning(Complaint.__table__.c.id)
_INSERT_COMPLAINT_STAGE = insert(ComplaintStage.__table__)
# After these updates `_expire_if_loaded` makes a row the session already holds reload.
_TOUCH_TICKET = (
    update(_tickets)
    .where(_tickets.c.id == bindparam("ticket_id"))
    .values(last_inbound_at=bindparam("received_at"), updated_at=bindparam("now"))
)
_ADD_ONE_TO_LOAD = (
    update(_agents).where(_agents.c.user_id == bindparam("agent_id")).values(load=_agents.c.load + 1)
)
_SET_LAST_ASSIGNED = (
    update(_teams_t)
    .where(_teams_t.c.id == bindparam("team_id"))
    .values(last_assigned_user_id=bindparam("agent_id"))
)


@lru_cache(maxsize=2)
def _ticket_counter_upsert(dialect: str) -> Any:
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    counters = TicketCounter.__table__
    return (
        upsert(counters)
        .values(day=bindparam("day"), last=1)
        .on_conflict_do_update(index_elements=["day"], set_={"last": counters.c.last + 1})
        .returning(counters.c.last)
    )


@lru_cache(maxsize=2)
def _insert_ticket(dialect: str) -> Any:
    """INSERT a ticket unless the sender already has an open one on the channel (then no row returns).

    The partial unique index `uq_desk_tickets_open_sender` decides, so two first messages at the same
    moment make one ticket: the loser's insert does nothing and its message joins the winner's ticket.
    """
    statement = pg_insert(_tickets) if dialect == "postgresql" else sqlite_insert(_tickets)
    return statement.on_conflict_do_nothing(
        index_elements=["channel", "sender"], index_where=_tickets.c.active
    ).returning(_tickets.c.id)


def _expire_if_loaded(session: Session, model: type[Any], ident: int) -> None:
    loaded = session.identity_map.get(session.identity_key(model, ident))
    if loaded is not None:
        session.expire(loaded)


def _next_ticket_number(session: Session, day: date) -> str:
    statement = _ticket_counter_upsert(session.get_bind().dialect.name)
    sequence = session.execute(statement, {"day": day}).scalar_one()
    return f"T{day:%Y%m%d}-{sequence:06d}"


def _matching_borrower_id(session: Session, channel: str, sender: str) -> int | None:
    """The borrower registered with this e-mail, phone or (on WeChat) openid, if any."""
    if "@" in sender:
        column = "email"
    elif is_valid_mobile(sender):
        column = "mobile"
    elif channel == "wechat":
        column = "wechat_openid"
    else:
        return None
    return session.scalar(_BORROWER_BY[column], {"sender": sender})


def _routing_teams(session: Session) -> list[RoutingTeam]:
    return [
        RoutingTeam(
            routing.TeamSkills(r.id, r.code, frozenset(r.skills or [])),
            _parse_hours(r.opens, r.closes, r.always_open),
        )
        for r in session.execute(_ROUTING_TEAMS)
    ]


def _sla_target(session: Session, category: str, severity: str) -> tuple[int, int]:
    rows = session.execute(_SLA_TARGETS, {"category": category, "severity": severity}).all()
    for wanted in (category, "*"):
        for row in rows:
            if row.category == wanted:
                return row.first_response_minutes, row.resolution_minutes
    first, resolution = desk_policy().default_sla[severity]
    return first, resolution


def _choose_owner(session: Session, team_id: int) -> int | None:
    """The least-loaded online agent of the team (round-robin on ties), read in the caller's transaction.

    Intake calls this after its first write, so on SQLite it runs under the write gate: two workers
    never choose from the same loads or the same round-robin position.
    """
    rows = session.execute(_TEAM_AGENTS, {"team_id": team_id}).all()
    slots = [
        routing.AgentSlot(r.user_id, r.status, r.capacity, r.load) for r in rows if r.user_id is not None
    ]
    return routing.choose_agent(slots, rows[0].last_assigned_user_id if rows else None)


def intake(
    session: Session,
    *,
    channel: str,
    channel_message_id: str,
    sender: str,
    text: str,
    received_at: datetime,
    now: datetime,
    actor: audit.Actor,
) -> IntakeResult:
    """Turn an inbound message into a new ticket, or add it to the sender's open (or recent) ticket.

    The same (channel, channel_message_id) twice creates nothing and answers the same ticket.
    """
    check_channel(channel)
    text = _require_text(text, "消息内容", "message text")
    message_id = _require_text(channel_message_id, "渠道消息编号", "channel_message_id")
    sender = normalise_sender(sender)
    received_at = min(received_at if received_at.tzinfo else received_at.replace(tzinfo=UTC), now)
    duplicate = session.execute(_TICKET_OF_MESSAGE, {"channel": channel, "message_id": message_id}).first()
    if duplicate is not None:
        return IntakeResult(duplicate.number, False, duplicate.id, "duplicate")
    simplified = to_simplified(text)
    message = InboundMessage(
        channel, message_id, sender, text, simplified, received_at, categorise.suggest(simplified)
    )
    latest = _latest_ticket_of(session, message)
    if latest is not None and latest.active:
        ticket_id, number, outcome = latest.id, latest.number, "joined"
        events = _join(session, latest, message, actor=actor, now=now)
    elif latest is not None and _reopenable(latest, received_at):
        ticket_id, number, outcome, events = _reopen_for_message(
            session, latest, message, actor=actor, now=now
        )
    else:
        created = _create_ticket(session, message, actor=actor, now=now)
        if created is None:  # the same sender's ticket was opened at the same moment: join it
            latest = _latest_ticket_of(session, message)
            ticket_id, number, outcome = latest.id, latest.number, "joined"
            events = _join(session, latest, message, actor=actor, now=now)
        else:
            (ticket_id, number, events), outcome = created, "created"
    _add_message(session, ticket_id, message, events, actor=actor)
    return IntakeResult(number, outcome == "created", ticket_id, outcome)


def _latest_ticket_of(session: Session, message: InboundMessage) -> Any:
    parameters = {"channel": message.channel, "sender": message.sender}
    return session.execute(_LATEST_TICKET_OF_SENDER, parameters).first()


def _reopen_for_message(
    session: Session, latest: Any, message: InboundMessage, *, actor: audit.Actor, now: datetime
) -> tuple[int, str, str, list[dict[str, Any]]]:
    """Reopen the sender's recently closed ticket, unless a simultaneous message already did (then join)."""
    ticket = lock_ticket(session, ticket_id=latest.id)
    current = _latest_ticket_of(session, message)  # read again under the lock
    if current.active:
        return current.id, current.number, "joined", _join(session, current, message, actor=actor, now=now)
    _reopen(session, ticket, actor=actor, at=message.received_at, reason="客户发来新消息")
    _touch_ticket(session, ticket.id, message, now=now)
    return ticket.id, ticket.number, "reopened", []


def _loaded_ticket(session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    assert ticket is not None
    return ticket


def _touch_ticket(
    session: Session, ticket_id: int, message: InboundMessage, *, now: datetime, **changes: Any
) -> None:
    """Record the new message's time on the ticket, with any other changes (rare: built on demand)."""
    session.flush()  # a status change or reopen made on the loaded ticket goes first
    statement = _TOUCH_TICKET.values(**changes) if changes else _TOUCH_TICKET
    session.execute(statement, {"ticket_id": ticket_id, "received_at": message.received_at, "now": now})
    _expire_if_loaded(session, Ticket, ticket_id)


def _add_message(
    session: Session,
    ticket_id: int,
    message: InboundMessage,
    events: list[dict[str, Any]],
    *,
    actor: audit.Actor,
) -> None:
    """The message, then this intake's timeline lines ending with the inbound one."""
    session.execute(
        _INSERT_MESSAGE,
        {
            "ticket_id": ticket_id,
            "direction": "in",
            "channel": message.channel,
            "channel_message_id": message.message_id,
            "sender": message.sender,
            "text": message.text,
            "text_simplified": message.simplified,
            "received_at": message.received_at,
        },
    )
    inbound = _event_row(
        ticket_id, "inbound", actor, message.text, at=message.received_at, data={"channel": message.channel}
    )
    session.execute(_INSERT_EVENTS, [*events, inbound])


def _reopenable(ticket: Any, at: datetime) -> bool:
    ended = ticket.closed_at or ticket.resolved_at
    return ended is not None and at - ended <= timedelta(days=desk_policy().reopen_days)


def _join(
    session: Session, latest: Any, message: InboundMessage, *, actor: audit.Actor, now: datetime
) -> list[dict[str, Any]]:
    """A new message on the sender's active ticket: answered status, raised severity, new flags."""
    at, suggestion = message.received_at, message.suggestion
    if latest.status == "pending_customer":
        _set_status(
            session, _loaded_ticket(session, latest.id), "open", actor=actor, at=at, reason="客户已回复"
        )
    events, changes = [], {}
    raised = categorise.higher(latest.severity, suggestion.severity)
    if raised != latest.severity and not latest.category_confirmed:
        body = f"严重级别提升：{latest.severity} → {raised}"
        events.append(_event_row(latest.id, "category", actor, body, at=at))
        changes["severity"] = raised
    flags = sorted(set(latest.flags or []) | set(suggestion.escalations))
    if flags != sorted(latest.flags or []):
        changes["flags"] = flags
    _touch_ticket(session, latest.id, message, now=now, **changes)
    return events


def _complaint_source(suggestion: categorise.Suggestion) -> str:
    return next((s for s in ("regulator", "media", "lawyer") if s in suggestion.escalations), "customer")


def _create_ticket(
    session: Session, message: InboundMessage, *, actor: audit.Actor, now: datetime
) -> tuple[int, str, list[dict[str, Any]]] | None:
    """A new ticket routed to a team and an agent; returns its id, number and timeline lines.

    None when the sender's open ticket on the channel appeared meanwhile (a simultaneous message).
    """
    at, suggestion = message.received_at, message.suggestion
    team = _route_team(_routing_teams(session), suggestion.category, flagged=suggestion.flagged)
    team_id = team.id if team else None
    first, resolution = _sla_target(session, suggestion.category, suggestion.severity)
    dates = _sla_dates(
        at, first, resolution, 0, answered=False, hours=team.hours if team else sla.TeamHours()
    )
    source = _complaint_source(suggestion) if suggestion.is_complaint else None
    flags = list(suggestion.escalations)
    row = {
        "channel": message.channel,
        "sender": message.sender,
        "borrower_id": _matching_borrower_id(session, message.channel, message.sender),
        "subject": message.simplified[:60],
        "category": suggestion.category,
        "severity": suggestion.severity,
        "status": "new",
        "active": True,
        "team_id": team_id,
        "tags": _complaint_tags(source) if source else [],
        "flags": flags,
        "verification_level": "none",
        "sla_started_at": at,
        "first_response_minutes": first,
        "resolution_minutes": resolution,
        "paused_minutes": 0,
        "first_response_due": dates.first_response_due,
        "resolution_due": dates.resolution_due,
        "due_at": dates.due_at,
        "at_risk_at": dates.at_risk_at,
        "sla_provisional": dates.provisional,
        "sla_state": sla.state_at(
            at, due_at=dates.due_at, at_risk_at=dates.at_risk_at, paused=False, previous=sla.SlaState.OK
        ).value,
        "created_at": at,
        "updated_at": now,
        "last_inbound_at": at,
    }
    # The first write: from here until COMMIT, SQLite's write gate is held.
    number = _next_ticket_number(session, business_date(at))
    owner = _choose_owner(session, team_id) if team_id is not None else None
    insert_ticket = _insert_ticket(session.get_bind().dialect.name)
    ticket_id = session.execute(insert_ticket, {**row, "number": number, "owner_id": owner}).scalar()
    if ticket_id is None:
        return None  # the sender's open ticket now exists (the day's counter keeps a gap)
    if owner is not None:
        session.execute(_ADD_ONE_TO_LOAD, {"agent_id": owner})
        session.execute(_SET_LAST_ASSIGNED, {"team_id": team_id, "agent_id": owner})
        _expire_if_loaded(session, Agent, owner)
        _expire_if_loaded(session, Team, team_id)
    category = categorise.CATEGORIES[suggestion.category]
    events = [
        _event_row(
            ticket_id,
            "category",
            actor,
            f"建议分类：{category} / {suggestion.severity}",
            at=at,
            data={"category": suggestion.category, "severity": suggestion.severity, "flags": flags},
        )
    ]
    if team_id is not None:
        assignment = {"team_id": team_id, "owner_id": owner}
        events.append(_event_row(ticket_id, "assignment", actor, None, at=at, data=assignment))
    if source is not None:
        events.append(_complaint_on_new_ticket(session, ticket_id, source, message, actor=actor))
    snapshot = {
        "status": "new",
        "owner_id": owner,
        "team_id": team_id,
        "category": suggestion.category,
        "severity": suggestion.severity,
        "verification_level": "none",
    }
    audit.record(session, actor, "ticket.create", ("ticket", number), None, snapshot)
    return ticket_id, number, events


def _complaint_on_new_ticket(
    session: Session, ticket_id: int, source: str, message: InboundMessage, *, actor: audit.Actor
) -> dict[str, Any]:
    """The receive stage of a complaint found in a new ticket's first message; returns its timeline line.

    A flagged (regulator/media) complaint needs no transfer here: routing already chose the
    complaints team for it.
    """
    at = message.received_at
    complaint = {"ticket_id": ticket_id, **_complaint_columns(source, at)}
    complaint_id = session.execute(_INSERT_COMPLAINT, complaint).scalar_one()
    stage = {
        "complaint_id": complaint_id,
        "stage": "receive",
        "actor_id": actor.user_id,
        "actor_name": actor.name,
        "at": at,
        "content": message.simplified,
    }
    session.execute(_INSERT_COMPLAINT_STAGE, stage)
    return _event_row(ticket_id, "complaint", actor, **_complaint_event(source, at))


def _reopen(session: Session, ticket: Ticket, *, actor: audit.Actor, at: datetime, reason: str) -> None:
    before = _snapshot(ticket)
    ticket.reopened_count += 1
    ticket.sla_started_at = at
    ticket.first_response_at = None
    ticket.paused_minutes = 0
    ticket.escalated_due_at = None
    ticket.sla_state = "ok"
    _set_status(session, ticket, "open", actor=actor, at=at, reason=reason)
    _event(session, ticket, "reopen", actor, reason, at=at)
    _drop_verification(session, ticket, actor=actor, at=at)
    audit.record(session, actor, "ticket.reopen", ("ticket", ticket.number), before, _snapshot(ticket))


# --- status ---------------------------------------------------------------------------------------


def _set_status(
    session: Session, ticket: Ticket, status: str, *, actor: audit.Actor, at: datetime, reason: str | None
) -> None:
    old = ticket.status
    if status == old:
        return
    team = _team_of(session, ticket)
    if old == "pending_customer" and ticket.paused_since is not None:
        paused = sla.pause_length(ticket.paused_since, at, _team_hours(team), calendar_from_policy())
        ticket.paused_minutes += paused
        ticket.paused_since = None
    if status == "pending_customer":
        ticket.paused_since = at
    was_active, now_active = ticket.active, status in ACTIVE_STATUSES
    if was_active != now_active:
        _change_load(session, ticket.owner_id, +1 if now_active else -1)
    ticket.status, ticket.active = status, now_active
    if status == "resolved":
        ticket.resolved_at = at
    elif status == "closed":
        ticket.closed_at = at
        ticket.resolved_at = ticket.resolved_at or at
    elif now_active:
        ticket.resolved_at = ticket.closed_at = None
    _recompute_sla(ticket, team, now=at)
    ticket.updated_at = at
    _event(session, ticket, "status", actor, reason, at=at, data={"from": old, "to": status})


def change_status(
    session: Session, *, actor: audit.Actor, number: str, status: str, reason: str | None, now: datetime
) -> Ticket:
    require_one_of(status, TICKET_STATUSES, what_zh="状态", what_en="status", code="unknown_status")
    ticket = lock_ticket(session, number=number)
    if status not in TRANSITIONS[ticket.status]:
        raise Conflict(
            f"工单状态不能从「{STATUS_LABELS[ticket.status]}」改为「{STATUS_LABELS[status]}」",
            f"A ticket cannot go from {ticket.status} to {status}",
            code="status_transition",
        )
    if status in ("resolved", "closed"):
        _check_complaint_stages_done(session, ticket)
    elif not ticket.active:
        _check_no_other_open_ticket(session, ticket)
    before = _snapshot(ticket)
    if ticket.status in ("resolved", "closed") and status == "open":
        _reopen(session, ticket, actor=actor, at=now, reason=reason or "客服重新打开")
    else:
        _set_status(session, ticket, status, actor=actor, at=now, reason=reason)
    audit.record(session, actor, "ticket.status", ("ticket", ticket.number), before, _snapshot(ticket))
    return ticket


def _check_complaint_stages_done(session: Session, ticket: Ticket) -> None:
    """A ticket with an open complaint ends only once the complaint's five stages are recorded."""
    complaint = session.scalar(
        select(Complaint).where(Complaint.ticket_id == ticket.id, Complaint.closed_at.is_(None))
    )
    if complaint is None:
        return
    missing = [stage for stage in complaints.STAGES if stage not in _stages_done(session, complaint)]
    if missing:
        raise Conflict(
            f"该工单有未办结的投诉，尚有环节未完成：{'、'.join(complaints.STAGE_LABELS[s] for s in missing)}",
            f"The ticket has an open complaint with stages still to record: {', '.join(missing)}",
            code="complaint_stages_open",
            details={"missing": missing},
        )


def _check_no_other_open_ticket(session: Session, ticket: Ticket) -> None:
    """Reopening an old ticket must not give the sender a second open ticket on the channel."""
    other = session.scalar(
        select(Ticket.number).where(
            Ticket.channel == ticket.channel,
            Ticket.sender == ticket.sender,
            Ticket.active.is_(True),
            Ticket.id != ticket.id,
        )
    )
    if other is not None:
        raise Conflict(
            f"该客户在此渠道已有处理中的工单 {other}，请在该工单中继续处理",
            f"The sender already has an open ticket on this channel: {other}",
            code="sender_has_open_ticket",
            details={"ticket_number": other},
        )


def _first_response(session: Session, ticket: Ticket, *, actor: audit.Actor, now: datetime) -> None:
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        if ticket.sla_state == "breached":
            ticket.sla_state = "ok"  # the first-response breach stays on the timeline; resolution counts now
        _recompute_sla(ticket, _team_of(session, ticket), now=now)
    if ticket.status == "new":
        _set_status(session, ticket, "open", actor=actor, at=now, reason=None)


# --- replies, notes, delivery ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReplyResult:
    ticket: Ticket
    outbox: OutboxMessage
    text: str


def reply(
    session: Session,
    *,
    actor: audit.Actor,
    number: str,
    text: str | None,
    macro_code: str | None,
    now: datetime,
    agent_name: str | None = None,
) -> ReplyResult:
    """Send a reply through the outbox. Account data is refused below the policy's verification level."""
    ticket = get_ticket(session, number=number)
    if macro_code:
        text = render_macro(
            session, ticket=ticket, code=macro_code, agent_name=agent_name or actor.name, now=now
        )
    body = _require_text(text or "", "回复内容", "reply text")
    _refuse_account_data(session, ticket, body, level=effective_level(session, ticket, now), now=now)
    outbox = OutboxMessage(
        ticket_id=ticket.id,
        channel=ticket.channel,
        recipient=ticket.sender,
        kind="reply",
        body=body,
        created_at=now,
    )
    session.add(outbox)
    session.add(
        Message(
            ticket_id=ticket.id,
            direction="out",
            channel=ticket.channel,
            sender=actor.name,
            text=body,
            text_simplified=body,
            received_at=now,
        )
    )
    session.flush()
    _event(
        session,
        ticket,
        "outbound",
        actor,
        body,
        at=now,
        data={"outbox_id": outbox.id, "delivery": "queued", "macro": macro_code},
    )
    _first_response(session, ticket, actor=actor, now=now)
    ticket.updated_at = now
    audit.record(
        session,
        actor,
        "ticket.reply",
        ("ticket", ticket.number),
        None,
        {"outbox_id": outbox.id, "macro": macro_code},
    )
    return ReplyResult(ticket, outbox, body)


def add_note(session: Session, *, actor: audit.Actor, number: str, text: str, now: datetime) -> TicketEvent:
    ticket = get_ticket(session, number=number)
    body = _require_text(text, "备注", "note")
    event = _event(session, ticket, "note", actor, body, at=now)
    ticket.updated_at = now
    session.flush()
    audit.record(session, actor, "ticket.note", ("ticket", ticket.number), None, {"event_id": event.id})
    return event


def deliver_outbox(
    session: Session, *, adapters: dict[str, Any], now: datetime, limit: int = 500
) -> Counter[str]:
    """Hand queued messages to the channel adapters; the outcome goes on the ticket timeline."""
    from lenddesk.channels.delivery_log import Outgoing

    outcome: Counter[str] = Counter()
    queued = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == "queued", OutboxMessage.channel.in_(list(adapters)))
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    system = audit.Actor.system("channels")
    for message in queued:
        body, secret = message.body, None
        if message.kind == "otp" and body.startswith(_OTP_REFERENCE):
            drawn = _otp_text(session, message, now)
            if drawn is None:
                message.status = "failed"
                message.last_error = "code void before delivery (replaced or expired)"
                outcome["failed"] += 1
                continue
            body, secret = drawn
        result = adapters[message.channel].deliver(
            Outgoing(message.id, message.channel, message.recipient, body, secret), now=now
        )
        message.attempts += 1
        message.status = "delivered" if result.delivered else "failed"
        message.delivered_at = now if result.delivered else None
        message.last_error = result.error
        outcome[message.status] += 1
        if message.ticket_id is not None:
            ticket = session.get(Ticket, message.ticket_id)
            label = "已送达" if result.delivered else f"投递失败：{result.error}"
            assert ticket is not None
            _event(
                session,
                ticket,
                "delivery",
                system,
                label,
                at=now,
                data={"outbox_id": message.id, "delivery": message.status, "kind": message.kind},
            )
    return outcome


# --- categorisation, assignment ------------------------------------------------------------------


def categorise_ticket(
    session: Session, *, actor: audit.Actor, number: str, category: str, severity: str, now: datetime
) -> Ticket:
    """The agent confirms or corrects the category and severity; SLA targets follow."""
    require_one_of(
        category, categorise.CATEGORIES, what_zh="分类", what_en="category", code="unknown_category"
    )
    require_one_of(
        severity, categorise.SEVERITIES, what_zh="严重级别", what_en="severity", code="unknown_severity"
    )
    ticket = get_ticket(session, number=number)
    before = _snapshot(ticket)
    ticket.category, ticket.severity, ticket.category_confirmed = category, severity, True
    ticket.first_response_minutes, ticket.resolution_minutes = _sla_target(session, category, severity)
    _recompute_sla(ticket, _team_of(session, ticket), now=now)
    ticket.updated_at = now
    _event(
        session,
        ticket,
        "category",
        actor,
        f"确认分类：{categorise.CATEGORIES[category]} / {severity}",
        at=now,
        data={"category": category, "severity": severity},
    )
    audit.record(session, actor, "ticket.categorise", ("ticket", ticket.number), before, _snapshot(ticket))
    return ticket


def _team_by_code(session: Session, code: str) -> Team:
    team = session.scalar(select(Team).where(Team.code == code))
    if team is None:
        raise NotFound(f"团队不存在：{code}", f"No such team: {code}", code="team_not_found")
    return team


LEAD_ROLES = frozenset({"team_lead", "admin"})


def lock_ticket(session: Session, *, number: str | None = None, ticket_id: int | None = None) -> Ticket:
    """The ticket (by number or id), locked for this transaction before anything about it is read.

    PostgreSQL: `SELECT … FOR UPDATE`. SQLite: the database's write gate, taken before the read, so
    a concurrent writer's commit is either wholly seen or waits for ours.
    """
    connection = session.connection().connection.dbapi_connection
    if isinstance(connection, GatedConnection):
        connection.acquire_gate()
    criterion = Ticket.id == ticket_id if number is None else Ticket.number == number.strip().upper()
    statement = select(Ticket).where(criterion).with_for_update().execution_options(populate_existing=True)
    ticket = session.scalar(statement)
    if ticket is None:
        which = number if number is not None else ticket_id
        raise NotFound(f"工单不存在：{which}", f"No such ticket: {which}", code="ticket_not_found")
    return ticket


def _check_may_take(ticket: Ticket, actor: audit.Actor, owner_id: int | None) -> None:
    """Agents and collectors take only what is unowned or theirs, and only for themselves; leads assign."""
    if actor.role in LEAD_ROLES:
        return
    if ticket.owner_id is not None and ticket.owner_id != actor.user_id:
        raise Conflict("该工单已有负责人", "The ticket already has an owner", code="ticket_owned")
    if owner_id is not None and owner_id != actor.user_id:
        raise Forbidden(
            "只有组长可以把工单分配给他人",
            "Only a team lead may assign a ticket to someone else",
            code="assign_needs_lead",
        )


def assign(
    session: Session,
    *,
    actor: audit.Actor,
    number: str,
    owner_id: int | None,
    team_code: str | None,
    now: datetime,
) -> Ticket:
    """Assign to an agent, or transfer to a team (auto-routed inside it when no agent is named).

    Agents and collectors may take an unowned ticket or move their own; team leads assign anyone's.
    """
    ticket = lock_ticket(session, number=number)
    _check_may_take(ticket, actor, owner_id)
    before = _snapshot(ticket)
    if team_code:
        team = _team_by_code(session, team_code)
        if team.id != ticket.team_id:
            ticket.team_id = team.id
            _recompute_sla(ticket, team, now=now)
        if owner_id is None:
            _set_owner(session, ticket, None)
            _auto_assign(session, ticket, team)
    if owner_id is not None:
        user = session.get(User, owner_id)
        if user is None or not user.active or user.role not in ASSIGNABLE_ROLES:
            raise Unprocessable(
                f"不能把工单分配给该用户：{owner_id}",
                f"Tickets can only be assigned to active agents, collectors or team leads: {owner_id}",
                code="bad_assignee",
            )
        _set_owner(session, ticket, owner_id)
        if ticket.team_id is None:
            ticket.team_id = session.scalar(select(Agent.team_id).where(Agent.user_id == owner_id))
    ticket.updated_at = now
    _event(
        session,
        ticket,
        "assignment",
        actor,
        None,
        at=now,
        data={"team_id": ticket.team_id, "owner_id": ticket.owner_id},
    )
    audit.record(session, actor, "ticket.assign", ("ticket", ticket.number), before, _snapshot(ticket))
    return ticket


def claim(session: Session, *, actor: audit.Actor, number: str, now: datetime) -> Ticket:
    ticket = lock_ticket(session, number=number)
    if ticket.owner_id is not None and ticket.owner_id != actor.user_id:
        raise Conflict("该工单已有负责人", "The ticket already has an owner", code="ticket_owned")
    before = _snapshot(ticket)
    _set_owner(session, ticket, actor.user_id)
    ticket.updated_at = now
    _event(session, ticket, "assignment", actor, "认领工单", at=now, data={"owner_id": actor.user_id})
    audit.record(session, actor, "ticket.claim", ("ticket", ticket.number), before, _snapshot(ticket))
    return ticket


def set_agent_status(
    session: Session,
    *,
    actor: audit.Actor,
    user_id: int,
    status: str,
    capacity: int | None = None,
    team_code: str | None = None,
    now: datetime,
) -> Agent:
    require_one_of(
        status, routing.AGENT_STATUSES, what_zh="坐席状态", what_en="agent status", code="bad_status"
    )
    if actor.user_id != user_id and actor.role not in ("team_lead", "admin"):
        raise Forbidden(
            "只能修改自己的坐席状态", "You can only change your own status", code="not_own_status"
        )
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"用户不存在：{user_id}", f"No such user: {user_id}")
    agent = session.get(Agent, user_id)
    if agent is None:
        agent = Agent(
            user_id=user_id, status="offline", capacity=desk_policy().default_agent_capacity, load=0
        )
        session.add(agent)
    before = {"status": agent.status, "capacity": agent.capacity, "team_id": agent.team_id}
    agent.status = status
    if capacity is not None:
        agent.capacity = capacity
    if team_code is not None:
        agent.team_id = _team_by_code(session, team_code).id
    agent.updated_at = now
    session.flush()
    after = {"status": agent.status, "capacity": agent.capacity, "team_id": agent.team_id}
    audit.record(session, actor, "agent.status", ("agent", user_id), before, after)
    return agent


# --- verification ---------------------------------------------------------------------------------
#
# A verification holds while the borrower keeps writing (policy: verification_idle_minutes between
# their messages) and is dropped when the ticket reopens. Every verification write locks the ticket
# first, so attempts and limits are counted exactly under concurrent requests; the counters
# themselves are incremented in SQL. One-time codes never rest in clear: the outbox holds
# `otp:<challenge id>`, and the code is drawn, hashed (with its own key) and put in the text only
# when the SMS adapter sends it (`deliver_outbox`).


@dataclass(frozen=True)
class VerificationOutcome:
    verified: bool
    level: str
    reason: str = ""
    attempts_left: int | None = None
    expires_at: datetime | None = None
    sent_to: str | None = None


class OtpRefused(LendDeskError):
    """A code asked for too soon or too often."""

    status_code = 429
    default_code = "otp_rate_limited"


_OTP_REFERENCE = "otp:"
_LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def _locked_ticket(session: Session, *, number: str) -> Ticket:
    """The ticket with its row locked until COMMIT: FOR UPDATE on PostgreSQL, the write gate on SQLite."""
    connection = session.connection()
    driver = connection.connection.driver_connection
    if isinstance(driver, GatedConnection):
        driver.acquire_gate()
    ticket = session.scalar(
        select(Ticket)
        .where(Ticket.number == number.strip().upper())
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return ticket if ticket is not None else get_ticket(session, number=number)  # the latter raises


def _verification_input(value: str, what_zh: str, what_en: str) -> str:
    """NFKC (full-width → half-width), trimmed; a lone surrogate is refused (it cannot be stored)."""
    cleaned = unicodedata.normalize("NFKC", value).strip()
    if any("\ud800" <= ch <= "\udfff" for ch in cleaned):
        raise Unprocessable(
            f"{what_zh}含无效字符", f"The {what_en} contains invalid characters", code="verification_input"
        )
    return cleaned


def effective_level(session: Session, ticket: Ticket, now: datetime) -> str:
    """The ticket's verification level as it holds at `now` ("none" once it has lapsed)."""
    if ticket.verification_level == "none" or ticket.verified_at is None:
        return "none"
    inbound = session.scalars(
        select(Message.received_at).where(
            Message.ticket_id == ticket.id,
            Message.direction == "in",
            Message.received_at > ticket.verified_at,
        )
    )
    idle = timedelta(minutes=desk_policy().verification_idle_minutes)
    current = macros.verification_current(ticket.verified_at, list(inbound), now, idle)
    return ticket.verification_level if current else "none"


def _raise_level(session: Session, ticket: Ticket, level: str, now: datetime) -> None:
    current = effective_level(session, ticket, now)
    ticket.verification_level = current if macros.level_allows(current, level) else level
    ticket.verified_at = now


def _drop_verification(session: Session, ticket: Ticket, *, actor: audit.Actor, at: datetime) -> None:
    """At reopening: whoever writes now may not be who was verified (caller ID can be spoofed)."""
    if ticket.verification_level != "none":
        ticket.verification_level, ticket.verified_at = "none", None
        _event(session, ticket, "verification", actor, "工单重新打开，身份核验已失效", at=at)


def _count_knowledge_failure(session: Session, ticket: Ticket) -> int:
    failures = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id)
        .values(knowledge_failures=Ticket.knowledge_failures + 1)
        .returning(Ticket.knowledge_failures)
    ).scalar_one()
    session.expire(ticket, ["knowledge_failures"])
    return int(failures)


def verify_knowledge(
    session: Session,
    *,
    actor: audit.Actor,
    number: str,
    name: str,
    id_last6: str,
    contract_number: str | None,
    phone: str | None,
    now: datetime,
) -> VerificationOutcome:
    """Name + last six of the ID number + a contract number or the registered phone → basic level.

    A failure is returned (not raised) so that the attempt count is committed with the request.
    """
    name = _verification_input(name, "姓名", "name")
    id_last6 = _verification_input(id_last6, "身份证号后六位", "last six of the ID number").upper()
    if not re.fullmatch(r"\d{5}[\dX]", id_last6):
        raise Unprocessable(
            "身份证号后六位应为 6 位数字（最后一位可为 X）",
            "The last six of the ID number are six digits (the last may be X)",
            code="verification_input",
        )
    contract_number = _verification_input(contract_number or "", "合同编号", "contract number") or None
    phone = _verification_input(phone or "", "手机号", "phone") or None
    if not (contract_number or phone):
        raise Unprocessable(
            "请提供合同编号或注册手机号",
            "Give a contract number or the registered phone",
            code="verification_input",
        )
    ticket = _locked_ticket(session, number=number)
    limit = desk_policy().knowledge_attempts
    if ticket.knowledge_failures >= limit:
        raise Forbidden(
            "核身失败次数过多，请改用短信验证码或转人工复核",
            "Too many failed knowledge checks; use a one-time code or escalate",
            code="verification_locked",
        )
    borrower, loan = _knowledge_match(session, ticket, name, id_last6, contract_number, phone)
    if borrower is None:
        left = limit - _count_knowledge_failure(session, ticket)
        _event(
            session,
            ticket,
            "verification",
            actor,
            "身份核验未通过（信息不符）",
            at=now,
            data={"method": "knowledge"},
        )
        audit.record(
            session, actor, "ticket.verify_failed", ("ticket", ticket.number), None, {"attempts_left": left}
        )
        return VerificationOutcome(
            False, effective_level(session, ticket, now), "mismatch", attempts_left=left
        )
    before = _snapshot(ticket)
    ticket.borrower_id = borrower.id
    if loan is not None:
        ticket.loan_id = loan.id
    _raise_level(session, ticket, "basic", now)
    _event(
        session,
        ticket,
        "verification",
        actor,
        "身份核验通过（基础验证）",
        at=now,
        data={"method": "knowledge", "level": ticket.verification_level},
    )
    audit.record(session, actor, "ticket.verify", ("ticket", ticket.number), before, _snapshot(ticket))
    return VerificationOutcome(True, ticket.verification_level)


def _knowledge_match(
    session: Session,
    ticket: Ticket,
    name: str,
    id_last6: str,
    contract_number: str | None,
    phone: str | None,
) -> tuple[Borrower | None, Loan | None]:
    loan = None
    if contract_number:
        loan = session.scalar(select(Loan).where(Loan.contract_number == contract_number.upper()))
    if ticket.borrower_id is not None:
        borrower = session.get(Borrower, ticket.borrower_id)
    elif loan is not None:
        borrower = session.get(Borrower, loan.borrower_id)
    elif phone:
        borrower = ledger.find_borrower(session, mobile=normalise_mobile(phone))
    else:
        borrower = None
    if borrower is None:
        return None, None
    same_name = name.strip() == borrower.name
    # Bytes: compare_digest refuses str with non-ASCII characters (full-width digits, U+FFFD …).
    same_id = hmac.compare_digest(id_last6.strip().upper().encode(), borrower.id_number[-6:].upper().encode())
    if contract_number:
        third = loan is not None and loan.borrower_id == borrower.id
    else:
        third = normalise_mobile(phone or "") == borrower.mobile
    if same_name and same_id and third:
        return borrower, loan
    return None, None


def _otp_hash(salt: str, code: str) -> str:
    key = get_settings().resolved_otp_key().encode()
    return hmac.new(key, f"{salt}:{code}".encode(), hashlib.sha256).hexdigest()


def _phone_key(mobile: str) -> str:
    """The phone number as the send limits keep it: a keyed hash, not the number."""
    key = get_settings().resolved_otp_key().encode()
    return hmac.new(key, f"phone:{mobile}".encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=2)
def _allowance_row_upsert(dialect: str) -> Any:
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = OtpAllowance.__table__
    return (
        upsert(table)
        .values(
            scope=bindparam("scope"),
            key=bindparam("key"),
            day=bindparam("day"),
            sent=0,
            last_sent_at=_LONG_AGO,
        )
        .on_conflict_do_nothing(index_elements=["scope", "key"])
    )


def _use_otp_allowance(session: Session, scope: str, key: str, *, daily: int, now: datetime) -> None:
    """Count one code against a ticket's or a phone's allowance in one conditional UPDATE, or refuse."""
    table, today = OtpAllowance.__table__, business_date(now)
    interval = timedelta(seconds=desk_policy().otp_interval_seconds)
    session.execute(
        _allowance_row_upsert(session.get_bind().dialect.name), {"scope": scope, "key": key, "day": today}
    )
    mine = and_(table.c.scope == scope, table.c.key == key)
    counted = session.execute(
        update(table)
        .where(mine, table.c.last_sent_at <= now - interval, or_(table.c.day != today, table.c.sent < daily))
        .values(sent=case((table.c.day == today, table.c.sent + 1), else_=1), day=today, last_sent_at=now)
        .returning(table.c.sent)
    ).first()
    if counted is not None:
        return
    last_sent_at = session.execute(select(table.c.last_sent_at).where(mine)).scalar_one()
    if last_sent_at > now - interval:
        wait = int((last_sent_at + interval - now).total_seconds()) + 1
        raise OtpRefused(
            f"验证码发送过于频繁，请 {wait} 秒后再试",
            f"A code was sent moments ago; try again in {wait} seconds",
            code="otp_too_soon",
            details={"retry_after_seconds": wait},
        )
    whom_zh, whom_en = ("该手机号", "phone number") if scope == "phone" else ("本工单", "ticket")
    raise OtpRefused(
        f"{whom_zh}今日验证码已达上限（{daily} 条），请明天再试或转人工复核",
        f"This {whom_en} has had its {daily} codes today; try tomorrow or escalate",
        code="otp_daily_limit_phone" if scope == "phone" else "otp_daily_limit",
    )


def send_otp(session: Session, *, actor: audit.Actor, number: str, now: datetime) -> VerificationOutcome:
    """A one-time code to the borrower's registered phone, through the SMS outbox, within the limits."""
    policy = desk_policy()
    ticket = _locked_ticket(session, number=number)
    if ticket.borrower_id is None:
        raise Unprocessable(
            "尚未识别借款人，请先完成基础核验",
            "The borrower is not identified yet; do the knowledge check first",
            code="borrower_unknown",
        )
    borrower = session.get(Borrower, ticket.borrower_id)
    assert borrower is not None
    _use_otp_allowance(session, "ticket", str(ticket.id), daily=policy.otp_daily_per_ticket, now=now)
    _use_otp_allowance(
        session, "phone", _phone_key(borrower.mobile), daily=policy.otp_daily_per_phone, now=now
    )
    session.execute(
        update(OtpChallenge)
        .where(OtpChallenge.ticket_id == ticket.id, OtpChallenge.status == "pending")
        .values(status="replaced")
    )
    expires_at = now + timedelta(minutes=policy.otp_minutes)
    challenge = OtpChallenge(
        ticket_id=ticket.id,
        borrower_id=borrower.id,
        code_hash=None,
        salt=secrets.token_hex(8),
        expires_at=expires_at,
        attempts=0,
        max_attempts=policy.otp_attempts,
        status="pending",
        created_at=now,
    )
    session.add(challenge)
    session.flush()
    session.add(
        OutboxMessage(
            ticket_id=ticket.id,
            channel="sms",
            recipient=borrower.mobile,
            kind="otp",
            body=f"{_OTP_REFERENCE}{challenge.id}",
            created_at=now,
        )
    )
    masked = mask_mobile(borrower.mobile)
    _event(session, ticket, "verification", actor, f"验证码已发送至 {masked}", at=now, data={"method": "otp"})
    audit.record(
        session, actor, "ticket.otp_send", ("ticket", ticket.number), None, {"challenge_id": challenge.id}
    )
    return VerificationOutcome(
        False, effective_level(session, ticket, now), "sent", expires_at=expires_at, sent_to=masked
    )


def _otp_text(session: Session, message: OutboxMessage, now: datetime) -> tuple[str, str] | None:
    """The text and code of an `otp:<id>` outbox message, drawn now; None when the code is void."""
    challenge_id = message.body.removeprefix(_OTP_REFERENCE)
    challenge = session.get(OtpChallenge, int(challenge_id)) if challenge_id.isdigit() else None
    if (
        challenge is None
        or challenge.status != "pending"
        or challenge.code_hash
        or now > challenge.expires_at
    ):
        return None
    policy = desk_policy()
    code = f"{secrets.randbelow(10**policy.otp_length):0{policy.otp_length}d}"
    challenge.code_hash = _otp_hash(challenge.salt, code)
    return f"【LendDesk】您的验证码为 {code}，{policy.otp_minutes} 分钟内有效。请勿告知他人。", code


def _count_otp_attempt(session: Session, challenge: OtpChallenge) -> int:
    table = OtpChallenge.__table__
    attempts = session.execute(
        update(table)
        .where(table.c.id == challenge.id)
        .values(
            attempts=table.c.attempts + 1,
            status=case((table.c.attempts + 1 >= table.c.max_attempts, "locked"), else_=table.c.status),
        )
        .returning(table.c.attempts)
    ).scalar_one()
    session.expire(challenge, ["attempts", "status"])
    return int(attempts)


def check_otp(
    session: Session, *, actor: audit.Actor, number: str, code: str, now: datetime
) -> VerificationOutcome:
    code = _verification_input(code, "验证码", "code")
    ticket = _locked_ticket(session, number=number)
    challenge = session.scalar(
        select(OtpChallenge)
        .where(OtpChallenge.ticket_id == ticket.id, OtpChallenge.status == "pending")
        .order_by(OtpChallenge.id.desc())
        .limit(1)
    )
    if challenge is None:
        raise Unprocessable(
            "没有待验证的验证码，请重新发送", "No code is pending; send a new one", code="otp_none"
        )
    if challenge.code_hash is None:
        raise Unprocessable(
            "验证码尚未发出，请稍后再试",
            "The code has not been sent yet; try again shortly",
            code="otp_not_sent",
        )
    if now > challenge.expires_at:
        challenge.status = "expired"
        _event(session, ticket, "verification", actor, "验证码已过期", at=now, data={"method": "otp"})
        return VerificationOutcome(False, effective_level(session, ticket, now), "expired", attempts_left=0)
    if not hmac.compare_digest(challenge.code_hash, _otp_hash(challenge.salt, code)):
        left = challenge.max_attempts - _count_otp_attempt(session, challenge)
        _event(
            session, ticket, "verification", actor, "验证码错误", at=now, data={"method": "otp", "left": left}
        )
        audit.record(
            session, actor, "ticket.otp_failed", ("ticket", ticket.number), None, {"attempts_left": left}
        )
        level = effective_level(session, ticket, now)
        return VerificationOutcome(False, level, "locked" if left <= 0 else "wrong", left)
    before = _snapshot(ticket)
    challenge.status, challenge.verified_at = "verified", now
    _raise_level(session, ticket, "strong", now)
    _event(
        session,
        ticket,
        "verification",
        actor,
        "短信验证码核验通过（强验证）",
        at=now,
        data={"level": "strong"},
    )
    audit.record(session, actor, "ticket.otp_verify", ("ticket", ticket.number), before, _snapshot(ticket))
    return VerificationOutcome(True, ticket.verification_level)


# --- account data: side panel and macros ----------------------------------------------------------


def account_details(session: Session, *, ticket: Ticket, now: datetime) -> ledger.AccountSummary:
    """The borrower's account from the ledger — refused below the policy's verification level."""
    macros.require_level(
        effective_level(session, ticket, now),
        desk_policy().account_detail_level,
        "查看账户信息",
        "Account details",
    )
    if ticket.borrower_id is None:
        raise Unprocessable("尚未识别借款人", "The borrower is not identified yet", code="borrower_unknown")
    return ledger.account_summary(session, borrower_id=ticket.borrower_id, today=business_date(now))


def _refuse_account_data(session: Session, ticket: Ticket, text: str, *, level: str, now: datetime) -> None:
    """Below the required level, text for the borrower may carry no account data in any form."""
    required = desk_policy().account_detail_level
    if macros.level_allows(level, required):
        return
    contracts: list[str] = []
    if ticket.borrower_id is not None:
        summary = ledger.account_summary(session, borrower_id=ticket.borrower_id, today=business_date(now))
        contracts = [loan.contract_number for loan in summary.loans]
    public = [desk_policy().hotline, ticket.number]
    found = disclosure.find_account_data(text, contract_numbers=contracts, public=public)
    if found:
        found_zh, found_en = disclosure.describe(found)
        raise macros.VerificationRequired(
            f"回复中包含账户信息（{found_zh}），需要先完成{macros.LEVEL_LABELS[required]}"
            f"（当前：{macros.LEVEL_LABELS[level]}），未发送",
            f"The reply carries account data ({found_en}) and needs verification level {required} "
            f"(the ticket has {level}); nothing was sent",
            details={
                "required": required,
                "current": level,
                "found": [{"kind": f.kind, "text": f.text} for f in found],
            },
        )


@dataclass(frozen=True)
class BorrowerPanel:
    identified: bool
    verification_level: str
    required_level: str
    masked_name: str | None = None
    masked_mobile: str | None = None
    account: ledger.AccountSummary | None = None


def borrower_panel(session: Session, *, number: str, now: datetime) -> BorrowerPanel:
    """The side panel: masked identity always, the account only at the required verification level."""
    ticket = get_ticket(session, number=number)
    required = desk_policy().account_detail_level
    level = effective_level(session, ticket, now)
    if ticket.borrower_id is None:
        return BorrowerPanel(False, level, required)
    borrower = session.get(Borrower, ticket.borrower_id)
    assert borrower is not None
    account = None
    if macros.level_allows(level, required):
        account = account_details(session, ticket=ticket, now=now)
    return BorrowerPanel(
        True,
        level,
        required,
        mask_name(borrower.name),
        mask_mobile(borrower.mobile),
        account,
    )


def _chinese_date(day: date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def _account_values(session: Session, ticket: Ticket, now: datetime) -> dict[str, str]:
    summary = account_details(session, ticket=ticket, now=now)
    loans = summary.loans
    chosen = next((loan for loan in loans if loan.loan_id == ticket.loan_id), None)
    chosen = chosen or next((loan for loan in loans if loan.status in ("current", "overdue")), None)
    chosen = chosen or (loans[0] if loans else None)
    values = {"borrower_name": summary.name, "overdue_amount": format_fen(summary.overdue_amount_fen)}
    if chosen is not None:
        values |= {
            "contract_number": chosen.contract_number,
            "amount_due": format_fen(chosen.next_due_amount_fen),
            "due_date": _chinese_date(chosen.next_due_on),
            "outstanding_principal": format_fen(chosen.outstanding_principal_fen),
        }
    return values


def _macro(session: Session, code: str) -> Macro:
    macro = session.scalar(select(Macro).where(Macro.code == code, Macro.active.is_(True)))
    if macro is None:
        raise NotFound(f"快捷回复不存在：{code}", f"No such macro: {code}", code="macro_not_found")
    return macro


def render_macro(session: Session, *, ticket: Ticket, code: str, agent_name: str, now: datetime) -> str:
    """Fill a macro for a ticket; the ledger is read only when the verification level allows.

    Below that level the filled text is scanned like a free-text reply (a macro's own words may
    carry a date or an amount).
    """
    macro = _macro(session, code)
    required = desk_policy().account_detail_level
    level = effective_level(session, ticket, now)
    values = {"ticket_number": ticket.number, "agent_name": agent_name, "hotline": desk_policy().hotline}
    if macros.needs_account_level(macro.body):
        macros.require_level(level, required, "使用含账户信息的快捷回复", "A macro with account details")
        values |= _account_values(session, ticket, now)
    text = macros.fill(macro.body, values, level=level, required_level=required)
    _refuse_account_data(session, ticket, text, level=level, now=now)
    return text


def list_macros(session: Session) -> list[Macro]:
    return list(session.scalars(select(Macro).where(Macro.active.is_(True)).order_by(Macro.code)))


def save_macro(
    session: Session, *, actor: audit.Actor, code: str, title: str, body: str, category: str | None
) -> Macro:
    macros.variables_in(body)
    macro = session.scalar(select(Macro).where(Macro.code == code))
    before = None if macro is None else {"title": macro.title, "body": macro.body}
    if macro is None:
        macro = Macro(code=code, title=title, body=body, category=category, active=True)
        session.add(macro)
    else:
        macro.title, macro.body, macro.category, macro.active = title, body, category, True
    session.flush()
    audit.record(session, actor, "macro.save", ("macro", code), before, {"title": title, "body": body})
    return macro


# --- consults -------------------------------------------------------------------------------------


def open_consult(
    session: Session, *, actor: audit.Actor, number: str, department: str, question: str, now: datetime
) -> Consult:
    """Ask another department; the ticket waits (pending_internal) until every consult is answered."""
    require_one_of(department, DEPARTMENTS, what_zh="部门", what_en="department", code="unknown_department")
    ticket = get_ticket(session, number=number)
    question = _require_text(question, "咨询问题", "question")
    due = sla.add_service_minutes(
        now, desk_policy().consult_minutes, sla.TeamHours(), calendar_from_policy()
    ).at
    consult = Consult(
        ticket_id=ticket.id,
        department=department,
        question=question,
        status="open",
        requested_by=actor.name,
        requested_at=now,
        due_at=due,
    )
    session.add(consult)
    session.flush()
    if ticket.status in ("new", "open", "pending_customer"):
        _set_status(
            session, ticket, "pending_internal", actor=actor, at=now, reason=f"咨询{DEPARTMENTS[department]}"
        )
    _event(
        session,
        ticket,
        "consult",
        actor,
        f"咨询{DEPARTMENTS[department]}：{question}",
        at=now,
        data={"consult_id": consult.id, "department": department, "due_at": due.isoformat()},
    )
    audit.record(session, actor, "consult.open", ("consult", consult.id), None, {"ticket": ticket.number})
    return consult


def answer_consult(
    session: Session, *, actor: audit.Actor, consult_id: int, answer: str, now: datetime
) -> Consult:
    consult = session.get(Consult, consult_id)
    if consult is None:
        raise NotFound(f"咨询不存在：{consult_id}", f"No such consult: {consult_id}")
    if consult.status != "open":
        raise Conflict("该咨询已答复", "The consult is already answered", code="consult_answered")
    consult.answer = _require_text(answer, "答复", "answer")
    consult.status, consult.answered_by, consult.answered_at = "answered", actor.name, now
    ticket = session.get(Ticket, consult.ticket_id)
    assert ticket is not None
    session.flush()
    still_open = session.scalar(
        select(func.count(Consult.id)).where(Consult.ticket_id == ticket.id, Consult.status == "open")
    )
    if not still_open and ticket.status == "pending_internal":
        _set_status(session, ticket, "open", actor=actor, at=now, reason="部门已答复")
    _event(
        session,
        ticket,
        "consult",
        actor,
        f"{DEPARTMENTS[consult.department]}答复：{consult.answer}",
        at=now,
        data={"consult_id": consult.id},
    )
    audit.record(session, actor, "consult.answer", ("consult", consult.id), None, {"answer": consult.answer})
    return consult


# --- follow-ups -----------------------------------------------------------------------------------


def add_follow_up(
    session: Session,
    *,
    actor: audit.Actor,
    number: str,
    due_at: datetime,
    note: str,
    owner_id: int | None,
    now: datetime,
) -> FollowUp:
    ticket = get_ticket(session, number=number)
    owner = owner_id if owner_id is not None else actor.user_id
    if owner is None or session.get(User, owner) is None:
        raise Unprocessable("跟进负责人无效", "The follow-up needs a valid owner", code="bad_owner")
    follow_up = FollowUp(
        ticket_id=ticket.id,
        owner_id=owner,
        due_at=due_at,
        note=_require_text(note, "跟进内容", "note"),
        done=False,
        created_by=actor.name,
        created_at=now,
    )
    session.add(follow_up)
    session.flush()
    _event(
        session,
        ticket,
        "follow_up",
        actor,
        f"预约跟进：{note}",
        at=now,
        data={"follow_up_id": follow_up.id, "due_at": due_at.isoformat(), "owner_id": owner},
    )
    audit.record(
        session, actor, "follow_up.create", ("follow_up", follow_up.id), None, {"ticket": ticket.number}
    )
    return follow_up


def complete_follow_up(session: Session, *, actor: audit.Actor, follow_up_id: int, now: datetime) -> FollowUp:
    """The follow-up's owner, or a team lead, marks it done (once; again is a no-op)."""
    follow_up = session.get(FollowUp, follow_up_id)
    if follow_up is None:
        raise NotFound(f"跟进不存在：{follow_up_id}", f"No such follow-up: {follow_up_id}")
    if follow_up.owner_id != actor.user_id and actor.role not in LEAD_ROLES:
        raise Forbidden(
            "只能完成自己的跟进（组长除外）",
            "Only the follow-up's owner or a team lead may complete it",
            code="follow_up_not_yours",
        )
    ticket = lock_ticket(session, ticket_id=follow_up.ticket_id)
    session.refresh(follow_up)
    if follow_up.done:
        return follow_up
    follow_up.done, follow_up.done_at = True, now
    _event(session, ticket, "follow_up", actor, "跟进已完成", at=now, data={"follow_up_id": follow_up.id})
    audit.record(
        session, actor, "follow_up.done", ("follow_up", follow_up.id), {"done": False}, {"done": True}
    )
    return follow_up


@dataclass(frozen=True)
class FollowUpRow:
    id: int
    ticket_number: str
    due_at: datetime
    note: str
    owner_id: int
    overdue: bool


def follow_ups_due(session: Session, *, owner_id: int | None, now: datetime) -> list[FollowUpRow]:
    """Open follow-ups due by the end of today (Shanghai), overdue ones included."""
    end_of_today = datetime.combine(business_date(now) + timedelta(days=1), time(0), tzinfo=SHANGHAI)
    statement = (
        select(FollowUp, Ticket.number)
        .join(Ticket, Ticket.id == FollowUp.ticket_id)
        .where(FollowUp.done.is_(False), FollowUp.due_at < end_of_today)
        .order_by(FollowUp.due_at)
    )
    if owner_id is not None:
        statement = statement.where(FollowUp.owner_id == owner_id)
    return [
        FollowUpRow(f.id, number, f.due_at, f.note, f.owner_id, f.due_at < now)
        for f, number in session.execute(statement).all()
    ]


# --- complaints -----------------------------------------------------------------------------------


def _extension_rule() -> complaints.ExtensionRule:
    policy = desk_policy()
    return complaints.ExtensionRule(policy.complaint_complex_days, policy.complaint_senior_days)


def _complaint_columns(source: str, received_at: datetime) -> dict[str, Any]:
    """A new complaint at the receive stage, with its acknowledgment and resolution due dates."""
    policy = desk_policy()
    return {
        "source": source,
        "flagged": source in ("regulator", "media"),
        "received_at": received_at,
        "stage": "receive",
        "ack_due_at": complaints.acknowledgment_due(
            received_at, policy.complaint_ack_business_days, calendar_from_policy()
        ),
        "resolution_days": policy.complaint_resolution_days,
        "resolution_due_at": complaints.resolution_due(received_at, policy.complaint_resolution_days),
    }


def _complaint_tags(source: str, tags: Sequence[str] = ()) -> list[str]:
    return sorted(set(tags) | {"complaint"} | ({source} if source != "customer" else set()))


def _complaint_event(source: str, received_at: datetime) -> dict[str, Any]:
    """Body, time and data of the timeline line that records a received complaint."""
    flagged = source in ("regulator", "media")
    return {
        "body": "投诉已受理" + ("（监管/媒体来源，已标记）" if flagged else ""),
        "at": received_at,
        "data": {"stage": "receive", "source": source, "flagged": flagged},
    }


def _open_complaint(
    session: Session, ticket: Ticket, *, actor: audit.Actor, source: str, content: str, received_at: datetime
) -> Complaint:
    complaint = Complaint(ticket_id=ticket.id, **_complaint_columns(source, received_at))
    session.add(complaint)
    session.flush()
    session.add(
        ComplaintStage(
            complaint_id=complaint.id,
            stage="receive",
            actor_id=actor.user_id,
            actor_name=actor.name,
            at=received_at,
            content=content,
        )
    )
    ticket.tags = _complaint_tags(source, ticket.tags or [])
    _event(session, ticket, "complaint", actor, **_complaint_event(source, received_at))
    if complaint.flagged:
        team = session.scalar(select(Team).where(Team.code == desk_policy().complaints_team))
        if team is not None and ticket.team_id != team.id:
            ticket.team_id = team.id
            _set_owner(session, ticket, None)
            _auto_assign(session, ticket, team)
            _recompute_sla(ticket, team, now=received_at)
    return complaint


def open_complaint(
    session: Session, *, actor: audit.Actor, number: str, source: str, content: str, now: datetime
) -> Complaint:
    """Record a complaint on a ticket (the receive stage); regulator/media sources are flagged."""
    require_one_of(
        source, complaints.SOURCES, what_zh="投诉来源", what_en="complaint source", code="unknown_source"
    )
    ticket = get_ticket(session, number=number)
    if session.scalar(select(Complaint.id).where(Complaint.ticket_id == ticket.id)) is not None:
        raise Conflict("该工单已登记投诉", "The ticket already has a complaint", code="complaint_exists")
    complaint = _open_complaint(
        session, ticket, actor=actor, source=source, content=_require_text(content), received_at=now
    )
    audit.record(
        session,
        actor,
        "complaint.open",
        ("complaint", complaint.id),
        None,
        {"ticket": ticket.number, "source": source},
    )
    return complaint


def get_complaint(session: Session, *, number: str) -> tuple[Ticket, Complaint]:
    ticket = get_ticket(session, number=number)
    complaint = session.scalar(select(Complaint).where(Complaint.ticket_id == ticket.id))
    if complaint is None:
        raise NotFound(
            f"工单 {number} 没有投诉记录", f"Ticket {number} has no complaint", code="complaint_not_found"
        )
    return ticket, complaint


def _open_complaint_locked(session: Session, number: str) -> tuple[Ticket, Complaint]:
    """The ticket (locked) and its complaint, which must still be open."""
    ticket = lock_ticket(session, number=number)
    complaint = session.scalar(
        select(Complaint).where(Complaint.ticket_id == ticket.id).execution_options(populate_existing=True)
    )
    if complaint is None:
        raise NotFound(
            f"工单 {number} 没有投诉记录", f"Ticket {number} has no complaint", code="complaint_not_found"
        )
    if complaint.closed_at is not None:
        raise Conflict("投诉已结案", "The complaint is closed", code="complaint_closed")
    return ticket, complaint


def _pending_extension(session: Session, complaint: Complaint) -> ComplaintExtension | None:
    return session.scalar(
        select(ComplaintExtension).where(
            ComplaintExtension.complaint_id == complaint.id, ComplaintExtension.status == "pending"
        )
    )


def _stages_done(session: Session, complaint: Complaint) -> list[str]:
    recorded = set(
        session.scalars(select(ComplaintStage.stage).where(ComplaintStage.complaint_id == complaint.id))
    )
    return [stage for stage in complaints.STAGES if stage in recorded]


def advance_complaint(
    session: Session, *, actor: audit.Actor, number: str, stage: str, content: str, now: datetime
) -> Complaint:
    ticket, complaint = _open_complaint_locked(session, number)
    complaints.check_advance(_stages_done(session, complaint), stage)
    content = _require_text(content, "环节内容", "stage content")
    session.add(
        ComplaintStage(
            complaint_id=complaint.id,
            stage=stage,
            actor_id=actor.user_id,
            actor_name=actor.name,
            at=now,
            content=content,
        )
    )
    before = {"stage": complaint.stage}
    complaint.stage = stage
    if stage == "confirm":
        complaint.acknowledged_at = now
    _event(
        session,
        ticket,
        "complaint",
        actor,
        f"投诉环节「{complaints.STAGE_LABELS[stage]}」：{content}",
        at=now,
        data={"stage": stage},
    )
    audit.record(session, actor, "complaint.stage", ("complaint", complaint.id), before, {"stage": stage})
    return complaint


def extend_complaint(
    session: Session, *, actor: audit.Actor, number: str, days: int, reason: str, now: datetime
) -> ComplaintExtension:
    """Ask to extend the resolution deadline one step (15 → 30 → 60 days), before it has passed.

    The complex-case step (30) applies at once and notifies the complainant; the senior step (60)
    waits, pending, for a different person of a senior role to approve it (`approve_extension`).
    """
    ticket, complaint = _open_complaint_locked(session, number)
    if _pending_extension(session, complaint) is not None:
        raise Conflict(
            "已有一项延期申请等待批准",
            "An extension is already waiting for approval",
            code="complaint_extension_pending",
        )
    rule = _extension_rule()
    complaints.check_extension(
        current_days=complaint.resolution_days,
        requested_days=days,
        reason=reason,
        due_at=complaint.resolution_due_at,
        now=now,
        rule=rule,
    )
    extension = ComplaintExtension(
        complaint_id=complaint.id,
        days=days,
        reason=reason.strip(),
        requested_by=actor.name,
        requested_by_id=actor.user_id,
        status="pending" if rule.needs_approval(days) else "applied",
        at=now,
        new_due_at=complaints.resolution_due(complaint.received_at, days),
    )
    session.add(extension)
    if extension.status == "applied":
        _apply_extension(session, ticket, complaint, extension, actor=actor, now=now)
        return extension
    session.flush()
    _event(
        session,
        ticket,
        "complaint",
        actor,
        f"申请将投诉处理期限延至 {days} 天：{extension.reason}（待另一位上级批准）",
        at=now,
        data={"days": days, "extension_id": extension.id, "status": "pending"},
    )
    after = {"days": days, "reason": extension.reason, "status": "pending"}
    audit.record(session, actor, "complaint.extend_request", ("complaint", complaint.id), None, after)
    return extension


def next_extension_days(complaint: Complaint) -> int | None:
    """The one extension the complaint may still ask for (the console offers only that)."""
    return _extension_rule().next_step(complaint.resolution_days)


def approve_extension(
    session: Session, *, actor: audit.Actor, number: str, now: datetime
) -> ComplaintExtension:
    """A senior person other than the requester approves the pending extension (before the deadline)."""
    ticket, complaint = _open_complaint_locked(session, number)
    extension = _pending_extension(session, complaint)
    if extension is None:
        raise Conflict(
            "没有等待批准的延期申请",
            "No extension is waiting for approval",
            code="complaint_extension_none_pending",
        )
    complaints.check_approval(
        requester_id=extension.requested_by_id,
        approver_id=actor.user_id,
        approver_role=actor.role,
        senior_roles=desk_policy().complaint_senior_roles,
    )
    complaints.check_before_deadline(complaint.resolution_due_at, now)
    extension.status, extension.approved_at = "approved", now
    extension.approved_by, extension.approved_by_id = actor.name, actor.user_id
    _apply_extension(session, ticket, complaint, extension, actor=actor, now=now)
    return extension


def reject_extension(
    session: Session, *, actor: audit.Actor, number: str, reason: str, now: datetime
) -> ComplaintExtension:
    """A senior person turns the pending extension down, with a reason."""
    ticket, complaint = _open_complaint_locked(session, number)
    extension = _pending_extension(session, complaint)
    if extension is None:
        raise Conflict(
            "没有等待批准的延期申请",
            "No extension is waiting for approval",
            code="complaint_extension_none_pending",
        )
    if actor.role != "admin" and actor.role not in desk_policy().complaint_senior_roles:
        raise Forbidden(
            "只有组长或合规人员可以驳回延期申请",
            "Only a senior role may turn an extension down",
            code="complaint_extension_needs_approval",
        )
    reason = _require_text(reason, "驳回原因", "reason")
    extension.status, extension.approved_at = "rejected", now
    extension.approved_by, extension.approved_by_id = actor.name, actor.user_id
    _event(
        session,
        ticket,
        "complaint",
        actor,
        f"延期至 {extension.days} 天的申请未获批准：{reason}",
        at=now,
        data={"extension_id": extension.id, "status": "rejected"},
    )
    audit.record(
        session,
        actor,
        "complaint.extend_reject",
        ("complaint", complaint.id),
        {"status": "pending"},
        {"status": "rejected", "reason": reason},
    )
    return extension


def _apply_extension(
    session: Session,
    ticket: Ticket,
    complaint: Complaint,
    extension: ComplaintExtension,
    *,
    actor: audit.Actor,
    now: datetime,
) -> None:
    """Move the deadline and tell the complainant (through the outbox)."""
    notice = OutboxMessage(
        ticket_id=ticket.id,
        channel=ticket.channel,
        recipient=ticket.sender,
        kind="notice",
        body=(
            f"您好，您的投诉（工单 {ticket.number}）因{extension.reason}，处理期限延长至"
            f"{_chinese_date(business_date(extension.new_due_at))}。我们会尽快处理并及时告知结果。"
        ),
        created_at=now,
    )
    session.add(notice)
    session.flush()
    before = {"resolution_days": complaint.resolution_days, "resolution_due_at": complaint.resolution_due_at}
    complaint.resolution_days, complaint.resolution_due_at = extension.days, extension.new_due_at
    extension.notice_outbox_id = notice.id
    approval = f"，{extension.approved_by} 批准" if extension.approved_by else ""
    _event(
        session,
        ticket,
        "complaint",
        actor,
        f"投诉处理期限延长至 {extension.days} 天：{extension.reason}{approval}（已通知投诉人）",
        at=now,
        data={"days": extension.days, "outbox_id": notice.id, "extension_id": extension.id},
    )
    after = {
        "resolution_days": extension.days,
        "resolution_due_at": extension.new_due_at,
        "reason": extension.reason,
        "requested_by": extension.requested_by,
        "approved_by": extension.approved_by,
    }
    audit.record(session, actor, "complaint.extend", ("complaint", complaint.id), before, after)


def close_complaint(
    session: Session, *, actor: audit.Actor, number: str, root_cause: str, now: datetime
) -> Complaint:
    ticket, complaint = _open_complaint_locked(session, number)
    complaints.check_close(_stages_done(session, complaint), root_cause)
    complaint.root_cause, complaint.closed_at = root_cause, now
    _event(
        session,
        ticket,
        "complaint",
        actor,
        f"投诉结案，根因：{complaints.ROOT_CAUSES[root_cause]}",
        at=now,
        data={"root_cause": root_cause},
    )
    if ticket.active:
        _set_status(session, ticket, "resolved", actor=actor, at=now, reason="投诉结案")
    audit.record(
        session, actor, "complaint.close", ("complaint", complaint.id), None, {"root_cause": root_cause}
    )
    return complaint


@dataclass(frozen=True)
class ComplaintSummary:
    total: int
    open: int
    closed: int
    overdue: int
    ack_overdue: int
    flagged: int
    by_root_cause: dict[str, int] = field(default_factory=dict)
    by_stage: dict[str, int] = field(default_factory=dict)
    by_age: dict[str, int] = field(default_factory=dict)


def complaint_summary(session: Session, *, now: datetime) -> ComplaintSummary:
    """Counts by root cause (closed), stage and age (open), and overdue (open past the deadline)."""
    rows = session.execute(
        select(
            Complaint.stage,
            Complaint.root_cause,
            Complaint.closed_at,
            Complaint.received_at,
            Complaint.resolution_due_at,
            Complaint.ack_due_at,
            Complaint.acknowledged_at,
            Complaint.flagged,
        )
    ).all()
    open_rows = [r for r in rows if r.closed_at is None]
    return ComplaintSummary(
        total=len(rows),
        open=len(open_rows),
        closed=len(rows) - len(open_rows),
        overdue=sum(1 for r in open_rows if now > r.resolution_due_at),
        ack_overdue=sum(1 for r in open_rows if r.acknowledged_at is None and now > r.ack_due_at),
        flagged=sum(1 for r in rows if r.flagged),
        by_root_cause=dict(Counter(r.root_cause for r in rows if r.closed_at is not None)),
        by_stage={stage: sum(1 for r in open_rows if r.stage == stage) for stage in complaints.STAGES},
        by_age={
            bucket: sum(1 for r in open_rows if complaints.age_bucket(r.received_at, now) == bucket)
            for bucket in complaints.AGE_BUCKETS
        },
    )


def complaint_summary_csv(summary: ComplaintSummary) -> str:
    """The summary as CSV: dimension, key, label, count (UTF-8 with BOM so Excel reads the Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["dimension", "key", "label", "count"])
    for key in ("total", "open", "closed", "overdue", "ack_overdue", "flagged"):
        writer.writerow(["total", key, "", getattr(summary, key)])
    for key, count in sorted(summary.by_root_cause.items()):
        writer.writerow(["root_cause", key, complaints.ROOT_CAUSES.get(key, key), count])
    for key, count in summary.by_stage.items():
        writer.writerow(["stage", key, complaints.STAGE_LABELS[key], count])
    for key, count in summary.by_age.items():
        writer.writerow(["age", key, "", count])
    return "\ufeff" + out.getvalue()


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
    """Tickets sent from this phone or belonging to the borrower registered with it: two index lookups."""
    holders = select(Borrower.id).where(Borrower.mobile == mobile)
    return list(
        session.scalars(
            union(
                select(Ticket.id).where(Ticket.sender == mobile),
                select(Ticket.id).where(Ticket.borrower_id.in_(holders)),
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
    by_name = select(Borrower.id).where(Borrower.name == simplified)
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
            r.verification_level,
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


# --- SLA job --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaCheck:
    at_risk: int
    breached: int
    escalated: int
    recomputed: int


def evaluate_sla(session: Session, *, now: datetime) -> SlaCheck:
    """Flag at-risk and breached tickets (set-based) and escalate each new breach to the team lead once."""
    recomputed = 0
    provisional = session.scalars(
        select(Ticket).where(Ticket.active.is_(True), Ticket.sla_provisional.is_(True))
    )
    for ticket in provisional:
        _recompute_sla(ticket, _team_of(session, ticket), now=now)
        recomputed += 1
    running = and_(Ticket.active.is_(True), Ticket.paused_since.is_(None))
    breached = session.execute(
        update(Ticket)
        .where(running, Ticket.sla_state != "breached", Ticket.due_at <= now)
        .values(sla_state="breached")
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    at_risk = session.execute(
        update(Ticket)
        .where(running, Ticket.sla_state == "ok", Ticket.at_risk_at <= now, Ticket.due_at > now)
        .values(sla_state="at_risk")
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.expire_all()
    escalated = _escalate_breaches(session, now=now)
    return SlaCheck(at_risk, breached, escalated, recomputed)


def _team_leads(session: Session, team: Team | None) -> list[int]:
    if team is not None and team.lead_user_id is not None:
        return [team.lead_user_id]
    return list(session.scalars(select(User.id).where(User.role == "team_lead", User.active.is_(True))))


def _escalate_breaches(session: Session, *, now: datetime) -> int:
    pending = session.scalars(
        select(Ticket).where(
            Ticket.active.is_(True),
            Ticket.sla_state == "breached",
            or_(Ticket.escalated_due_at.is_(None), Ticket.escalated_due_at != Ticket.due_at),
        )
    ).all()
    system = audit.Actor.system("sla")
    for ticket in pending:
        which = "首次响应" if ticket.first_response_at is None else "解决"
        body = (
            f"工单 {ticket.number} 已超出{which}时限（{ticket.due_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}）"
        )
        for lead in _team_leads(session, _team_of(session, ticket)):
            session.add(
                Notification(user_id=lead, ticket_id=ticket.id, kind="sla_breach", body=body, created_at=now)
            )
        ticket.escalated_due_at = ticket.due_at
        _event(
            session,
            ticket,
            "sla",
            system,
            body + "，已升级至组长",
            at=now,
            data={"due_at": ticket.due_at.isoformat()},
        )
    return len(pending)


def notifications_for(session: Session, *, user_id: int, unread_only: bool = True) -> list[Notification]:
    statement = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    return list(session.scalars(statement.order_by(Notification.id.desc()).limit(200)))


def mark_notification_read(
    session: Session, *, actor: audit.Actor, notification_id: int, now: datetime
) -> Notification:
    """The recipient marks a notification read (again is a no-op); another person's is not found."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.user_id != actor.user_id:
        raise NotFound(
            f"通知不存在：{notification_id}",
            f"No such notification: {notification_id}",
            code="notification_not_found",
        )
    if notification.read_at is None:
        session.execute(
            update(Notification)
            .where(Notification.id == notification_id, Notification.read_at.is_(None))
            .values(read_at=now)
        )
        session.refresh(notification)
    return notification


def ticket_numbers(session: Session, ticket_ids: Sequence[int]) -> dict[int, str]:
    if not ticket_ids:
        return {}
    return dict(session.execute(select(Ticket.id, Ticket.number).where(Ticket.id.in_(set(ticket_ids)))).all())


# --- complaint deadline alerts job -----------------------------------------------------------------

_ALERT_WINDOW = timedelta(days=4)  # D-3 in Shanghai calendar days is at most this far before the deadline


def alert_complaint_deadlines(session: Session, *, now: datetime) -> int:
    """Alert each open complaint's owner and team lead at D-3, D-1 and on breach of its deadline.

    Once per complaint, alert kind and deadline (an extension earns new alerts): the alert row is
    inserted with ON CONFLICT DO NOTHING, so two runs at once alert once. Returns alerts sent.
    """
    rows = session.execute(
        select(Complaint.id, Complaint.resolution_due_at, Ticket.id.label("ticket_id"), Ticket.number)
        .join(Ticket, Ticket.id == Complaint.ticket_id)
        .where(Complaint.closed_at.is_(None), Complaint.resolution_due_at <= now + _ALERT_WINDOW)
        .order_by(Complaint.id)
    ).all()
    system = audit.Actor.system("complaint-alerts")
    sent = 0
    for row in rows:
        kind = complaints.alert_due(row.resolution_due_at, now)
        if kind is None or not _claim_alert(session, row.id, kind, row.resolution_due_at, now):
            continue
        ticket = lock_ticket(session, ticket_id=row.ticket_id)
        due = f"{row.resolution_due_at.astimezone(SHANGHAI):%Y-%m-%d}"
        body = f"投诉工单 {row.number}：{complaints.ALERT_LABELS[kind]}（处理期限 {due}）"
        recipients = {ticket.owner_id, *_team_leads(session, _team_of(session, ticket))} - {None}
        for user_id in sorted(recipients):  # type: ignore[type-var]
            session.add(
                Notification(user_id=user_id, ticket_id=ticket.id, kind=kind, body=body, created_at=now)
            )
        _event(session, ticket, "complaint", system, body, at=now, data={"alert": kind, "due_at": due})
        sent += 1
    return sent


def _claim_alert(session: Session, complaint_id: int, kind: str, due_at: datetime, now: datetime) -> bool:
    """Record that this alert is sent; False when it already was (by this job earlier, or one running now)."""
    upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        upsert(ComplaintAlert)
        .values(complaint_id=complaint_id, kind=kind, due_at=due_at, at=now)
        .on_conflict_do_nothing()
        .returning(ComplaintAlert.id)
    )
    return session.execute(statement).scalar() is not None


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


# --- staff access to borrowers: the desk's grant (docs/LEDGER.md "Staff access") -----------------


def ticket_grants_borrower(
    session: Session, request: ledger_access.AccessRequest
) -> ledger_access.Grant | None:
    """A ticket the viewer owns, not closed, linked to the borrower: the named one, else the latest."""
    if request.user_id is None:
        return None
    statement = select(Ticket.number).where(
        Ticket.owner_id == request.user_id,
        Ticket.borrower_id == request.borrower_id,
        Ticket.status != "closed",
    )
    if request.case_reference:
        statement = statement.where(Ticket.number == request.case_reference)
    number = session.scalar(statement.order_by(Ticket.id.desc()).limit(1))
    return ledger_access.Grant("ticket", number) if number else None


ledger_access.register_grant_finder(ticket_grants_borrower)
