"""Delivery-log adapters: stand-ins for real channel protocols (web chat, e-mail, SMS).

Each adapter appends one JSON line per message to a log file and reports it delivered. Real
protocol adapters (WeChat, SMTP, an SMS gateway) will implement the same `deliver` call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Outgoing:
    """A message to send. `secret` is a one-time code inside `body`: sent, never logged or stored."""

    outbox_id: int
    channel: str
    recipient: str
    body: str
    secret: str | None = None

    def masked_body(self) -> str:
        """The body as logs may keep it: the secret replaced by asterisks."""
        return self.body.replace(self.secret, "*" * 6) if self.secret else self.body


@dataclass(frozen=True)
class DeliveryResult:
    delivered: bool
    error: str | None = None


class Adapter(Protocol):
    channel: str

    def deliver(self, message: Outgoing, *, now: datetime) -> DeliveryResult: ...


@dataclass
class DeliveryLogAdapter:
    """Writes each message to a JSON-lines log (one-time codes masked) and marks it delivered."""

    channel: str
    path: Path

    def deliver(self, message: Outgoing, *, now: datetime) -> DeliveryResult:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as log:
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
