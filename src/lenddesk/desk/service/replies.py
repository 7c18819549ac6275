"""Replies, internal notes and delivery of the outbox."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.desk.models import Message, OutboxMessage, Ticket, TicketEvent
from lenddesk.desk.service import outbox
from lenddesk.desk.service._common import _event, _require_text, get_ticket
from lenddesk.desk.service.lifecycle import _first_response
from lenddesk.desk.service.verification import (
    _refuse_account_data,
    effective_level,
    render_macro,
)

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
    """Hand due messages to the channel adapters in this transaction; the outcome goes on the timeline.

    The inline form of the delivery worker (channels/worker.py), which commits between claiming,
    sending and settling. Counts by status; "failed" also counts retries and dead letters.
    """
    from lenddesk.channels.delivery_log import Outgoing

    worker = f"inline-{uuid.uuid4().hex[:12]}"
    claimed = outbox.claim_outbox(session, channels=list(adapters), now=now, worker=worker, limit=limit)
    outcomes = []
    for message in claimed:
        result = adapters[message.channel].deliver(Outgoing.of(message), now=now)
        outcomes.append(result.outcome(message.outbox_id))
    counts = outbox.settle_outbox(session, claimed=claimed, outcomes=outcomes, worker=worker, now=now)
    counts["failed"] += counts["retry"] + counts["dead"]
    return counts
