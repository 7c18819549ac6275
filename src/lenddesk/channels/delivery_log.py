"""The adapter interface every channel implements, and the delivery-log adapter.

`Adapter.deliver(Outgoing, now=)` sends one message and answers a `DeliveryResult`. The real
adapters (SMTP, WeChat customer-service messages, Alibaba Cloud SMS) live beside this module; the
delivery-log adapter appends one JSON line per message to a file and stands in for a channel that
is not configured (web chat until the assistant room serves it, and the demo).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from lenddesk.desk.service.outbox import ClaimedMessage, SendOutcome


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
class DeliveryResult:
    delivered: bool  # accepted by the channel
    error: str | None = None
    provider_message_id: str | None = None
    awaiting_receipt: bool = False  # the provider reports delivery later by webhook
    permanent: bool = False  # refused for good: retrying cannot help

    def outcome(self, outbox_id: int) -> SendOutcome:
        from lenddesk.desk.service.outbox import SendOutcome

        return SendOutcome(
            outbox_id,
            self.delivered,
            self.awaiting_receipt,
            self.provider_message_id,
            self.error,
            self.permanent,
        )


class Adapter(Protocol):
    channel: str

    def deliver(self, message: Outgoing, *, now: datetime) -> DeliveryResult: ...


@dataclass
class DeliveryLogAdapter:
    """Writes each message to a JSON-lines log (one-time codes masked) and marks it delivered."""

    channel: str
    path: Path
    lock: threading.Lock = field(default_factory=threading.Lock)  # the worker sends from threads

    def deliver(self, message: Outgoing, *, now: datetime) -> DeliveryResult:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.lock, self.path.open("a", encoding="utf-8") as log:
                record = {
                    "at": now.isoformat(),
                    "channel": message.channel,
                    "outbox_id": message.outbox_id,
                    "recipient": message.recipient,
                    "body": message.masked_body(),
                }
                log.write(json.dumps(record, ensure_ascii=False) + "\n")
        except OSError as exc:
            return DeliveryResult(False, str(exc)[:200])
        return DeliveryResult(True)


def log_adapters(directory: Path) -> dict[str, Adapter]:
    """Web chat, e-mail and SMS adapters writing to `<directory>/delivery-<channel>.jsonl`."""
    return {
        channel: DeliveryLogAdapter(channel, directory / f"delivery-{channel}.jsonl")
        for channel in ("chat", "email", "sms")
    }
