"""Tables of the loan ledger: borrowers and their contacts, products, loans, schedules, repayments.

Money columns are integer fen (`*_fen`); rates are exact decimals.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lenddesk.core.db import Base, UTCDateTime, utcnow

Fen = BigInteger


class Borrower(Base):
    __tablename__ = "borrowers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    mobile: Mapped[str] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True, nullable=True)
    wechat_openid: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    address: Mapped[str | None] = mapped_column(String(255), nullable=True)
    employer: Mapped[str | None] = mapped_column(String(128), nullable=True)
    preferred_channel: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BorrowerContact(Base):
    """A phone on file: the borrower's own, a spouse's, an emergency contact's (third parties)."""

    __tablename__ = "borrower_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"), index=True)
    relation: Mapped[str] = mapped_column(String(16))  # self, spouse, emergency, relative, colleague
    name: Mapped[str] = mapped_column(String(64))
    mobile: Mapped[str] = mapped_column(String(20), index=True)
    is_third_party: Mapped[bool] = mapped_column(Boolean, default=True)


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    annual_rate: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    term: Mapped[int] = mapped_column(Integer)
    frequency: Mapped[str] = mapped_column(String(16), default="monthly")
    method: Mapped[str] = mapped_column(
        String(24)
    )  # equal_instalment, equal_principal, interest_first, bullet
    grace_days: Mapped[int] = mapped_column(Integer, default=3)
    penalty_daily_rate: Mapped[Decimal] = mapped_column(Numeric(9, 6), default=Decimal("0.0005"))
    late_fee_fixed_fen: Mapped[int] = mapped_column(Fen, default=0)
    late_fee_percent: Mapped[Decimal] = mapped_column(Numeric(9, 6), default=Decimal("0"))
    allocation_order: Mapped[str] = mapped_column(String(64), default="penalty,late_fee,interest,principal")
    annual_cost_cap: Mapped[Decimal] = mapped_column(Numeric(9, 6), default=Decimal("0.24"))


class Loan(Base):
    __tablename__ = "loans"
    __table_args__ = (Index("ix_loans_status_next_due", "status", "next_due_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_number: Mapped[str] = mapped_column(String(32), unique=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    principal_fen: Mapped[int] = mapped_column(Fen)
    annual_rate: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    term: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(24))
    disbursed_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="current")  # current overdue settled written_off
    days_past_due: Mapped[int] = mapped_column(Integer, default=0)
    bucket: Mapped[str] = mapped_column(String(8), default="M0")
    next_due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    credit_balance_fen: Mapped[int] = mapped_column(Fen, default=0)
    settled_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class ScheduleLine(Base):
    """One instalment of a loan's repayment schedule with what is due and what has been paid."""

    __tablename__ = "schedule_lines"
    __table_args__ = (UniqueConstraint("loan_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    period: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    principal_fen: Mapped[int] = mapped_column(Fen)
    interest_fen: Mapped[int] = mapped_column(Fen)
    penalty_fen: Mapped[int] = mapped_column(Fen, default=0)
    late_fee_fen: Mapped[int] = mapped_column(Fen, default=0)
    paid_principal_fen: Mapped[int] = mapped_column(Fen, default=0)
    paid_interest_fen: Mapped[int] = mapped_column(Fen, default=0)
    paid_penalty_fen: Mapped[int] = mapped_column(Fen, default=0)
    paid_late_fee_fen: Mapped[int] = mapped_column(Fen, default=0)
    paid_off_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class Repayment(Base):
    __tablename__ = "repayments"
    __table_args__ = (UniqueConstraint("channel", "external_reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_reference: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(Fen)
    value_date: Mapped[date] = mapped_column(Date)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="posted")  # posted, reversed
