"""Intake: inbound messages from every channel become tickets (the hot path)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, exists, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.calendar import business_date
from lenddesk.core.pii import is_valid_mobile
from lenddesk.desk import categorise, routing, sla
from lenddesk.desk.models import (
    Agent,
    Complaint,
    ComplaintStage,
    Message,
    OutboxMessage,
    Team,
    Ticket,
    TicketCounter,
    TicketEvent,
)
from lenddesk.desk.service._common import (
    RoutingTeam,
    _agents,
    _choose_owner,
    _event_row,
    _parse_hours,
    _require_text,
    _route_team,
    _set_status,
    _sla_dates,
    _sla_target,
    _teams_t,
    check_channel,
    desk_policy,
    lock_ticket,
    normalise_sender,
    to_simplified,
)
from lenddesk.desk.service.complaints import _complaint_columns, _complaint_event, _complaint_tags
from lenddesk.desk.service.lifecycle import _reopen
from lenddesk.ledger import service as ledger

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
# An e-mail's thread (our Message-ID in In-Reply-To/References, or [T…] in its subject) names a
# ticket, of any channel (a web-form ticket answered by e-mail). It is joined while active and only
# by the ticket's own correspondent — its sender, its borrower's registered address, or the address
# the referenced message of ours went to — since anyone can type a ticket number into a subject.
_outbox = OutboxMessage.__table__
_THREAD_TICKET = select(*_LATEST_TICKET_OF_SENDER.selected_columns).where(
    _tickets.c.number == bindparam("number"),
    _tickets.c.active.is_(True),
    or_(
        _tickets.c.sender == bindparam("sender"),
        _tickets.c.borrower_id.in_(ledger.borrower_ids_where("email", bindparam("sender"))),
        exists().where(
            _outbox.c.id == bindparam("outbox_id"),
            _outbox.c.ticket_id == _tickets.c.id,
            _outbox.c.recipient == bindparam("sender"),
        ),
    ),
)
_ROUTING_TEAMS = select(
    *(_teams_t.c[name] for name in ("id", "code", "skills", "opens", "closes", "always_open"))
).order_by(_teams_t.c.id)
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
_LINK_KNOWN_BORROWER = (
    update(_tickets)
    .where(_tickets.c.id == bindparam("ticket_id"), _tickets.c.borrower_id.is_(None))
    .values(borrower_id=bindparam("borrower_id"))
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
    return ledger.find_borrower_id(session, **{column: sender})


def _routing_teams(session: Session) -> list[RoutingTeam]:
    return [
        RoutingTeam(
            routing.TeamSkills(r.id, r.code, frozenset(r.skills or [])),
            _parse_hours(r.opens, r.closes, r.always_open),
        )
        for r in session.execute(_ROUTING_TEAMS)
    ]


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
    thread_number: str | None = None,
    thread_outbox_id: int | None = None,
    borrower_id: int | None = None,
) -> IntakeResult:
    """Turn an inbound message into a new ticket, or add it to the sender's open (or recent) ticket.

    The same (channel, channel_message_id) twice creates nothing and answers the same ticket.
    `thread_number` (an e-mail reply's ticket; `thread_outbox_id`: the message of ours it answers)
    joins that ticket when it is active and the sender is its correspondent (see `_THREAD_TICKET`).

    The borrower registered with the sender's address is recorded only as a candidate: anyone can
    type a phone or address, so the ticket is linked to a borrower (which lets its owner open the
    borrower) only by a verification — or by `borrower_id`, from staff opening a case on an account
    they work (collections), never from a channel.
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
    latest = _thread_ticket(session, message, thread_number, thread_outbox_id) or _latest_ticket_of(
        session, message
    )
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
    if borrower_id is not None:
        session.execute(_LINK_KNOWN_BORROWER, {"ticket_id": ticket_id, "borrower_id": borrower_id})
        _expire_if_loaded(session, Ticket, ticket_id)
    return IntakeResult(number, outcome == "created", ticket_id, outcome)


def _thread_ticket(
    session: Session, message: InboundMessage, number: str | None, outbox_id: int | None
) -> Any:
    if not number:
        return None
    parameters = {"number": number.strip().upper(), "sender": message.sender, "outbox_id": outbox_id}
    return session.execute(_THREAD_TICKET, parameters).first()


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
        "candidate_borrower_id": _matching_borrower_id(session, message.channel, message.sender),
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
