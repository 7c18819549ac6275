"""Tables of the assistant room: chat sessions, their messages, and the admins' FAQ entries.

A session is one borrower's conversation on the web chat, named by a random token the browser
keeps (`public_id`). Its messages are numbered 1, 2, 3 … within the session (`seq`), so a client
that reconnects asks for "everything after n" and misses nothing. All timestamps are UTC.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lenddesk.core.db import Base, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")


class ChatSession(Base):
    __tablename__ = "assistant_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(64), unique=True)
    # bot: the assistant answers; identity / code: verification in progress; handed_off: a person has it.
    state: Mapped[str] = mapped_column(String(12), default="bot")
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    misses: Mapped[int] = mapped_column(Integer, default=0)  # low-confidence answers in a row
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("desk_tickets.id"), nullable=True, index=True)
    ticket_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    handed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Set when this session itself passed the one-time code on its ticket: account answers go only
    # to the session that proved it, while the ticket's level holds.
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    risk_flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    address: Mapped[str] = mapped_column(String(64), default="")
    # The borrower's messages in the current `[auth] throttle_minutes` window and the one before
    # (the per-session rate limit, counted on the row the message locks anyway).
    rate_window: Mapped[int] = mapped_column(BigInteger, default=0)
    rate_count: Mapped[int] = mapped_column(Integer, default=0)
    rate_previous: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ChatMessage(Base):
    """One line of a chat: from the borrower (`in`), the bot or an agent (`out`)."""

    __tablename__ = "assistant_messages"
    __table_args__ = (
        UniqueConstraint("session_id", "seq"),
        # An agent's reply delivered through the desk outbox lands once, however often it is delivered.
        UniqueConstraint("outbox_id"),
        Index("ix_assistant_messages_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("assistant_sessions.id"))
    seq: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(8))  # borrower, bot, agent, system
    author_name: Mapped[str] = mapped_column(String(64), default="")
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(24), nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    emotion: Mapped[str | None] = mapped_column(String(8), nullable=True)
    risk_flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    faq_code: Mapped[str | None] = mapped_column(String(48), nullable=True)
    outbox_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FaqEntry(Base):
    """An admin's FAQ entry: overrides the shipped entry with the same code, or adds a new one."""

    __tablename__ = "assistant_faq"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(48), unique=True)
    intent: Mapped[str] = mapped_column(String(24))
    question: Mapped[str] = mapped_column(String(200))
    variants: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
