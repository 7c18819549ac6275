"""The delivery-log adapter, which stands in for a channel that is not configured.

Every adapter implements the desk's `Adapter` (desk/delivery.py): `deliver(Outgoing, now=)` sends
one message and answers a `DeliveryResult`. The real adapters (SMTP, WeChat customer-service
messages, Alibaba Cloud SMS) live beside this module; the delivery-log adapter appends one JSON line
per message to a file (one-time codes masked) and stands in for a channel that is not configured
(e-mail and SMS in the demo).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from lenddesk.desk.delivery import Adapter, DeliveryResult, Outgoing


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
