"""The agent's side of a handed-off chat: the conversation and live replies.

An agent replies through the desk (`desk.reply`: the ticket's timeline, first response, SLA, the
account-data guard and the audit trail) and the reply is delivered to the browser at once by
the web chat adapter (assistant/delivery.py) and recorded in the outbox as delivered. Replies written
on the desk's own ticket page or API wait in the outbox for the channels room's worker (`lenddesk
desk deliver` or "deliver now"), which uses the same adapter (registered with the channels room).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.assistant.delivery import WebChatAdapter
from lenddesk.assistant.models import ChatMessage, ChatSession
from lenddesk.assistant.service._common import check_public_id, find_session
from lenddesk.core import audit
from lenddesk.core.errors import Conflict, NotFound
from lenddesk.desk import service as desk
from lenddesk.desk.delivery import Outgoing


def agent_reply(
    session: Session, *, actor: audit.Actor, agent_name: str, public_id: str, text: str, now: datetime
) -> int:
    """An agent's live reply in a handed-off chat; the new message's number."""
    chat = find_session(session, public_id)
    if chat.ticket_number is None:
        raise Conflict(
            "该会话尚未转人工，没有工单",
            "The chat has not been handed off: no ticket",
            code="chat_not_handed_off",
        )
    result = desk.reply(
        session,
        actor=actor,
        number=chat.ticket_number,
        text=text,
        macro_code=None,
        now=now,
        agent_name=agent_name,
        delivered=True,
    )
    line = Outgoing(result.outbox.id, "chat", result.outbox.recipient, result.text, kind="reply")
    WebChatAdapter(session, agent_name).deliver(line, now=now)
    delivered = session.scalar(select(ChatMessage.seq).where(ChatMessage.outbox_id == result.outbox.id))
    if delivered is None:
        raise NotFound(
            "消息未能送达该会话", "The reply could not be delivered to the chat", code="chat_not_found"
        )
    return int(delivered)


def messages_after(session: Session, *, public_id: str, after: int, limit: int = 200) -> list[ChatMessage]:
    """The session's messages numbered above `after`, in order (a reconnect asks for what it missed)."""
    check_public_id(public_id)
    statement = (
        select(ChatMessage)
        .join(ChatSession, ChatSession.id == ChatMessage.session_id)
        .where(ChatSession.public_id == public_id, ChatMessage.seq > after)
        .order_by(ChatMessage.seq)
        .limit(limit)
    )
    return list(session.scalars(statement))


def session_of_ticket(session: Session, *, number: str) -> ChatSession | None:
    return session.scalar(
        select(ChatSession)
        .where(ChatSession.ticket_number == number.strip().upper())
        .order_by(ChatSession.id.desc())
    )


def handed_off_sessions(session: Session, *, limit: int = 50) -> list[ChatSession]:
    return list(
        session.scalars(
            select(ChatSession)
            .where(ChatSession.state == "handed_off")
            .order_by(ChatSession.updated_at.desc())
            .limit(limit)
        )
    )
