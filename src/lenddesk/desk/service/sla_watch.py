"""The SLA job: flags tickets at risk or breached and notifies their owners."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.calendar import SHANGHAI
from lenddesk.core.errors import NotFound
from lenddesk.desk.models import Notification, Ticket
from lenddesk.desk.service._common import _event, _recompute_sla, _team_leads, _team_of
from lenddesk.desk.service.notifications import Notice, notify

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
        leads = _team_leads(session, _team_of(session, ticket))
        notify(session, [Notice(lead, "sla_breach", body, ticket.id) for lead in leads], now=now)
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
