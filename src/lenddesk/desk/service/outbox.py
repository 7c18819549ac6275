"""The durable outbox: queued messages claimed under a lease, sent by a channel, settled with the answer.

The desk owns the table and this module is its only writer: `queue_outbound` queues every message
(replies, one-time codes, automatic notices, surveys, collection notices), the rest moves them
through their states. The delivery drivers are the channels room's (channels/worker.py); the types
passed between them are in desk/delivery.py (docs/ARCHITECTURE.md "The outbox").

A delivery worker runs three short transactions per batch: `claim_outbox` (lock the due rows —
`FOR UPDATE SKIP LOCKED` on PostgreSQL, the write gate on SQLite — count the attempt and set a
lease), the sending (no transaction), then `settle_outbox` (record what each channel answered, on
the row and on the ticket timeline). A worker killed between the two leaves rows whose lease runs
out; the next claim takes them again and sends them with the same idempotency key, so a provider
that honours the key sends each message once.

`record_receipt` applies a delivery receipt (SMS) that arrives later by webhook.
"""

from __future__ import annotations

import dataclasses
import importlib
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, func, insert, or_, select, true, update
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.sqlite_gate import GatedConnection
from lenddesk.desk.delivery import ClaimedMessage, SendOutcome
from lenddesk.desk.models import Message, OutboxMessage, Ticket, TicketEvent
from lenddesk.desk.service._common import _event_row, normalise_sender

_outbox, _tickets, _events = OutboxMessage.__table__, Ticket.__table__, TicketEvent.__table__
_messages = Message.__table__

# Messages whose secret is drawn only when sent: the outbox body is a reference `<kind>:<id>`, and
# the kind's drawer answers (text, secret) — storing only the secret's hash — or None when void.
# `DRAWER_MODULES` names the modules that register a drawer at import (the desk's one-time codes,
# feedback's survey links), as ledger/after_close.py names its steps: every process that claims
# (server, worker, CLI) imports them by name before its first claim, so none sends a bare reference.
SecretDrawer = Callable[[Session, OutboxMessage, datetime], tuple[str, str] | None]
DRAWER_MODULES = ("lenddesk.desk.service.verification", "lenddesk.feedback.service")
_secret_drawers: dict[str, SecretDrawer] = {}
_drawer_modules_loaded = False


def register_secret_drawer(kind: str, drawer: SecretDrawer) -> None:
    _secret_drawers[kind] = drawer


def secret_drawers() -> dict[str, SecretDrawer]:
    """Every registered drawer by kind, the declared modules imported first (once per process)."""
    global _drawer_modules_loaded
    if not _drawer_modules_loaded:
        for module_name in DRAWER_MODULES:
            importlib.import_module(module_name)
        _drawer_modules_loaded = True
    return _secret_drawers


_SYSTEM = audit.Actor.system("channels")
FINAL_STATUSES = frozenset({"delivered", "failed", "dead"})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: float = 30.0
    cap_seconds: float = 3600.0
    lease_seconds: float = 120.0


