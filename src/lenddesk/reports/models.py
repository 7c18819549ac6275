"""Tables of the reports room: the month-end snapshot per loan and the small summaries pages read.

The snapshot is written by the close on the last calendar day of each month (Shanghai) or rebuilt
from the bucket history; the summaries are derived from it in the same transaction, so a report
page reads a few hundred rows, never the book.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lenddesk.core.db import Base, UTCDateTime, utcnow

Fen = BigInteger


class ReportMonth(Base):
    """A month whose snapshot exists: where it came from and whether balances are known."""

    __tablename__ = "reports_months"

    month: Mapped[str] = mapped_column(String(7), primary_key=True, autoincrement=False)  # YYYY-MM
    source: Mapped[str] = mapped_column(String(8))  # close | rebuild
    balances_available: Mapped[bool] = mapped_column(Boolean)
    loans: Mapped[int] = mapped_column(Integer)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MonthEndPosition(Base):
    """One loan at one month end (docs/REPORTS.md "Month-end snapshot")."""

    __tablename__ = "reports_month_end"
    month: Mapped[str] = mapped_column(String(7), primary_key=True, autoincrement=False)
    loan_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(8))  # M0 … M5, M6+, settled, WO
    days_past_due: Mapped[int | None] = mapped_column(Integer, nullable=True)
    outstanding_principal_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)
    overdue_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)
    principal_fen: Mapped[int] = mapped_column(Fen)
    cohort_month: Mapped[str] = mapped_column(String(7))
    product_code: Mapped[str] = mapped_column(String(32))
    restructured: Mapped[bool] = mapped_column(Boolean)
    # The outstanding principal at the first month end the loan was 1+ / 30+ / 90+ days past due
    # (written off counts as 90+); NULL while it never was. Carried forward month to month.
    ever_dpd1_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)
    ever_dpd30_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)
    ever_dpd90_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)


class RollSummary(Base):
    """Loans by state at the end of the month before (`from_state`) and at this month's end."""

    __tablename__ = "reports_roll_summary"

    month: Mapped[str] = mapped_column(String(7), primary_key=True, autoincrement=False)
    product_code: Mapped[str] = mapped_column(String(32), primary_key=True, autoincrement=False)
    restructured: Mapped[bool] = mapped_column(Boolean, primary_key=True, autoincrement=False)
    from_state: Mapped[str] = mapped_column(String(8), primary_key=True, autoincrement=False)
    to_state: Mapped[str] = mapped_column(String(8), primary_key=True, autoincrement=False)
    loans: Mapped[int] = mapped_column(Integer)
    balance_from_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)
    balance_to_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)


class VintageSummary(Base):
    """One disbursement month (cohort) at one month end: principal disbursed and what is in arrears."""

    __tablename__ = "reports_vintage_summary"

    cohort_month: Mapped[str] = mapped_column(String(7), primary_key=True, autoincrement=False)
    month: Mapped[str] = mapped_column(String(7), primary_key=True, autoincrement=False)
    product_code: Mapped[str] = mapped_column(String(32), primary_key=True, autoincrement=False)
    loans: Mapped[int] = mapped_column(Integer)
    disbursed_fen: Mapped[int] = mapped_column(Fen)
    current_dpd1_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)
    current_dpd30_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)
    current_dpd90_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)
    ever_dpd1_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)
    ever_dpd30_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)
    ever_dpd90_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)


class PortfolioSummary(Base):
    """Active loans at one month end per product: outstanding principal and what is past each line."""

    __tablename__ = "reports_portfolio_summary"

    month: Mapped[str] = mapped_column(String(7), primary_key=True, autoincrement=False)
    product_code: Mapped[str] = mapped_column(String(32), primary_key=True, autoincrement=False)
    loans: Mapped[int] = mapped_column(Integer)
    outstanding_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)
    dpd1_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)
    dpd30_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)  # ≥ 30 days
    par30_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)  # > 30 days
    dpd90_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)
    par90_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)
