"""Tables of the incidents room: incidents, their checklist items, published updates, and one
delivery row per (update, borrower) of a broadcast. (Declarations are ordered against outbound
checks by a transaction-level lock, not a row: incidents/read.py.)"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lenddesk.core.db import Base, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_status", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # outage, data_leak, fund_risk
    title: Mapped[str] = mapped_column(String(120))
    public_notice: Mapped[str] = mapped_column(Text)
    pause_outbound: Mapped[bool] = mapped_column(Boolean, default=False)
    # Product codes in scope; None: every product.
    products: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="active")  # active, resolved
    declared_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    declared_by: Mapped[str] = mapped_column(String(64))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)


class ChecklistItem(Base):
    __tablename__ = "incident_checklist"
    __table_args__ = (UniqueConstraint("incident_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(120))
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Update(Base):
    """A published update: on the status page, and (when `broadcast`) sent to every affected borrower."""

    __tablename__ = "incident_updates"
    __table_args__ = (UniqueConstraint("incident_id", "reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    broadcast: Mapped[bool] = mapped_column(Boolean, default=True)
    recipients: Mapped[int] = mapped_column(Integer, default=0)  # messages queued
    # The caller's idempotency key: a retried request with it returns this update, sends nothing.
    reference: Mapped[str | None] = mapped_column(String(64), nullable=True)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Delivery(Base):
    """An update queued for one borrower: at most one per (update, borrower), so a retried
    broadcast never sends twice."""

    __tablename__ = "incident_deliveries"
    __table_args__ = (UniqueConstraint("update_id", "borrower_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("incident_updates.id"))
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"))
    outbox_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="queued")  # queued, no_address
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
