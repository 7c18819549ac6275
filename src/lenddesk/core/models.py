"""Tables of the core room: users (staff who sign in) and the append-only audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from lenddesk.core.db import Base, UTCDateTime, utcnow


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('agent','collector','team_lead','qa','compliance','admin')", name="role_known"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # The public staff number (工号) a borrower may check with us; never the sign-in name.
    badge: Mapped[str | None] = mapped_column(String(16), unique=True, nullable=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # Wrong passwords since the last successful sign-in or admin unlock; never reset by a lock
    # expiring, so each lock beyond the first grows (core.auth.lockout_minutes).
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Every token carries the version it was issued under; logout and password changes bump it.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SignInThrottle(Base):
    """Failed sign-ins per client address and fixed window, for a sliding-window estimate.

    Shared by every worker through the database (or kept in Redis when configured instead).
    """

    __tablename__ = "sign_in_throttle"
    __table_args__ = (PrimaryKeyConstraint("address", "window_number"),)

    address: Mapped[str] = mapped_column(String(64), autoincrement=False)
    window_number: Mapped[int] = mapped_column(BigInteger, index=True, autoincrement=False)  # since the epoch
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class AuditEntry(Base):
    """Who did what to which entity, when, with the state before and after. Never updated or deleted."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    actor_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class AuditImmutable(Exception):
    """Raised when code tries to change or remove an audit row."""


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(*_args: Any) -> None:
    raise AuditImmutable("audit entries are append-only")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(*_args: Any) -> None:
    raise AuditImmutable("audit entries are append-only")
