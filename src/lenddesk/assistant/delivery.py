"""The `chat` channel's delivery for the desk's outbox, registered with the channels room.

An agent's reply on a web chat ticket (from the chat workspace, or from the desk's own ticket page
or API) is queued in the desk's outbox like any reply; the channels room's worker (`lenddesk desk
deliver`, "deliver now") hands it to the adapter registered here, which writes it into the
borrower's chat once per outbox message. A live reply from the chat workspace is written into the
chat at once and queued as already delivered (assistant/service/agents.py). A `chat` ticket that
is not a web chat session (its sender is not `chat:<session id>`) keeps the channel's previous
adapter, the delivery log.

Kept light on purpose (the tables and their SQL, no model or FAQ index): the delivery worker
imports it at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from lenddesk.assistant import store
from lenddesk.channels import registry
from lenddesk.desk.delivery import Adapter, DeliveryResult, Outgoing

SENDER_PREFIX = "chat:"  # the desk's sender (and reply recipient) of a web chat session


@dataclass
class WebChatAdapter:
    """Writes `chat` outbox messages into the borrower's web chat session (once per outbox id),
    in the caller's transaction."""

    session: Session
    author_name: str = "客服"
    channel: str = "chat"
    fallback: Adapter | None = None  # for `chat` tickets that are not web chat sessions

    def deliver(self, message: Outgoing, *, now: datetime) -> DeliveryResult:
        if not message.recipient.startswith(SENDER_PREFIX):
            if self.fallback is not None:
                return self.fallback.deliver(message, now=now)
            return DeliveryResult(False, "not a web chat session", permanent=True)
        public_id = message.recipient.removeprefix(SENDER_PREFIX)
        chat = store.lock_existing(self.session, public_id=public_id)
        if chat is None:
            return DeliveryResult(False, "web chat session not found", permanent=True)
        # Under the session's lock: a second delivery of the same outbox message finds the first.
        if store.line_of_outbox(self.session, message.outbox_id) is None:
            store.append_line(
                self.session,
                chat,
                author="agent",
                text=message.body,
                now=now,
                author_name=self.author_name,
                outbox_id=message.outbox_id,
            )
        return DeliveryResult(True)


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


registry.register("chat", WebChatDelivery)
