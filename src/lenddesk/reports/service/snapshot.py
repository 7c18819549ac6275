"""Writing the month-end snapshot and the summaries derived from it (one transaction a month).

`write_month` is idempotent: it replaces the month's rows. The close writes a month from the live
book on its last calendar day; `rebuild` writes past months from the bucket history, count basis
exact and balances marked unavailable. Writing a month also refreshes the next month's roll rows
(they compare the two), so months may be rewritten in any order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    String,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.sql import ColumnElement

from lenddesk.ledger.service.positions import SETTLED, historic_positions, live_positions
from lenddesk.reports.models import (
    MonthEndPosition,
    PortfolioSummary,
    ReportMonth,
    RollSummary,
    VintageSummary,
)
from lenddesk.reports.states import BUCKETS, WRITTEN_OFF, month_end, month_of, shift_month

_snapshot = MonthEndPosition.__table__
_NO_BALANCE = cast(null(), BigInteger)  # typed, so PostgreSQL inserts it into a bigint column
_ACTIVE_BUCKETS = BUCKETS[:-1]


@dataclass(frozen=True)
class MonthWritten:
    month: str
    source: str
    loans: int
    roll_rows: int


def _state(status: ColumnElement, bucket: ColumnElement) -> ColumnElement:
    return case(
        (status == SETTLED, literal("settled")),
        (or_(status == "written_off", bucket == WRITTEN_OFF), literal(WRITTEN_OFF)),
        (bucket.in_(_ACTIVE_BUCKETS), bucket),
        else_=literal(BUCKETS[-1]),
    )


def _reached(state: ColumnElement, days: ColumnElement, threshold: int) -> ColumnElement:
    """True when the loan is `threshold`+ days past due, written off counting as past every line."""
    return or_(state == WRITTEN_OFF, days >= threshold)


def _insert_positions(connection: Connection, month: str, live: bool) -> None:
    as_of = month_end(month)
    positions = (live_positions(as_of) if live else historic_positions(as_of)).subquery("p")
    previous = _snapshot.alias("previous")
    state = _state(positions.c.status, positions.c.bucket)
    columns = {
        "month": literal(month),
        "loan_id": positions.c.loan_id,
        "state": state,
        "days_past_due": positions.c.days_past_due,
        "outstanding_principal_fen": positions.c.outstanding_principal_fen,
        "overdue_fen": positions.c.overdue_fen,
        "principal_fen": positions.c.principal_fen,
        "cohort_month": func.substr(cast(positions.c.disbursed_on, String), 1, 7),
        "product_code": positions.c.product_code,
        "restructured": positions.c.restructured,
    }
    for threshold in (1, 30, 90):
        name = f"ever_dpd{threshold}_fen"
        now = (
            case(
                (_reached(state, positions.c.days_past_due, threshold), positions.c.outstanding_principal_fen)
            )
            if live
            else _NO_BALANCE
        )
        columns[name] = func.coalesce(previous.c[name], now)
    query = select(*(value.label(name) for name, value in columns.items())).outerjoin(
        previous,
        and_(previous.c.month == shift_month(month, -1), previous.c.loan_id == positions.c.loan_id),
    )
    connection.execute(insert(_snapshot).from_select(list(columns), query))


def _insert_rolls(connection: Connection, month: str) -> int:
    """Loans on the book at the end of t−1 (neither settled nor written off), from state → to state."""
    before, after = _snapshot.alias("before"), _snapshot.alias("after")
    query = (
        select(
            literal(month).label("month"),
            after.c.product_code,
            after.c.restructured,
            before.c.state.label("from_state"),
            after.c.state.label("to_state"),
            cast(func.count(), Integer).label("loans"),
            func.sum(before.c.outstanding_principal_fen).label("balance_from_fen"),
            func.sum(after.c.outstanding_principal_fen).label("balance_to_fen"),
        )
        .join(after, and_(after.c.loan_id == before.c.loan_id, after.c.month == month))
        .where(before.c.month == shift_month(month, -1), before.c.state.in_(BUCKETS))
        .group_by(after.c.product_code, after.c.restructured, before.c.state, after.c.state)
    )
    columns = [
        "month",
        "product_code",
        "restructured",
        "from_state",
        "to_state",
        "loans",
        "balance_from_fen",
        "balance_to_fen",
    ]
    connection.execute(delete(RollSummary).where(RollSummary.month == month))
    return connection.execute(insert(RollSummary).from_select(columns, query)).rowcount


def _sum_when(condition: ColumnElement) -> ColumnElement:
    return func.sum(case((condition, _snapshot.c.outstanding_principal_fen), else_=0))


VINTAGE_COLUMNS = (
    "loans",
    "disbursed_fen",
    *(f"{kind}_dpd{t}_fen" for t in (1, 30, 90) for kind in ("current", "ever")),
)
PORTFOLIO_COLUMNS = (
    "loans",
    "outstanding_fen",
    "dpd1_fen",
    "dpd30_fen",
    "par30_fen",
    "dpd90_fen",
    "par90_fen",
)


def _cohort_measures() -> dict[str, ColumnElement]:
    """What the vintage and the portfolio summaries need, per cohort and product, in one scan of the
    month: the vintage keeps the cohorts, the portfolio adds its active loans up per product."""
    s = _snapshot.c
    active = s.state.in_(BUCKETS)
    measures: dict[str, ColumnElement] = {
        "loans": cast(func.count(), Integer),
        "disbursed_fen": func.sum(s.principal_fen),
    }
    for threshold in (1, 30, 90):
        measures[f"current_dpd{threshold}_fen"] = _sum_when(_reached(s.state, s.days_past_due, threshold))
        measures[f"ever_dpd{threshold}_fen"] = func.sum(s[f"ever_dpd{threshold}_fen"])
    portfolio = {
        "loans": cast(func.sum(case((active, 1), else_=0)), Integer),
        "outstanding_fen": _sum_when(active),
        "dpd1_fen": _sum_when(and_(active, s.days_past_due >= 1)),
        "dpd30_fen": _sum_when(and_(active, s.days_past_due >= 30)),
        "par30_fen": _sum_when(and_(active, s.days_past_due > 30)),
        "dpd90_fen": _sum_when(and_(active, s.days_past_due >= 90)),
        "par90_fen": _sum_when(and_(active, s.days_past_due > 90)),
    }
    measures.update({f"portfolio_{name}": value for name, value in portfolio.items()})
    return measures


def _integer(value: object) -> int | None:
    """A sum as an int (PostgreSQL sums bigints as numeric), NULL kept."""
    return None if value is None else int(value)  # type: ignore[call-overload]


def _insert_vintages_and_portfolio(connection: Connection, month: str, balances: bool) -> int:
    """The month's vintage rows (cohort × product) and portfolio rows (product, active loans only);
    balances are NULL for a month rebuilt from the bucket history. Returns the month's loans."""
    s = _snapshot.c
    measures = _cohort_measures()
    query = (
        select(s.cohort_month, s.product_code, *(value.label(name) for name, value in measures.items()))
        .where(s.month == month)
        .group_by(s.cohort_month, s.product_code)
    )
    vintages, portfolio = [], {}
    for row in connection.execute(query).mappings():
        vintage = {"cohort_month": row["cohort_month"], "month": month, "product_code": row["product_code"]}
        vintage.update({name: _integer(row[name]) for name in VINTAGE_COLUMNS})
        vintages.append(vintage)
        totals = portfolio.setdefault(row["product_code"], dict.fromkeys(PORTFOLIO_COLUMNS, 0))
        for name in PORTFOLIO_COLUMNS:
            totals[name] += _integer(row[f"portfolio_{name}"]) or 0
    if not balances:  # counts only: the bucket history replays no balance
        for row in (*vintages, *portfolio.values()):
            row.update({name: None for name in row if name.endswith("_fen") and name != "disbursed_fen"})
    if vintages:
        connection.execute(insert(VintageSummary), vintages)
    active = [
        {"month": month, "product_code": code, **totals}
        for code, totals in portfolio.items()
        if totals["loans"]
    ]
    if active:
        connection.execute(insert(PortfolioSummary), active)
    return sum(row["loans"] for row in vintages)


