"""Helpers shared by the desk's use cases: constants, validation, timeline lines, SLA dates,
owners, status changes and the ticket lock."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import opencc
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import NotFound, Unprocessable
from lenddesk.core.models import User
from lenddesk.core.pii import is_valid_mobile, mask_email, mask_mobile, normalise_mobile
from lenddesk.core.policy import DeskPolicy, calendar_from_policy, get_policy
from lenddesk.core.sqlite_gate import GatedConnection
from lenddesk.desk import hooks, routing, sla
from lenddesk.desk.models import ACTIVE_STATUSES, Agent, SlaPolicy, Team, Ticket, TicketEvent

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


# Core statements shared by intake and assignment (built once; see intake.py).
_teams_t, _agents = Team.__table__, Agent.__table__
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
    if was_active and not now_active:
        hooks.ticket_resolved(session, ticket, at)  # quality scores it, feedback sends the survey


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


def _team_leads(session: Session, team: Team | None) -> list[int]:
    if team is not None and team.lead_user_id is not None:
        return [team.lead_user_id]
    return list(session.scalars(select(User.id).where(User.role == "team_lead", User.active.is_(True))))
