"""Replies and internal notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.desk.models import OutboxMessage, Ticket, TicketEvent
from lenddesk.desk.service import outbox
from lenddesk.desk.service._common import _event, _require_text, get_ticket
from lenddesk.desk.service.lifecycle import _first_response
from lenddesk.desk.service.verification import (
    _refuse_account_data,
    effective_level,
    render_macro,
)

# --- replies, notes ----------------------------------------------------------------------------


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
    delivered: bool = False,
) -> ReplyResult:
    """Send a reply through the outbox. Account data is refused below the policy's verification level.

    `delivered=True`: the caller's channel shows it to the borrower in its own response (an agent's
    live answer in a web chat), so the outbox records it delivered and no worker sends it again.
    """
    ticket = get_ticket(session, number=number)
    if macro_code:
        text = render_macro(
            session,
            ticket=ticket,
            code=macro_code,
            agent_name=agent_name or actor.name,
            now=now,
            viewer=actor,
        )
    body = _require_text(text or "", "回复内容", "reply text")
    _refuse_account_data(session, ticket, body, level=effective_level(session, ticket, now), now=now)
    outbox_id = outbox.queue_outbound(
        session,
        ticket_id=ticket.id,
        body=body,
        kind="reply",
        now=now,
        delivered=delivered,
        actor=actor,
        event_data={"macro": macro_code},
    )
    _first_response(session, ticket, actor=actor, now=now)
    ticket.updated_at = now
    audit.record(
        session,
        actor,
        "ticket.reply",
        ("ticket", ticket.number),
        None,
        {"outbox_id": outbox_id, "macro": macro_code},
    )
    queued = session.get(OutboxMessage, outbox_id)
    assert queued is not None
    return ReplyResult(ticket, queued, body)


def add_note(session: Session, *, actor: audit.Actor, number: str, text: str, now: datetime) -> TicketEvent:
    ticket = get_ticket(session, number=number)
    body = _require_text(text, "备注", "note")
    event = _event(session, ticket, "note", actor, body, at=now)
    ticket.updated_at = now
    session.flush()
    audit.record(session, actor, "ticket.note", ("ticket", ticket.number), None, {"event_id": event.id})
    return event
