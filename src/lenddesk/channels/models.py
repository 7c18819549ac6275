"""Tables of the channels room: encrypted channel settings, activity for the health view, phone
calls, e-mail attachments and the out-of-hours notices already sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lenddesk.core.db import Base, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")


class ChannelSetting(Base):
    """A channel's credentials and options: one Fernet token of their JSON (never in clear at rest)."""

    __tablename__ = "channel_settings"

    # email, wechat, sms, cti
    channel: Mapped[str] = mapped_column(String(16), primary_key=True, autoincrement=False)
    sealed: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64))


class ChannelActivity(Base):
    """Per channel: the last message in, and how many came in (counted in SQL)."""

    __tablename__ = "channel_activity"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True, autoincrement=False)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    inbound_count: Mapped[int] = mapped_column(BigInteger, default=0)
    ignored_count: Mapped[int] = mapped_column(BigInteger, default=0)  # auto-replies, bounces, events


class ChannelCall(Base):
    """A phone call reported by the CTI: ringing → answered → ended, its recording and transcript."""

    __tablename__ = "channel_calls"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), unique=True)
    caller: Mapped[str] = mapped_column(String(32), index=True)
    agent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(10), default="ringing")  # ringing, answered, ended
    ticket_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    ringing_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    recording_url: Mapped[str | None] = mapped_column(String(500), nullable=True)


class ChannelEventSeen(Base):
    """Provider event ids already applied (CTI events, SMS pushes): a retried push changes nothing."""

    __tablename__ = "channel_events_seen"
    __table_args__ = (UniqueConstraint("channel", "event_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ChannelAttachment(Base):
    __tablename__ = "channel_attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(20), index=True)
    channel_message_id: Mapped[str] = mapped_column(String(255))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ChannelAutoReply(Base):
    """The out-of-hours notice sent on a ticket for one closed period (its next opening): once each."""

    __tablename__ = "channel_auto_replies"
    __table_args__ = (UniqueConstraint("ticket_id", "opens_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(Integer)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