def backoff_seconds(attempt: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Exponential backoff with equal jitter: half the step fixed, half random (workers never align)."""
    step = min(policy.cap_seconds, policy.base_seconds * 2 ** max(attempt - 1, 0))
    return step / 2 + rng.uniform(0, step / 2)


def idempotency_key(outbox_id: int, *, kind: str, attempt: int) -> str:
    """The key a provider deduplicates by: one per message, except a drawn secret, drawn anew each try."""
    drawn = kind in secret_drawers()
    return f"lenddesk-{outbox_id}-{attempt}" if drawn else f"lenddesk-{outbox_id}"


def _take_write_gate(session: Session) -> None:
    connection = session.connection().connection.dbapi_connection
    if isinstance(connection, GatedConnection):
        connection.acquire_gate()


_DUE = (
    select(
        _outbox.c.id,
        _outbox.c.ticket_id,
        _outbox.c.channel,
        _outbox.c.recipient,
        _outbox.c.kind,
        _outbox.c.body,
        _outbox.c.attempts,
        _tickets.c.number,
    )
    .outerjoin(_tickets, _tickets.c.id == _outbox.c.ticket_id)
    .where(
        _outbox.c.status == "queued",
        _outbox.c.channel.in_(bindparam("channels", expanding=True)),
        or_(_outbox.c.next_attempt_at.is_(None), _outbox.c.next_attempt_at <= bindparam("now")),
        or_(_outbox.c.claimed_until.is_(None), _outbox.c.claimed_until < bindparam("now")),
    )
    .order_by(_outbox.c.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True, of=_outbox)
)
_CLAIM = (
    update(_outbox)
    .where(_outbox.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        claimed_by=bindparam("worker"),
        claimed_until=bindparam("until"),
        attempts=_outbox.c.attempts + 1,
    )
)


def claim_outbox(
    session: Session,
    *,
    channels: Iterable[str],
    now: datetime,
    worker: str,
    limit: int = 100,
    lease_seconds: float = 120.0,
) -> list[ClaimedMessage]:
    """Lease up to `limit` due messages of `channels` to `worker` (the caller commits).

    Rows another worker holds are skipped, never waited for. A drawn secret (one-time code, survey
    link) is drawn here, so its
    hash is stored in the claim's transaction; a code void by now is marked failed instead.
    """
    _take_write_gate(session)
    parameters = {"channels": sorted(set(channels)), "now": now, "limit": limit}
    rows = session.execute(_DUE, parameters).all()
    if not rows:
        return []
    until = now + timedelta(seconds=lease_seconds)
    session.execute(_CLAIM, {"ids": [row.id for row in rows], "worker": worker, "until": until})
    claimed, drawers = [], secret_drawers()
    for row in rows:
        attempt = row.attempts + 1
        body, secret = row.body, None
        if row.kind in drawers and body.startswith(f"{row.kind}:"):
            drawn = _draw_secret(session, row.id, row.kind, now)
            if drawn is None:
                _void_code(session, row, now)
                continue
            body, secret = drawn
        key = idempotency_key(row.id, kind=row.kind, attempt=attempt)
        claimed.append(
            ClaimedMessage(
                row.id,
                row.ticket_id,
                row.number,
                row.channel,
                row.recipient,
                row.kind,
                body,
                attempt,
                key,
                secret,
            )
        )
    return _with_mail_threads(session, claimed)


# The borrower's last mail on a ticket, which an e-mailed answer threads under (In-Reply-To).
_LAST_MAIL_IDS = (
    select(_messages.c.ticket_id, _messages.c.channel_message_id)
    .where(
        _messages.c.ticket_id.in_(bindparam("ticket_ids", expanding=True)),
        _messages.c.direction == "in",
        _messages.c.channel == "email",
        _messages.c.channel_message_id.like("<%@%>"),
    )
    .order_by(_messages.c.id)
)


def _with_mail_threads(session: Session, claimed: list[ClaimedMessage]) -> list[ClaimedMessage]:
    ticket_ids = {m.ticket_id for m in claimed if m.ticket_id is not None and "@" in m.recipient}
    if not ticket_ids:
        return claimed
    last_ids = dict(session.execute(_LAST_MAIL_IDS, {"ticket_ids": sorted(ticket_ids)}).all())
    return [
        dataclasses.replace(message, in_reply_to=last_ids.get(message.ticket_id))
        if message.ticket_id in last_ids and "@" in message.recipient
        else message
        for message in claimed
    ]


def _draw_secret(session: Session, outbox_id: int, kind: str, now: datetime) -> tuple[str, str] | None:
    message = session.get(OutboxMessage, outbox_id)
    assert message is not None
    return secret_drawers()[kind](session, message, now)


def _void_code(session: Session, row: Any, now: datetime) -> None:
    error = (
        "code void before delivery (replaced or expired)"
        if row.kind == "otp"
        else f"{row.kind} void before delivery (answered or expired)"
    )
    session.execute(
        update(_outbox)
        .where(_outbox.c.id == row.id)
        .values(status="failed", last_error=error, claimed_by=None, claimed_until=None)
    )
    session.expire_all()
    if row.ticket_id is not None:
        data = {"outbox_id": row.id, "delivery": "failed", "kind": row.kind, "channel": row.channel}
        session.execute(
            insert(_events),
            [_event_row(row.ticket_id, "delivery", _SYSTEM, f"投递失败：{error}", at=now, data=data)],
        )


_RELEASE_OWNED = (
    update(_outbox)
    .where(
        _outbox.c.id.in_(bindparam("ids", expanding=True)),
        _outbox.c.claimed_by == bindparam("worker"),
        _outbox.c.status == "queued",
    )
    .values(claimed_by=None, claimed_until=None)
    .returning(_outbox.c.id)
)
_SETTLE = (
    update(_outbox)
    .where(_outbox.c.id == bindparam("outbox_id"))
    .values(
        status=bindparam("status"),
        delivered_at=bindparam("delivered_at"),
        provider_message_id=bindparam("provider_message_id"),
        last_error=bindparam("last_error"),
        next_attempt_at=bindparam("next_attempt_at"),
    )
)


def settle_outbox(
    session: Session,
    *,
    claimed: Sequence[ClaimedMessage],
    outcomes: Sequence[SendOutcome],
    worker: str,
    now: datetime,
    policy: RetryPolicy = RetryPolicy(),
    rng: random.Random | None = None,
) -> Counter[str]:
    """Record each channel's answer on its row and its ticket's timeline; returns counts by status.

    Only rows this worker still holds are settled (a lease that ran out belongs to whoever claimed
    the row since). A failure is retried after a jittered backoff until `max_attempts`, then the
    row is parked as a dead letter with its last error; a permanent refusal is parked at once.
    """
    rng = rng or random.Random()
    _take_write_gate(session)
    by_id = {message.outbox_id: message for message in claimed}
    ids = [outcome.outbox_id for outcome in outcomes if outcome.outbox_id in by_id]
    owned = set(session.scalars(_RELEASE_OWNED, {"ids": ids, "worker": worker})) if ids else set()
    counts: Counter[str] = Counter()
    updates, events = [], []
    for outcome in outcomes:
        if outcome.outbox_id not in owned:
            continue
        message = by_id[outcome.outbox_id]
        row, label = _settled_row(message, outcome, now, policy, rng)
        counts[row["status"] if row["next_attempt_at"] is None else "retry"] += 1
        updates.append(row)
        if message.ticket_id is not None:
            data = {
                "outbox_id": message.outbox_id,
                "delivery": row["status"],
                "kind": message.kind,
                "channel": message.channel,
                "attempt": message.attempt,
            }
            events.append(_event_row(message.ticket_id, "delivery", _SYSTEM, label, at=now, data=data))
    if updates:
        session.execute(_SETTLE, updates)
    if events:
        session.execute(insert(_events), events)
    session.expire_all()
    return counts


def _settled_row(
    message: ClaimedMessage, outcome: SendOutcome, now: datetime, policy: RetryPolicy, rng: random.Random
) -> tuple[dict[str, Any], str]:
    row: dict[str, Any] = {
        "outbox_id": message.outbox_id,
        "provider_message_id": outcome.provider_message_id,
        "delivered_at": None,
        "last_error": None,
        "next_attempt_at": None,
    }
    if outcome.accepted:
        status = "sent" if outcome.awaiting_receipt else "delivered"
        row.update(status=status, delivered_at=now if status == "delivered" else None)
        return row, "已发送，等待回执" if status == "sent" else "已送达"
    error = (outcome.error or "unknown error")[:255]
    row["last_error"] = error
    if outcome.permanent or message.attempt >= policy.max_attempts:
        row["status"] = "dead"
        return row, f"投递失败，已停止重试（第 {message.attempt} 次）：{error}"
    retry_at = now + timedelta(seconds=backoff_seconds(message.attempt, policy, rng))
    row.update(status="queued", next_attempt_at=retry_at)
    return row, f"投递失败（第 {message.attempt} 次），稍后重试：{error}"


# --- receipts, automatic messages, dead letters -----------------------------------------------------


def record_receipt(
    session: Session,
    *,
    channel: str | None,
    provider_message_id: str | None = None,
    outbox_id: int | None = None,
    delivered: bool,
    error: str | None,
    at: datetime,
    bounce: bool = False,
) -> bool:
    """A provider's delivery receipt for a sent message (by its id or ours); False when none matches.

    `channel` None: any outbox channel (an SMS receipt may be for a phone or web-form ticket's reply).
    `bounce`: a mail returned after the SMTP server accepted it (so marked delivered) fails it.

    Idempotent: a receipt for a message already delivered or failed changes nothing.
    """
    _take_write_gate(session)
    criterion = (
        _outbox.c.id == outbox_id
        if outbox_id is not None
        else _outbox.c.provider_message_id == provider_message_id
    )
    row = session.execute(
        select(_outbox.c.id, _outbox.c.ticket_id, _outbox.c.status, _outbox.c.kind)
        .where(criterion, true() if channel is None else _outbox.c.channel == channel)
        .limit(1)
        .with_for_update()
    ).first()
    if row is None:
        return False
    bounced_after_acceptance = bounce and row.status == "delivered"
    if (row.status in FINAL_STATUSES or row.status == "queued") and not bounced_after_acceptance:
        return True
    status = "delivered" if delivered else "failed"
    session.execute(
        update(_outbox)
        .where(_outbox.c.id == row.id)
        .values(
            status=status,
            delivered_at=at if delivered else None,
            last_error=None if delivered else (error or "")[:255],
        )
    )
    session.expire_all()
    if row.ticket_id is not None:
        label = "已送达（运营商回执）" if delivered else f"投递失败（运营商回执）：{error}"
        data = {
            "outbox_id": row.id,
            "delivery": status,
            "kind": row.kind,
            "channel": channel,
            "receipt": True,
        }
        session.execute(
            insert(_events), [_event_row(row.ticket_id, "delivery", _SYSTEM, label, at=at, data=data)]
        )
    return True


def void_queued(session: Session, *, outbox_ids: Sequence[int], reason: str, now: datetime) -> list[int]:
    """Withdraw messages not yet handed to a channel (queued, no live lease): they end `failed` with
    `reason` and are never sent. A message a worker holds is in flight and stays; the ids voided."""
    if not outbox_ids:
        return []
    voided = session.execute(
        update(_outbox)
        .where(
            _outbox.c.id.in_(list(outbox_ids)),
            _outbox.c.status == "queued",
            or_(_outbox.c.claimed_until.is_(None), _outbox.c.claimed_until < now),
        )
        .values(status="failed", last_error=reason[:255], claimed_by=None, claimed_until=None)
        .returning(_outbox.c.id)
    )
    return sorted(voided.scalars())


def queue_outbound(
    session: Session,
    *,
    body: str,
    kind: str,
    now: datetime,
    ticket_id: int | None = None,
    channel: str | None = None,
    recipient: str | None = None,
    delivered: bool = False,
    actor: audit.Actor = _SYSTEM,
    event_data: dict[str, Any] | None = None,
) -> int:
    """Queue a message; the only way into the outbox. Returns the outbox id.

    Without `channel` and `recipient` it answers the ticket's sender on the ticket's channel (a
    reply, an automatic notice) and the answer joins the conversation and the timeline (with
    `event_data` added to the line's data). With them it goes to that address (a one-time code to
    the registered phone, a survey, a collection notice without a ticket) and only the outbox holds
    it. `delivered=True` records one a channel already answered in its own response (a WeChat
    passive reply).
    """
    ticket = session.get(Ticket, ticket_id) if ticket_id is not None else None
    to_correspondent = channel is None and recipient is None
    if to_correspondent:
        if ticket is None:
            raise ValueError("a message without a ticket needs a channel and a recipient")
        channel, recipient = ticket.channel, normalise_sender(ticket.sender)
    assert channel is not None and recipient is not None
    outbox = OutboxMessage(
        ticket_id=ticket_id,
        channel=channel,
        recipient=recipient,
        kind=kind,
        body=body,
        created_at=now,
        status="delivered" if delivered else "queued",
        attempts=0,
        delivered_at=now if delivered else None,
    )
    session.add(outbox)
    if to_correspondent and ticket is not None:
        session.add(
            Message(
                ticket_id=ticket.id,
                direction="out",
                channel=channel,
                sender=actor.name,
                text=body,
                text_simplified=body,
                received_at=now,
            )
        )
    session.flush()
    if to_correspondent and ticket is not None:
        data = {"outbox_id": outbox.id, "delivery": outbox.status, "kind": kind, "channel": channel}
        data |= event_data or {}
        session.add(TicketEvent(**_event_row(ticket.id, "outbound", actor, body, at=now, data=data)))
    return outbox.id


def queue_addressed(
    session: Session, *, channel: str, kind: str, body: str, recipients: Sequence[str], now: datetime
) -> list[int]:
    """Queue one message to each address (a broadcast, a campaign) with one INSERT for them all:
    the outbox ids, in the order of `recipients`. Like `queue_outbound` with a channel and a
    recipient, only the outbox holds them."""
    if not recipients:
        return []
    rows = [
        {"channel": channel, "recipient": recipient, "kind": kind, "body": body, "created_at": now}
        for recipient in recipients
    ]
    inserted = session.execute(insert(_outbox).returning(_outbox.c.id, sort_by_parameter_order=True), rows)
    return list(inserted.scalars())


def add_channel_event(
    session: Session, *, ticket_id: int, kind: str, body: str, data: dict[str, Any], at: datetime
) -> None:
    """A line from a channel on a ticket's timeline (a call's recording, its transcript)."""
    session.execute(insert(_events), [_event_row(ticket_id, kind, _SYSTEM, body, at=at, data=data)])


@dataclass(frozen=True)
class OutboxHealth:
    channel: str
    queued: int
    sending: int
    dead: int
    failed: int
    last_delivered_at: datetime | None
    last_error: str | None


def outbox_health(session: Session, *, now: datetime) -> dict[str, OutboxHealth]:
    """Per channel: waiting, being sent, dead letters, failures, last delivery and last error."""

    def count(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    queued = _outbox.c.status == "queued"
    rows = session.execute(
        select(
            _outbox.c.channel,
            count(queued),
            count(queued & (_outbox.c.claimed_until > now)),
            count(_outbox.c.status == "dead"),
            count(_outbox.c.status == "failed"),
            func.max(_outbox.c.delivered_at),
        ).group_by(_outbox.c.channel)
    ).all()
    errors = dict(
        session.execute(
            select(_outbox.c.channel, _outbox.c.last_error)
            .where(_outbox.c.last_error.is_not(None))
            .order_by(_outbox.c.id.desc())
            .limit(50)
        ).all()[::-1]
    )
    return {
        row[0]: OutboxHealth(
            row[0], row[1] or 0, row[2] or 0, row[3] or 0, row[4] or 0, row[5], errors.get(row[0])
        )
        for row in rows
    }


@dataclass(frozen=True)
class DeadLetter:
    outbox_id: int
    ticket_number: str | None
    channel: str
    recipient: str
    kind: str
    attempts: int
    last_error: str | None
    created_at: datetime


def dead_letters(session: Session, *, channel: str | None = None, limit: int = 100) -> list[DeadLetter]:
    statement = (
        select(
            _outbox.c.id,
            _tickets.c.number,
            _outbox.c.channel,
            _outbox.c.recipient,
            _outbox.c.kind,
            _outbox.c.attempts,
            _outbox.c.last_error,
            _outbox.c.created_at,
        )
        .outerjoin(_tickets, _tickets.c.id == _outbox.c.ticket_id)
        .where(_outbox.c.status == "dead")
        .order_by(_outbox.c.id.desc())
        .limit(limit)
    )
    if channel is not None:
        statement = statement.where(_outbox.c.channel == channel)
    return [DeadLetter(*row) for row in session.execute(statement)]


def requeue_dead_letter(session: Session, *, outbox_id: int, actor: audit.Actor, now: datetime) -> bool:
    """Put a dead letter back in the queue (attempts start again); False when it is not a dead letter."""
    _take_write_gate(session)
    requeued = session.execute(
        update(_outbox)
        .where(_outbox.c.id == outbox_id, _outbox.c.status == "dead")
        .values(status="queued", attempts=0, next_attempt_at=None, claimed_by=None, claimed_until=None)
        .returning(_outbox.c.ticket_id)
    ).first()
    if requeued is None:
        return False
    session.expire_all()
    audit.record(
        session, actor, "outbox.requeue", ("outbox", str(outbox_id)), {"status": "dead"}, {"status": "queued"}
    )
    if requeued.ticket_id is not None:
        data = {"outbox_id": outbox_id, "delivery": "queued"}
        session.execute(
            insert(_events),
            [_event_row(requeued.ticket_id, "delivery", actor, "重新投递（死信重排）", at=now, data=data)],
        )
    return True
