"""Tables of the collections room: accounts in collection, contacts (sent, scheduled, blocked),
outcomes and promises to pay, holds, scripts, the daily worklist and the plan runs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lenddesk.core.db import Base, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")


class Account(Base):
    """A borrower the collections room has planned for or contacted; its row is the lock that
    serialises contacts to the borrower (so the frequency cap holds under concurrent callers)."""

    __tablename__ = "collections_accounts"
    __table_args__ = (
        # Not the expected recovery (rewritten for every overdue account each day): with no indexed
        # column changed and room in the page, the close's daily update is heap-only on PostgreSQL
        # (migration 0020_heap_only_daily_updates).
        Index("ix_collections_accounts_worklist", "state", "assigned_user_id"),
        {"postgresql_with": {"fillfactor": 50}},  # the overdue ones, nearly all, rewritten together
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"), unique=True)
    # current (reminders only), overdue (in collection), closed (cured or written off)
    state: Mapped[str] = mapped_column(String(10), default="current")
    strategy: Mapped[str] = mapped_column(String(32))
    arm: Mapped[str] = mapped_column(String(10))  # champion, challenger (drawn once, recorded)
    bucket: Mapped[str] = mapped_column(String(8), default="M0")
    days_past_due: Mapped[int] = mapped_column(Integer, default=0)
    overdue_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    # Repayment propensity 0–100 and its inputs (docs/COLLECTIONS.md "Propensity score").
    propensity: Mapped[int] = mapped_column(Integer, default=50)
    ontime_lines: Mapped[int] = mapped_column(Integer, default=0)
    due_lines: Mapped[int] = mapped_column(Integer, default=0)
    paid_last_30d: Mapped[bool] = mapped_column(Boolean, default=False)
    promises_kept: Mapped[int] = mapped_column(Integer, default=0)
    promises_broken: Mapped[int] = mapped_column(Integer, default=0)
    expected_recovery_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    segment: Mapped[str] = mapped_column(String(8), default="medium")  # low, medium, high risk
    assigned_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    overdue_since: Mapped[date | None] = mapped_column(Date, nullable=True)
    cured_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    worst_bucket: Mapped[str] = mapped_column(String(8), default="M0")
    updated_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class Contact(Base):
    """One contact attempt: scheduled by the plan, sent, or blocked by the guard (with its codes)."""

    __tablename__ = "collections_contacts"
    __table_args__ = (
        Index("ix_collections_contacts_borrower", "borrower_id", "status", "local_date"),
        Index("ix_collections_contacts_due", "status", "send_at"),
        Index("ix_collections_contacts_blocked", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"))
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"), nullable=True)
    recipient: Mapped[str] = mapped_column(String(12))  # self, third_party
    contact_ref: Mapped[int | None] = mapped_column(Integer, nullable=True)  # borrower_contacts.id
    channel: Mapped[str] = mapped_column(String(12))
    # plan (automated), agent (console or API), inbound (the borrower called us: never counted)
    source: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(10))  # scheduled, sent, blocked
    text: Mapped[str] = mapped_column(Text, default="")
    codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    violations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    strategy: Mapped[str | None] = mapped_column(String(32), nullable=True)
    arm: Mapped[str | None] = mapped_column(String(10), nullable=True)
    step: Mapped[str | None] = mapped_column(String(32), nullable=True)
    script: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The plan's idempotency key: contact day, step and loan (one message per step per day).
    plan_key: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    amount_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    local_date: Mapped[date] = mapped_column(Date)  # borrower-local date of the attempt
    outbox_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    actor_name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Outcome(Base):
    """What came of a contact: right party, promise to pay (kept or broken at COB), dispute …"""

    __tablename__ = "collections_outcomes"
    __table_args__ = (Index("ix_collections_outcomes_promises", "promise_status", "promise_date"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("collections_contacts.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(500), default="")
    promise_amount_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    promise_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    promise_status: Mapped[str | None] = mapped_column(String(8), nullable=True)  # open, kept, broken
    promised_on: Mapped[date] = mapped_column(Date)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    ticket_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    arm: Mapped[str | None] = mapped_column(String(10), nullable=True)
    strategy: Mapped[str | None] = mapped_column(String(32), nullable=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    actor_name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Hold(Base):
    """An open dispute or complaint about the debt: collection pauses (DISPUTE_HOLD) until released."""

    __tablename__ = "collections_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"), index=True)
    ticket_number: Mapped[str] = mapped_column(String(20), unique=True)
    reason: Mapped[str] = mapped_column(String(255))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Script(Base):
    """A 话术 template per stage and channel; saved only if it passes the guard."""

    __tablename__ = "collections_scripts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    stage: Mapped[str] = mapped_column(String(8))  # pre_due, due, M1, M2, M3+
    channel: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WorkItem(Base):
    """A line of a collector's worklist for a contact day, ranked by expected recovery."""

    __tablename__ = "collections_worklist"
    __table_args__ = (Index("ix_collections_worklist_user", "work_date", "user_id", "rank"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    work_date: Mapped[date] = mapped_column(Date)
    account_id: Mapped[int] = mapped_column(ForeignKey("collections_accounts.id"))
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    step: Mapped[str] = mapped_column(String(32))
    rank: Mapped[int] = mapped_column(Integer, default=0)
    expected_recovery_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    # One line per account and day, whatever step produced it.
    plan_key: Mapped[str] = mapped_column(String(48), unique=True)


class PlanRun(Base):
    """The daily plan of one business date (idempotent: a date done is not planned again)."""

    __tablename__ = "collections_plan_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_date: Mapped[date] = mapped_column(Date, unique=True)
    status: Mapped[str] = mapped_column(String(8), default="running")
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
