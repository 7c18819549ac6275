"""Tables of the quality room: one automatic score per conversation, the review queue with each
item's human verdict, and the case library. All timestamps are UTC."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lenddesk.core.db import Base, UTCDateTime, utcnow


class QaScore(Base):
    """The automatic QA of one ticket's conversation; re-scoring replaces it (one row per ticket).

    `content_hash` fingerprints what was scored (the transcript, the verification time, the ledger
    facts, the SLA deadline) and `rubric_version` the rubric: the same pair always gives the same row.
    """

    __tablename__ = "quality_scores"
    __table_args__ = (
        Index("ix_quality_scores_agent_at", "agent_id", "conversation_at"),
        Index("ix_quality_scores_team_at", "team_id", "conversation_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("desk_tickets.id"), unique=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    team_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    channel: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    score: Mapped[int] = mapped_column(Integer)
    severe: Mapped[bool] = mapped_column(Boolean, default=False)
    # [{code, result, evidence, weight}] in rubric order
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    rubric_version: Mapped[str] = mapped_column(String(16))
    content_hash: Mapped[str] = mapped_column(String(64))
    # What the ledger said when the ticket was resolved (amounts in fen, ISO dates): ACCURACY's yardstick.
    ledger_facts: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    conversation_at: Mapped[datetime] = mapped_column(UTCDateTime())  # resolved (or last changed)
    ticket_updated_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the ticket as scored
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


REVIEW_REASONS = ("severe", "complaint", "low_csat", "low_score", "sample")
REVIEW_STATUSES = ("pending", "reviewed", "acknowledged")


class QaReview(Base):
    """A conversation in the human review queue: why it is there, the reviewer's verdict, the
    agent's acknowledgement."""

    __tablename__ = "quality_reviews"
    __table_args__ = (Index("ix_quality_reviews_status", "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("desk_tickets.id"), unique=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("quality_scores.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    reason: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    reviewer_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    human_score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    agent_comment: Mapped[str | None] = mapped_column(Text, nullable=True)


class QaItemVerdict(Base):
    """The reviewer's verdict on one rubric item beside the automatic one: the rubric's tuning data."""

    __tablename__ = "quality_item_verdicts"
    __table_args__ = (
        UniqueConstraint("review_id", "code"),
        Index("ix_quality_item_verdicts_code", "code", "agrees"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("quality_reviews.id"))
    code: Mapped[str] = mapped_column(String(20))
    automatic: Mapped[str] = mapped_column(String(4))  # pass, fail, n/a
    human: Mapped[str] = mapped_column(String(4))
    agrees: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class QaCase(Base):
    """A reviewed conversation kept for training: a model (学习) or a warning (警示) case."""

    __tablename__ = "quality_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("desk_tickets.id"), index=True)
    review_id: Mapped[int | None] = mapped_column(ForeignKey("quality_reviews.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(8))  # model, warning
    title: Mapped[str] = mapped_column(String(100))
    lesson: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The conversation as it was, personal identifiers masked: [{speaker, text, at}]
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # Simplified, lower-case text of title, lesson, tags and transcript, for search.
    search_text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
