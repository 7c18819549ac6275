"""Tables of the care room: profiles, consents, campaigns, the messages a campaign sent, revisits."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
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


class Profile(Base):
    """What the borrower wants to hear about and whether offers may be personalised. Its row is also
    the per-borrower lock of the care room (consents are granted and revoked under it)."""

    __tablename__ = "care_profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"), unique=True)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    personalised: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Consent(Base):
    """A borrower's consent to marketing or education messages on one channel, with its evidence.

    Revoked consents stay, with their evidence, at least `consent_retention_days` after the
    revocation (the purge job removes them after that, never earlier)."""

    __tablename__ = "care_consents"
    __table_args__ = (Index("ix_care_consents_purpose", "purpose", "channel", "revoked_at", "borrower_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(12))  # marketing, education
    channel: Mapped[str] = mapped_column(String(12))
    evidence: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    granted_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    revocation_evidence: Mapped[str | None] = mapped_column(Text, nullable=True)


class Campaign(Base):
    """A care campaign: drafted, approved by compliance (not its creator), launched (again, later the
    same day, for borrowers whose window opens later: nobody gets it twice)."""

    __tablename__ = "care_campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(12))  # greeting, education, offer, revisit
    channel: Mapped[str] = mapped_column(String(12))
    text: Mapped[str] = mapped_column(Text)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    send_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    festival: Mapped[str | None] = mapped_column(String(24), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="draft")  # draft, approved, launched
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    launches: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Send(Base):
    """One campaign message to one borrower: the unique key makes a launch idempotent per borrower."""

    __tablename__ = "care_sends"
    __table_args__ = (
        UniqueConstraint("campaign_id", "borrower_id", name="uq_care_sends_campaign_borrower"),
        Index("ix_care_sends_marketing", "marketing", "sent_at", "borrower_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("care_campaigns.id"))
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"), index=True)
    marketing: Mapped[bool] = mapped_column(Boolean)
    channel: Mapped[str] = mapped_column(String(12))
    outbox_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Revisit(Base):
    """A revisit (回访) after a hardship agreement, a resolved complaint or a low CSAT: on its owner's
    list until done. One per source event."""

    __tablename__ = "care_revisits"
    __table_args__ = (
        UniqueConstraint("source", "source_ref", name="uq_care_revisits_source"),
        Index("ix_care_revisits_owner", "owner_id", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"), index=True)
    source: Mapped[str] = mapped_column(String(12))  # hardship, complaint, csat
    source_ref: Mapped[str] = mapped_column(String(40))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("desk_tickets.id"), nullable=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(8), default="open")  # open, done
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(500), nullable=True)
    done_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
