"""What the borrower receives: the desk's outbox delivered once on every channel through an inbox
that keeps each message (and, when given a directory, writes the delivery log as production does).
A survey's token is drawn only then, so this is the only place a test can find a working link."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from lenddesk.channels.delivery_log import DeliveryLogAdapter
from lenddesk.desk.delivery import DeliveryResult, Outgoing
from tests.support.delivery import deliver_outbox

LINK = re.compile(r"/survey/([A-Za-z0-9_-]{40,})")


@dataclass
class Inbox:
    """A channel that keeps what it delivers, after the delivery-log adapter's turn if any."""

    channel: str
    log: DeliveryLogAdapter | None = None
    received: list[Outgoing] = field(default_factory=list)

    def deliver(self, message: Outgoing, *, now: datetime) -> DeliveryResult:
        self.received.append(message)
        return self.log.deliver(message, now=now) if self.log else DeliveryResult(True)


def deliver(session: Session, now: datetime, log_dir: Path | None = None) -> list[Outgoing]:
    """Run the channels' delivery worker on every channel (committing first); what the borrowers got."""
    channels = ("chat", "sms", "email")
    logs = {c: DeliveryLogAdapter(c, log_dir / f"{c}.jsonl") if log_dir else None for c in channels}
    inboxes = {channel: Inbox(channel, logs[channel]) for channel in channels}
    deliver_outbox(session, adapters=inboxes, now=now)  # type: ignore[arg-type]
    return [message for inbox in inboxes.values() for message in inbox.received]


def survey_links(session: Session, now: datetime) -> dict[str, str]:
    """Ticket number → the survey link path the borrower received (delivering the outbox first)."""
    links = {}
    for message in deliver(session, now):
        found = LINK.search(message.body)
        if message.kind == "survey" and message.ticket_number and found:
            links[message.ticket_number] = found.group(0)
    return links
