"""The outbox's interface: what a delivery driver claims, what a channel is handed, what it answers.

The desk owns the outbox (the table `desk_outbox` and `service.queue_outbound`, its only writer);
the channels room owns every driver that delivers it (channels/worker.py). Between the two, these
types: the worker claims `ClaimedMessage`s, hands each channel's `Adapter` an `Outgoing`, turns the
adapter's `DeliveryResult` into a `SendOutcome` and settles the batch with those (docs/ARCHITECTURE.md
"The outbox"). Pure: no database, no network, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ClaimedMessage:
    """A queued message a worker holds until its lease runs out."""

    outbox_id: int
    ticket_id: int | None
    ticket_number: str | None
    channel: str
    recipient: str
    kind: str
    body: str
    attempt: int  # this attempt's number, 1 for the first
    idempotency_key: str
    secret: str | None = None  # a one-time code inside `body`: sent, never logged
    in_reply_to: str | None = None  # e-mail: the Message-ID of the borrower's last mail on the ticket


@dataclass(frozen=True)
class Outgoing:
    """A message to send. `secret` is a one-time code inside `body`: sent, never logged or stored."""

    outbox_id: int
    channel: str
    recipient: str
    body: str
    secret: str | None = None
    idempotency_key: str = ""
    ticket_number: str | None = None
    kind: str = "reply"
    in_reply_to: str | None = None  # e-mail: the Message-ID this answer threads under

    @classmethod
    def of(cls, claimed: ClaimedMessage) -> Outgoing:
        return cls(
            claimed.outbox_id,
            claimed.channel,
            claimed.recipient,
            claimed.body,
            claimed.secret,
            claimed.idempotency_key or f"lenddesk-{claimed.outbox_id}",
            claimed.ticket_number,
            claimed.kind,
            claimed.in_reply_to,
        )

    def masked_body(self) -> str:
        """The body as logs may keep it: the secret replaced by asterisks."""
        return self.body.replace(self.secret, "*" * 6) if self.secret else self.body


@dataclass(frozen=True)
class SendOutcome:
    """What a channel answered for one message, as the outbox records it."""

    outbox_id: int
    accepted: bool
    awaiting_receipt: bool = False  # accepted; the provider reports delivery later (SMS)
    provider_message_id: str | None = None
    error: str | None = None
    permanent: bool = False  # refused for good (bad address, opted out): no retry


@dataclass(frozen=True)
class DeliveryResult:
    """What an adapter answers for the message it was handed."""

    delivered: bool  # accepted by the channel
    error: str | None = None
    provider_message_id: str | None = None
    awaiting_receipt: bool = False  # the provider reports delivery later by webhook
    permanent: bool = False  # refused for good: retrying cannot help

    def outcome(self, outbox_id: int) -> SendOutcome:
        return SendOutcome(
            outbox_id,
            self.delivered,
            self.awaiting_receipt,
            self.provider_message_id,
            self.error,
            self.permanent,
        )


class Adapter(Protocol):
    """One channel's sender; thread-safe (the worker sends from a pool of threads)."""

    channel: str

    def deliver(self, message: Outgoing, *, now: datetime) -> DeliveryResult: ...
