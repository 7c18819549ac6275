"""Loan positions as statements other rooms build on: the month-end snapshot reads the book here.

The ledger owns loans, schedule lines, products, revisions and bucket history, so the statements
that read them live here; the reports room inserts their rows into its own tables. Each statement
is one set-based SELECT, linear in the loans it returns.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Integer, Select, and_, case, cast, exists, func, literal, null, or_, select
from sqlalchemy.orm import Session

from lenddesk.ledger.models import (
    Borrower,
    BucketTransition,
    Loan,
    Product,
    ScheduleLine,
    ScheduleRevision,
)
from lenddesk.ledger.owed import COLUMNS, COMPONENTS

SETTLED = "settled"
WRITTEN_OFF = "written_off"


def _owed_expression() -> object:
    """What one schedule line still owes, in SQL: per component charged − paid − waived, never below 0."""
    total = None
    for component in COMPONENTS:
        charged, paid, waived = COLUMNS[component]
        owed = getattr(ScheduleLine, charged) - getattr(ScheduleLine, paid)
        if waived:
            owed = owed - getattr(ScheduleLine, waived)
        part = case((owed > 0, owed), else_=0)
        total = part if total is None else total + part
    return total


def _restructured_by(as_of: date) -> object:
    return exists().where(ScheduleRevision.loan_id == Loan.id, ScheduleRevision.effective_on <= as_of)


def live_positions(as_of: date) -> Select:
    """Every loan disbursed on or before `as_of`, as the close of `as_of` leaves it.

    Columns: loan_id, status, bucket, days_past_due, outstanding_principal_fen, overdue_fen (what
    instalments due before `as_of` still owe), principal_fen, disbursed_on, settled_on,
    written_off_on, product_code, restructured. Exact only when run right after that close: it
    reads the loans' current state.
    """
    # What the loan's instalments due before `as_of` still owe, read only for the loans with one
    # unpaid (a tenth of a book): one short index range each, never the book's past lines. A line
    # paid on or before its due date owes nothing, so the partial index of the others serves.
    owed_before = (
        select(func.sum(_owed_expression()))
        .where(
            ScheduleLine.loan_id == Loan.id,
            ScheduleLine.due_on < as_of,
            or_(ScheduleLine.paid_off_on.is_(None), ScheduleLine.paid_off_on > ScheduleLine.due_on),
        )
        .scalar_subquery()
    )
    overdue_fen = case((Loan.oldest_unpaid_due_on < as_of, func.coalesce(owed_before, 0)), else_=0)
    return (
        select(
            Loan.id.label("loan_id"),
            Loan.status,
            Loan.bucket,
            Loan.days_past_due,
            Loan.outstanding_principal_fen,
            overdue_fen.label("overdue_fen"),
            Loan.principal_fen,
            Loan.disbursed_on,
            Loan.settled_on,
            Loan.written_off_on,
            Product.code.label("product_code"),
            _restructured_by(as_of).label("restructured"),
        )
        .join(Product, Product.id == Loan.product_id)
        .where(Loan.disbursed_on <= as_of)
    )


def historic_positions(as_of: date) -> Select:
    """Every loan disbursed on or before `as_of`, as the bucket history says it stood at that close.

    The bucket is the `to_bucket` of the loan's last transition on or before `as_of` (M0 if it never
    left); settled and written off come from the loan's dates. Balances and days past due are not
    replayed here: those columns are NULL. Columns as in `live_positions`.
    """
    ranked = (
        select(
            BucketTransition.loan_id,
            BucketTransition.to_bucket,
            func.row_number()
            .over(partition_by=BucketTransition.loan_id, order_by=BucketTransition.business_date.desc())
            .label("newest"),
        )
        .where(BucketTransition.business_date <= as_of)
        .subquery("ranked")
    )
    last = select(ranked.c.loan_id, ranked.c.to_bucket).where(ranked.c.newest == 1).subquery("last")
    status = case(
        (and_(Loan.settled_on.is_not(None), Loan.settled_on <= as_of), literal(SETTLED)),
        (and_(Loan.written_off_on.is_not(None), Loan.written_off_on <= as_of), literal(WRITTEN_OFF)),
        else_=literal("active"),
    )
    return (
        select(
            Loan.id.label("loan_id"),
            status.label("status"),
            func.coalesce(last.c.to_bucket, literal("M0")).label("bucket"),
            cast(null(), Integer).label("days_past_due"),
            cast(null(), BigInteger).label("outstanding_principal_fen"),
            cast(null(), BigInteger).label("overdue_fen"),
            Loan.principal_fen,
            Loan.disbursed_on,
            Loan.settled_on,
            Loan.written_off_on,
            Product.code.label("product_code"),
            _restructured_by(as_of).label("restructured"),
        )
        .join(Product, Product.id == Loan.product_id)
        .outerjoin(last, last.c.loan_id == Loan.id)
        .where(Loan.disbursed_on <= as_of)
    )


def first_disbursement(session: Session) -> date | None:
    """The earliest disbursement date on the book (where a rebuild can start)."""
    return session.scalar(select(func.min(Loan.disbursed_on)))


def loan_labels(session: Session, loan_ids: list[int]) -> list[dict[str, object]]:
    """Contract number, borrower name, bucket and days past due of these loans (for drill-downs)."""
    if not loan_ids:
        return []
    rows = session.execute(
        select(Loan.id, Loan.contract_number, Borrower.name, Loan.bucket, Loan.days_past_due, Loan.status)
        .join(Borrower, Borrower.id == Loan.borrower_id)
        .where(Loan.id.in_(loan_ids))
        .order_by(Loan.id)
    ).all()
    return [row._asdict() for row in rows]


__all__ = [
    "SETTLED",
    "WRITTEN_OFF",
    "first_disbursement",
    "historic_positions",
    "live_positions",
    "loan_labels",
]
