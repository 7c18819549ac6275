"""A ticket's lifecycle: status changes, categorisation and assignment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from lenddesk.core.models import User
from lenddesk.desk import categorise, complaint_stages, routing
from lenddesk.desk.models import TICKET_STATUSES, Agent, Complaint, Team, Ticket
from lenddesk.desk.service._common import (
    ASSIGNABLE_ROLES,
    STATUS_LABELS,
    TRANSITIONS,
    _auto_assign,
    _event,
    _recompute_sla,
    _set_owner,
    _set_status,
    _sla_target,
    _snapshot,
    _team_of,
    desk_policy,
    get_ticket,
    lock_ticket,
    require_one_of,
)
from lenddesk.desk.service.complaints import _stages_done
from lenddesk.desk.service.verification import _drop_verification

# --- status ---------------------------------------------------------------------------------------


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
    missing = [stage for stage in complaint_stages.STAGES if stage not in _stages_done(session, complaint)]
    if missing:
        raise Conflict(
            "该工单有未办结的投诉，尚有环节未完成："
            + "、".join(complaint_stages.STAGE_LABELS[stage] for stage in missing),
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
