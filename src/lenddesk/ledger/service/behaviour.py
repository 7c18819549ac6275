"""Set-based statements over the ledger's tables that other rooms' batch jobs use (the risk room's
early-warning score and its backtest), so that no other room names the ledger's tables.

Days are compared as day numbers (days since 2000-01-01) so that SQLite and PostgreSQL agree; the
dates a caller passes are turned into day numbers in Python.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Connection, Integer, Select, and_, bindparam, case, func, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from lenddesk.ledger.models import Borrower, Loan, ScheduleLine

EPOCH = date(2000, 1, 1)


class day_number(FunctionElement[int]):
    """Days from 2000-01-01 to a DATE column, on either database."""

    type = Integer()
    inherit_cache = True


@compiles(day_number, "sqlite")
def _day_number_sqlite(element: day_number, compiler: object, **kw: object) -> str:
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 2451544.5 AS INTEGER)"  # type: ignore[attr-defined]


@compiles(day_number, "postgresql")
def _day_number_postgresql(element: day_number, compiler: object, **kw: object) -> str:
    return f"({compiler.process(element.clauses, **kw)} - DATE '2000-01-01')"  # type: ignore[attr-defined]


def days_since_epoch(day: date) -> int:
    return (day - EPOCH).days


def borrower_id_range(connection: Connection | Session) -> tuple[int, int]:
    """The smallest and largest borrower id (0, 0 for an empty ledger): the span batch jobs chunk."""
    low, high = connection.execute(select(func.min(Borrower.id), func.max(Borrower.id))).one()
    return int(low or 0), int(high or 0)


def repayment_behaviour(*, as_of: date, lookback_days: int, first_id: int, last_id: int) -> Select:
    """Per borrower in [first_id, last_id], as of the close of `as_of`, over the `lookback_days` before:

    - worst_dpd: the most days past due any instalment reached (an instalment paid on day P was last
      unpaid at the close of P − 1; one not paid by `as_of` is still unpaid then);
    - late_instalments: instalments due in the lookback that reached 1 day past due or more;
    - partial_payments: instalments past due and unpaid at `as_of` that carry a part payment.

    Only instalments due before `as_of` and not paid before the lookback are read.
    """
    today = days_since_epoch(as_of)
    since = today - lookback_days
    line = ScheduleLine
    paid_day = day_number(line.paid_off_on)
    due_day = day_number(line.due_on)
    unpaid_at_close = or_(line.paid_off_on.is_(None), line.paid_off_on > as_of)
    last_unpaid = case((unpaid_at_close, literal(today)), else_=paid_day - 1)
    dpd = case((last_unpaid >= since, last_unpaid - due_day), else_=0)
    late = case(
        (and_(line.due_on >= as_of - timedelta(days=lookback_days), last_unpaid > due_day), 1), else_=0
    )
    partial = case((and_(unpaid_at_close, line.paid_principal_fen + line.paid_interest_fen > 0), 1), else_=0)
    return (
        select(
            Loan.borrower_id.label("borrower_id"),
            func.max(case((dpd > 0, dpd), else_=0)).label("worst_dpd"),
            func.sum(late).label("late_instalments"),
            func.sum(partial).label("partial_payments"),
        )
        .select_from(line)
        .join(Loan, Loan.id == line.loan_id)
        .where(
            Loan.borrower_id.between(first_id, last_id),
            line.due_on < as_of,
            or_(line.paid_off_on.is_(None), line.paid_off_on > as_of - timedelta(days=lookback_days)),
            # A line paid on or before its due date adds to no figure: it never was past due.
            or_(line.paid_off_on.is_(None), line.paid_off_on > line.due_on),
        )
        .group_by(Loan.borrower_id)
    )


def borrower_ids_between(first_id: int, last_id: int) -> Select:
    """The ids of the borrowers in [first_id, last_id] (another room's per-borrower rows by range)."""
    return select(Borrower.id).where(Borrower.id.between(first_id, last_id))


def borrower_identities(*, first_id: int, last_id: int) -> Select:
    """(borrower_id, id_number, mobile) of the borrowers in [first_id, last_id]: for keyed hashes
    only (the risk room's blacklist keys); never shown or stored in clear by the caller."""
    return (
        select(Borrower.id.label("borrower_id"), Borrower.id_number, Borrower.mobile)
        .where(Borrower.id.between(first_id, last_id))
        .order_by(Borrower.id)
    )


# Built once: the risk room's event intake (a hot path) reads it for every event.
_IDENTITY = select(Borrower.__table__.c.id_number, Borrower.__table__.c.mobile).where(
    Borrower.__table__.c.id == bindparam("borrower_id")
)


def borrower_identity(session: Session, borrower_id: int) -> tuple[str, str] | None:
    """(id_number, mobile) of one borrower, or None when there is none (for keyed hashes and the
    home province of the ID number)."""
    row = session.execute(_IDENTITY, {"borrower_id": borrower_id}).first()
    return (row.id_number, row.mobile) if row is not None else None


def loans_reaching_overdue(*, as_of: date, days: int) -> Select:
    """Loans active and not past due at the close of `as_of` (disbursed by then, every instalment
    due before it paid by then), with `reached` = 1 when an instalment falling due in the next
    `days` days was not paid on its due date, i.e. the loan reached M1 (1+ days past due) by
    `as_of + days`. For backtests of early-warning scores."""
    line = ScheduleLine
    horizon = as_of + timedelta(days=days)
    overdue_at_as_of = (
        select(line.loan_id)
        .where(
            line.loan_id == Loan.id,
            line.due_on < as_of,
            or_(line.paid_off_on.is_(None), line.paid_off_on > as_of),
        )
        .exists()
    )
    reaches = (
        select(line.loan_id)
        .where(
            line.loan_id == Loan.id,
            line.due_on >= as_of,
            line.due_on < horizon,
            or_(line.paid_off_on.is_(None), line.paid_off_on > line.due_on),
        )
        .exists()
    )
    return select(
        Loan.id.label("loan_id"),
        Loan.borrower_id.label("borrower_id"),
        case((reaches, 1), else_=0).label("reached"),
    ).where(
        Loan.disbursed_on <= as_of,
        or_(Loan.settled_on.is_(None), Loan.settled_on > as_of),
        or_(Loan.written_off_on.is_(None), Loan.written_off_on > as_of),
        ~overdue_at_as_of,
    )
