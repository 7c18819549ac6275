"""The `chat` channel's delivery for the desk's outbox, registered with the channels room.

An agent's reply on a web chat ticket (from the chat workspace, or from the desk's own ticket page
or API) is queued in the desk's outbox like any reply; `lenddesk desk deliver` (the channels room's
worker) and `desk.deliver_outbox` hand it to the adapters registered here, which write it into
the borrower's chat once per outbox message. A `chat` ticket that is not a web chat session (its
sender is not `chat:<session id>`) keeps the channel's previous adapter, the delivery log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from lenddesk.assistant.service import WebChatAdapter
from lenddesk.assistant.service._common import SENDER_PREFIX
from lenddesk.channels import registry
from lenddesk.channels.delivery_log import Adapter, DeliveryResult, Outgoing


@dataclass
class WebChatDelivery:
    """For the delivery worker: each message in its own short transaction, committed when written."""

    session_factory: sessionmaker[Session]
    fallback: Adapter | None = None
    channel: str = "chat"

    def deliver(self, message: Outgoing, *, now: datetime) -> DeliveryResult:
        if not message.recipient.startswith(SENDER_PREFIX) and self.fallback is not None:
            return self.fallback.deliver(message, now=now)
        with self.session_factory() as session:
            result = WebChatAdapter(session).deliver(message, now=now)
            if result.delivered:
                session.commit()
            return result


def _inline(session: Session, fallback: Adapter | None) -> Adapter:
    return WebChatAdapter(session, fallback=fallback)


registry.register("chat", worker=WebChatDelivery, inline=_inline)