def _clear(connection: Connection, month: str) -> None:
    for table, column in (
        (MonthEndPosition, MonthEndPosition.month),
        (VintageSummary, VintageSummary.month),
        (PortfolioSummary, PortfolioSummary.month),
        (RollSummary, RollSummary.month),
        (ReportMonth, ReportMonth.month),
    ):
        connection.execute(delete(table).where(column == month))


def write_month(connection: Connection, month: str, *, live: bool) -> MonthWritten:
    """Replace `month`'s snapshot and summaries, in the caller's transaction.

    `live`: from the loans as the close of the month's last day leaves them (balances known);
    otherwise from the bucket history (count basis only).
    """
    if connection.dialect.name == "postgresql":
        # The month's read joins a million loans to last month's rows and their overdue lines: with
        # the default 4 MB each hash spills to disk in 16 batches. For this transaction only.
        connection.exec_driver_sql("SET LOCAL work_mem = '128MB'")
    _clear(connection, month)
    _insert_positions(connection, month, live)
    if connection.dialect.name == "postgresql":
        # The roll summary joins this month's rows to last month's. Without fresh statistics for
        # the rows just written, PostgreSQL plans that join for an empty table: 6 minutes for one
        # month at 800 k loans instead of seconds (bench/reports.py).
        connection.exec_driver_sql("ANALYZE reports_month_end")
    rolls = _insert_rolls(connection, month)
    loans = _insert_vintages_and_portfolio(connection, month, live)
    source = "close" if live else "rebuild"
    connection.execute(
        insert(ReportMonth).values(month=month, source=source, balances_available=live, loans=loans)
    )
    following = shift_month(month, 1)
    if connection.scalar(select(ReportMonth.month).where(ReportMonth.month == following)) is not None:
        _insert_rolls(connection, following)
    return MonthWritten(month, source, loans, rolls)


def written_months(connection: Connection) -> list[str]:
    return list(connection.scalars(select(ReportMonth.month).order_by(ReportMonth.month)))


def months_to_rebuild(first: str, last_closed: date | None) -> list[str]:
    """Every month from `first` through the last month whose final day has been closed."""
    if last_closed is None:
        return []
    last = (
        month_of(last_closed)
        if last_closed == month_end(month_of(last_closed))
        else shift_month(month_of(last_closed), -1)
    )
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = shift_month(month, 1)
    return months
