"""Tables of the feedback room: one satisfaction survey per resolved ticket. All timestamps UTC."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lenddesk.core.db import Base, UTCDateTime, utcnow

SURVEY_STATUSES = ("sent", "answered", "unsent")


class Survey(Base):
    """A CSAT/NPS survey sent after a ticket was resolved.

    The link's token is never stored: only its SHA-256 (`token_hash`). A survey is answered once —
    the answer is a conditional UPDATE on status 'sent' before `expires_at`.
    """

    __tablename__ = "feedback_surveys"
    __table_args__ = (
        Index("ix_feedback_surveys_sent", "sent_at"),
        Index("ix_feedback_surveys_agent", "agent_id", "sent_at"),
        UniqueConstraint("ticket_id", "resolution"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # One survey per resolution: a reopened and re-resolved ticket gets a new one.
    ticket_id: Mapped[int] = mapped_column(ForeignKey("desk_tickets.id"))
    resolution: Mapped[int] = mapped_column(Integer, default=0)  # the ticket's reopened_count then
    borrower_id: Mapped[int | None] = mapped_column(ForeignKey("borrowers.id"), nullable=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    team_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    channel: Mapped[str] = mapped_column(String(16))  # the ticket's channel
    sent_on: Mapped[str] = mapped_column(String(16))  # the channel the survey went out on
    category: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    status: Mapped[str] = mapped_column(String(8), default="sent")
    unsent_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The queued message that carried the survey (the desk's outbox id; a reference, not a key into
    # another room's table).
    outbox_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), nullable=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    csat: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 1–5
    nps: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 0–10
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    sentiment: Mapped[str | None] = mapped_column(String(8), nullable=True)  # positive, neutral, negative
    topics: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)  # desk categories
    keywords: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    callback_follow_up_id: Mapped[int | None] = mapped_column(ForeignKey("desk_follow_ups.id"), nullable=True)
