"""Tables of the loan ledger: borrowers and their contacts, products, loans, schedules, repayments,
settlement certificates, and the close-of-business records (runs and bucket transitions).

Money columns are integer fen (`*_fen`); rates are exact decimals; business dates are `date`s in
the Asia/Shanghai calendar.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from lenddesk.core.db import Base, UTCDateTime, utcnow

Fen = BigInteger
Rate = Numeric(12, 8)


def _inserted(column: str) -> Callable[[Any], int]:
    """A column default: the value inserted into `column` of the same row."""
    return lambda context: context.get_current_parameters()[column]


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
    preferred_contact_time: Mapped[str | None] = mapped_column(String(32), nullable=True)
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
    annual_rate: Mapped[Decimal] = mapped_column(Rate)
    term: Mapped[int] = mapped_column(Integer)
    frequency: Mapped[str] = mapped_column(String(16), default="monthly")
    # equal_instalment, equal_principal, interest_first, bullet
    method: Mapped[str] = mapped_column(String(24))
    grace_days: Mapped[int] = mapped_column(Integer, default=3)
    # Penalty interest (罚息): a daily rate, or a multiple of the contract rate ("daily" / "multiple").
    penalty_mode: Mapped[str] = mapped_column(String(16), default="daily")
    penalty_daily_rate: Mapped[Decimal] = mapped_column(Rate, default=Decimal("0.0005"))
    penalty_multiple: Mapped[Decimal] = mapped_column(Rate, default=Decimal("1.5"))
    # Late fee (滞纳金) once per overdue instalment: fixed fen, or a percent of the instalment.
    late_fee_fixed_fen: Mapped[int] = mapped_column(Fen, default=0)
    late_fee_percent: Mapped[Decimal] = mapped_column(Rate, default=Decimal("0"))
    allocation_order: Mapped[str] = mapped_column(String(64), default="penalty,late_fee,interest,principal")
    annual_cost_cap: Mapped[Decimal] = mapped_column(Rate, default=Decimal("0.24"))
    early_repayment_fee_percent: Mapped[Decimal] = mapped_column(Rate, default=Decimal("0"))


class Loan(Base):
    __tablename__ = "loans"
    __table_args__ = (
        Index("ix_loans_status_oldest_unpaid", "status", "oldest_unpaid_due_on"),
        Index("ix_loans_next_due_on", "next_due_on"),
        # The close of business first lets credit balances pay what falls due: only the few loans
        # holding credit are read (a partial index), not the whole book.
        Index(
            "ix_loans_with_credit",
            "status",
            sqlite_where=text("credit_balance_fen > 0"),
            postgresql_where=text("credit_balance_fen > 0"),
        ),
        # Room in each page for the close's daily rewrite of overdue loans: a heap-only update, no
        # index entries (migration 0019_room_for_daily_updates).
        {"postgresql_with": {"fillfactor": 85}},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_number: Mapped[str] = mapped_column(String(32), unique=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    principal_fen: Mapped[int] = mapped_column(Fen)
    annual_rate: Mapped[Decimal] = mapped_column(Rate)
    term: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(24))
    disbursed_on: Mapped[date] = mapped_column(Date)
    # current, overdue, settled, written_off
    status: Mapped[str] = mapped_column(String(16), default="current")
    days_past_due: Mapped[int] = mapped_column(Integer, default=0)
    bucket: Mapped[str] = mapped_column(String(8), default="M0")
    # Due date of the oldest instalment not fully paid (None once everything is paid).
    oldest_unpaid_due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    next_due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    outstanding_principal_fen: Mapped[int] = mapped_column(Fen)
    # Interest, penalty and late fees charged so far: checked against the annual cost cap.
    cost_charged_fen: Mapped[int] = mapped_column(Fen, default=0)
    # The cost cap counts the principal actually outstanding day by day (ledger/costcap.py): every
    # fen of principal repaid adds the days it was outstanding (fen × days since disbursement).
    principal_days_repaid: Mapped[int] = mapped_column(BigInteger, default=0)
    # Early repayment fees charged so far (they count against the cap as well).
    early_repayment_fees_fen: Mapped[int] = mapped_column(Fen, default=0)
    credit_balance_fen: Mapped[int] = mapped_column(Fen, default=0)
    settled_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    written_off_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


OWED_OR_LATE = "paid_off_on IS NULL OR paid_off_on > due_on"


class ScheduleLine(Base):
    """One instalment of a loan's repayment schedule with what is due and what has been paid."""

    __tablename__ = "schedule_lines"
    __table_args__ = (
        UniqueConstraint("loan_id", "period"),
        Index("ix_schedule_lines_due_on", "due_on"),
        # A loan's lines due on or by a date, one range of this index: without it PostgreSQL
        # intersected the loan's lines with every line of the book due that day (BitmapAnd), a cost
        # per loan that grows with the book (the collections plan's amounts owed; docs/SCALING.md).
        Index("ix_schedule_lines_loan_due", "loan_id", "due_on"),
        # The lines that were ever past due (unpaid, or paid after their due date), with what the
        # early-warning score reads of them: the score's scan reads this small index only, never
        # the ~9 table rows a loan has past their due date, most of them paid on time
        # (`ledger.service.behaviour.repayment_behaviour`, whose WHERE repeats this predicate
        # word for word so that SQLite's planner can use it).
        Index(
            "ix_schedule_lines_owed_or_late",
            "loan_id",
            "due_on",
            "paid_off_on",
            "paid_principal_fen",
            "paid_interest_fen",
            sqlite_where=text(OWED_OR_LATE),
            postgresql_where=text(OWED_OR_LATE),
        ),
        # Room for the daily penalties of overdue lines (migration 0019_room_for_daily_updates).
        {"postgresql_with": {"fillfactor": 90}},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    period: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    principal_fen: Mapped[int] = mapped_column(Fen)
    interest_fen: Mapped[int] = mapped_column(Fen)
    # The amounts when the loan was made (prepayments re-schedule the two above): a replay after a
    # reversal starts again from these, never from a schedule generated anew.
    original_principal_fen: Mapped[int] = mapped_column(Fen, default=_inserted("principal_fen"))
    original_interest_fen: Mapped[int] = mapped_column(Fen, default=_inserted("interest_fen"))
    penalty_fen: Mapped[int] = mapped_column(Fen, default=0)
    late_fee_fen: Mapped[int] = mapped_column(Fen, default=0)
    paid_principal_fen: Mapped[int] = mapped_column(Fen, default=0)
    paid_interest_fen: Mapped[int] = mapped_column(Fen, default=0)
    paid_penalty_fen: Mapped[int] = mapped_column(Fen, default=0)
    paid_late_fee_fen: Mapped[int] = mapped_column(Fen, default=0)
    waived_penalty_fen: Mapped[int] = mapped_column(Fen, default=0)
    waived_late_fee_fen: Mapped[int] = mapped_column(Fen, default=0)
    waived_interest_fen: Mapped[int] = mapped_column(Fen, default=0, server_default="0")
    paid_off_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class Repayment(Base):
    __tablename__ = "repayments"
    __table_args__ = (UniqueConstraint("channel", "external_reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    # bank_transfer, mobile_banking, wechat_pay, alipay, auto_debit, counter
    channel: Mapped[str] = mapped_column(String(16))
    external_reference: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(Fen)
    value_date: Mapped[date] = mapped_column(Date)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # regular, early_partial, early_full
    kind: Mapped[str] = mapped_column(String(16), default="regular")
    # posted, reversal_requested, reversed
    status: Mapped[str] = mapped_column(String(24), default="posted")
    # How the amount was allocated: [{"period": 3, "penalty": 120, "interest": ...}, {"credit": 50}]
    allocation: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    posted_by: Mapped[str] = mapped_column(String(64))
    reversal_reason: Mapped[str | None] = mapped_column(String(255), nullable=True)
    reversal_requested_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reversal_approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SettlementCertificate(Base):
    """结清证明: issued once a loan is fully repaid."""

    __tablename__ = "settlement_certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), unique=True)
    settled_on: Mapped[date] = mapped_column(Date)
    total_paid_fen: Mapped[int] = mapped_column(Fen)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CobRun(Base):
    """One close of business per business date; chunk progress makes it resumable."""

    __tablename__ = "cob_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_date: Mapped[date] = mapped_column(Date, unique=True)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running, done
    last_loan_id: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class CobChunk(Base):
    """A chunk of a close that is done: claimed and written in the chunk's own transaction, so
    workers closing one date in parallel never apply a chunk twice, and a crash redoes only the
    chunks it rolled back."""

    __tablename__ = "cob_chunks"

    run_id: Mapped[int] = mapped_column(ForeignKey("cob_runs.id", ondelete="CASCADE"), primary_key=True)
    low: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    high: Mapped[int] = mapped_column(Integer)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)


class BucketTransition(Base):
    """A loan moving between delinquency buckets on a business date (for roll and cure rates)."""

    __tablename__ = "bucket_transitions"
    __table_args__ = (
        UniqueConstraint("loan_id", "business_date"),
        Index("ix_bucket_transitions_date", "business_date"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    business_date: Mapped[date] = mapped_column(Date)
    from_bucket: Mapped[str] = mapped_column(String(8))
    to_bucket: Mapped[str] = mapped_column(String(8))
    days_past_due: Mapped[int] = mapped_column(Integer)


# --- the paths real books need: recoveries, refunds of credit, waivers ---------------------------


class Recovery(Base):
    """Money received on a written-off loan: kept apart from repayments, never allocated to lines."""

    __tablename__ = "recoveries"
    __table_args__ = (UniqueConstraint("channel", "external_reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_reference: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(Fen)
    value_date: Mapped[date] = mapped_column(Date)
    posted_by: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CreditRefund(Base):
    """Paying back a credit balance (溢缴款退款): requested by one person, approved by another."""

    __tablename__ = "credit_refunds"
    __table_args__ = (UniqueConstraint("loan_id", "reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    # The requester's idempotency key: the same reference on a loan is one refund.
    reference: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(Fen)
    reason: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(12), default="requested")  # requested, paid, rejected
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    note: Mapped[str | None] = mapped_column(String(255), nullable=True)


class Waiver(Base):
    """An amount of penalty, late fee or interest forgiven on a loan, with its reason and approver."""

    __tablename__ = "waivers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    component: Mapped[str] = mapped_column(String(12))  # penalty, late_fee, interest
    amount_fen: Mapped[int] = mapped_column(Fen)
    reason: Mapped[str] = mapped_column(String(255))
    # requested (waiting for a second person), applied, rejected
    status: Mapped[str] = mapped_column(String(12), default="applied")
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    applied_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Where it landed: [{"period": 3, "amount": 1200}, ...]
    allocation: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)


class ScheduleRevision(Base):
    """A restructuring (重组) of a loan's schedule: the lines before and after, kept for ever.

    The schedule lines always hold the schedule in force; every version they replaced is here
    (docs/LEDGER.md "Restructuring").
    """

    __tablename__ = "schedule_revisions"
    __table_args__ = (UniqueConstraint("loan_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, … per loan
    effective_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(24))  # extension, reinstalment, interest_suspension, …
    reference: Mapped[str] = mapped_column(String(64))  # e.g. the agreement number
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    before_lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    after_lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class RepaymentBatch(Base):
    """A file of repayments received in bulk (代扣回盘, bank statement lines), applied line by line in
    chunks: each chunk commits with its lines' results, so a run that died resumes after the last."""

    __tablename__ = "repayment_batches"
    __table_args__ = (UniqueConstraint("channel", "content_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    # The same file (same bytes) on the same channel is the same batch: importing it again resumes it.
    content_sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(10), default="running")  # running, done
    lines_total: Mapped[int] = mapped_column(Integer, default=0)
    business_date: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)


class RepaymentBatchLine(Base):
    """One line of a batch as read from the file, and what became of it."""

    __tablename__ = "repayment_batch_lines"
    __table_args__ = (
        UniqueConstraint("batch_id", "line_no"),
        Index("ix_repayment_batch_lines_pending", "batch_id", "status", "line_no"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("repayment_batches.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(80))
    contract_number: Mapped[str] = mapped_column(String(80))
    amount_text: Mapped[str] = mapped_column(String(80))
    value_date_text: Mapped[str] = mapped_column(String(80))
    # pending, applied, duplicate, refused
    status: Mapped[str] = mapped_column(String(10), default="pending")
    reason_code: Mapped[str | None] = mapped_column(String(48), nullable=True)
    reason_zh: Mapped[str | None] = mapped_column(String(255), nullable=True)
    reason_en: Mapped[str | None] = mapped_column(String(255), nullable=True)
    repayment_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
