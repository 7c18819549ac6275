"""Tables of the risk room: borrower profiles (the per-borrower lock and the early-warning score),
activity events, alerts, the blacklist (keyed hashes only), borrower keys and score runs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lenddesk.core.db import Base, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")


class Profile(Base):
    """One row per borrower the risk room knows: its row is the lock that serialises the borrower's
    events (so a window cannot be raced past), and it holds the score of the last close."""

    __tablename__ = "risk_profiles"
    # The band alone (lists are read by band): a score moving within its band then leaves every
    # index alone, and the close's rescoring is heap-only (migration 0020_heap_only_daily_updates).
    __table_args__ = (Index("ix_risk_profiles_band", "band"), {"postgresql_with": {"fillfactor": 70}})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"), unique=True)
    score: Mapped[int] = mapped_column(Integer, default=0)
    band: Mapped[str] = mapped_column(String(8), default="low")
    previous_band: Mapped[str] = mapped_column(String(8), default="low")
    worst_dpd: Mapped[int] = mapped_column(Integer, default=0)
    late_instalments: Mapped[int] = mapped_column(Integer, default=0)
    partial_payments: Mapped[int] = mapped_column(Integer, default=0)
    broken_promises: Mapped[int] = mapped_column(Integer, default=0)
    broken_agreements: Mapped[int] = mapped_column(Integer, default=0)
    recent_hardship: Mapped[int] = mapped_column(Integer, default=0)
    scored_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class Event(Base):
    """An activity event from a channel (login, transfer, card binding); one per (source, event_id)."""

    __tablename__ = "risk_events"
    __table_args__ = (
        UniqueConstraint("source", "event_id"),
        Index("ix_risk_events_borrower_at", "borrower_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(64))
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"))
    kind: Mapped[str] = mapped_column(String(12))  # login, transfer, card_bind
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    region: Mapped[str] = mapped_column(String(6))
    province: Mapped[str | None] = mapped_column(String(2), nullable=True)
    amount_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    device: Mapped[str | None] = mapped_column(String(128), nullable=True)
    success: Mapped[bool] = mapped_column(default=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Alert(Base):
    """An alert of a rule about a borrower. `open_key` is "<borrower>:<rule>" while the alert is not
    closed and NULL after: its unique index keeps at most one open alert per borrower and rule."""

    __tablename__ = "risk_alerts"
    __table_args__ = (Index("ix_risk_alerts_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rule: Mapped[str] = mapped_column(String(24))
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open, acknowledged, closed
    open_key: Mapped[str | None] = mapped_column(String(48), unique=True, nullable=True)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    disposition: Mapped[str | None] = mapped_column(String(24), nullable=True)
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    ticket_number: Mapped[str | None] = mapped_column(String(20), nullable=True)


class BlacklistEntry(Base):
    """A blacklisted ID or mobile number, as its keyed hash only. `live_key` is the hash while the
    entry is requested or listed (one live entry per value) and NULL once removed or rejected."""

    __tablename__ = "risk_blacklist"
    __table_args__ = (Index("ix_risk_blacklist_hash", "value_hash", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # id_number, mobile
    value_hash: Mapped[str] = mapped_column(String(64))
    live_key: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    # pending (waits for a second person), listed, removal_pending, removed, rejected
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str] = mapped_column(String(255))
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    removal_reason: Mapped[str | None] = mapped_column(String(255), nullable=True)
    removal_requested_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    removal_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    removed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class BorrowerKey(Base):
    """The keyed hashes of a borrower's ID number and mobile, so that "which borrowers are listed" is
    one join (refreshed by the close and whenever a borrower is checked)."""

    __tablename__ = "risk_borrower_keys"

    borrower_id: Mapped[int] = mapped_column(
        ForeignKey("borrowers.id"), primary_key=True, autoincrement=False
    )
    id_hash: Mapped[str] = mapped_column(String(64), index=True)
    mobile_hash: Mapped[str] = mapped_column(String(64), index=True)


class ScoreRun(Base):
    """The early-warning scoring of one business date: resumable by borrower id, done once."""

    __tablename__ = "risk_score_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_date: Mapped[date] = mapped_column(Date, unique=True)
    status: Mapped[str] = mapped_column(String(8), default="running")
    last_borrower_id: Mapped[int] = mapped_column(BigInteger, default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
