"""Reading the reports from the summaries: a page view reads a few hundred rows, never the book."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Engine, case, func, select
from sqlalchemy.orm import Session

from lenddesk.reports import rates
from lenddesk.reports.models import (
    MonthEndPosition,
    PortfolioSummary,
    ReportMonth,
    RollSummary,
    VintageSummary,
)
from lenddesk.reports.states import months_between, months_on_book, shift_month


@dataclass(frozen=True)
class Period:
    first: str  # YYYY-MM
    last: str
    product: str | None = None

    def months(self) -> list[str]:
        return months_between(self.first, self.last)


def _known_sum(column: Any) -> ColumnElement[Any]:
    """The sum of a balance column, or NULL when any row's balance is unknown (a rebuilt month)."""
    return case((func.count(column) == func.count(), func.sum(column)))


def _roll_rows(session: Session, period: Period) -> dict[str, list[rates.RollRow]]:
    """The period's roll rows summed over products (in SQL: a page reads a few rows per month)."""
    summary = RollSummary.__table__.c
    keys = (summary.month, summary.restructured, summary.from_state, summary.to_state)
    query = (
        select(
            *keys,
            func.sum(summary.loans),
            _known_sum(summary.balance_from_fen),
            _known_sum(summary.balance_to_fen),
        )
        .where(summary.month >= period.first, summary.month <= period.last)
        .group_by(*keys)
    )
    if period.product:
        query = query.where(summary.product_code == period.product)
    by_month: dict[str, list[rates.RollRow]] = defaultdict(list)
    for month, restructured, from_state, to_state, loans, balance_from, balance_to in session.execute(query):
        by_month[month].append(
            rates.RollRow(
                from_state,
                to_state,
                int(loans),
                None if balance_from is None else int(balance_from),
                None if balance_to is None else int(balance_to),
                bool(restructured),
            )
        )
    return by_month


def _months_with_data(session: Session, period: Period) -> list[str]:
    written = set(
        session.scalars(
            select(ReportMonth.month).where(
                ReportMonth.month >= period.first, ReportMonth.month <= period.last
            )
        )
    )
    return [month for month in period.months() if month in written]


def roll_rates(session: Session, period: Period, basis: str = "count") -> list[rates.RollMatrix]:
    rows = _roll_rows(session, period)
    return [
        rates.roll_matrix(month, rows.get(month, []), basis) for month in _months_with_data(session, period)
    ]


def flow_rates(session: Session, period: Period, basis: str = "balance") -> list[dict[str, object]]:
    rows = _roll_rows(session, period)
    return [
        {"month": month, "flows": rates.flow_rates(rows.get(month, []), basis)}
        for month in _months_with_data(session, period)
    ]


def cure_rates(session: Session, period: Period) -> list[dict[str, object]]:
    rows = _roll_rows(session, period)
    return [
        {
            "month": month,
            "all": rates.cure_rate(rows.get(month, [])),
            "excluding_restructured": rates.cure_rate(rows.get(month, []), include_restructured=False),
        }
        for month in _months_with_data(session, period)
    ]


def vintage(session: Session, period: Period, basis: str = "current") -> dict[str, list[dict[str, object]]]:
    """Cohorts disbursed from `period.first` to `period.last`, at every month end written since."""
    query = (
        select(
            VintageSummary.cohort_month,
            VintageSummary.month,
            func.sum(VintageSummary.loans),
            func.sum(VintageSummary.disbursed_fen),
            *(
                func.sum(getattr(VintageSummary, f"{kind}_{measure}_fen"))
                for kind in ("current", "ever")
                for measure in rates.VINTAGE_MEASURES
            ),
        )
        .where(VintageSummary.cohort_month >= period.first, VintageSummary.cohort_month <= period.last)
        .group_by(VintageSummary.cohort_month, VintageSummary.month)
    )
    if period.product:
        query = query.where(VintageSummary.product_code == period.product)
    cells = []
    for cohort, month, loans, disbursed, *sums in session.execute(query):
        current = dict(zip(rates.VINTAGE_MEASURES, sums[:3], strict=True))
        ever = dict(zip(rates.VINTAGE_MEASURES, sums[3:], strict=True))
        if any(value is None for value in (*current.values(), *ever.values())):
            continue  # a rebuilt month: balances not replayed
        cells.append(
            rates.VintageCell(
                cohort, months_on_book(cohort, month), int(loans), int(disbursed), current, ever
            )
        )
    return rates.vintage_curves(cells, basis)


def portfolio_at_risk(session: Session, period: Period) -> list[rates.PortfolioAtRisk]:
    columns = ("outstanding_fen", "dpd1_fen", "dpd30_fen", "par30_fen", "dpd90_fen", "par90_fen")
    query = (
        select(
            PortfolioSummary.month,
            func.sum(PortfolioSummary.loans),
            *(func.sum(getattr(PortfolioSummary, column)) for column in columns),
        )
        .where(PortfolioSummary.month >= period.first, PortfolioSummary.month <= period.last)
        .group_by(PortfolioSummary.month)
        .order_by(PortfolioSummary.month)
    )
    if period.product:
        query = query.where(PortfolioSummary.product_code == period.product)
    return [
        rates.PortfolioAtRisk(month, int(loans), *(None if v is None else int(v) for v in values))
        for month, loans, *values in session.execute(query)
    ]


def loans_behind(
    session: Session, *, month: str, state: str, from_state: str | None = None, limit: int = 200
) -> list[int]:
    """Loan ids behind a figure: in `state` at the end of `month` (and `from_state` the month before)."""
    now = MonthEndPosition.__table__.alias("now")
    query = select(now.c.loan_id).where(now.c.month == month, now.c.state == state)
    if from_state is not None:
        before = MonthEndPosition.__table__.alias("before")
        query = query.join(before, before.c.loan_id == now.c.loan_id).where(
            before.c.month == shift_month(month, -1), before.c.state == from_state
        )
    return list(session.scalars(query.order_by(now.c.loan_id).limit(limit)))


def latest_month(session: Session) -> str | None:
    return session.scalar(select(func.max(ReportMonth.month)))


POSITION_COLUMNS = (
    MonthEndPosition.loan_id,
    MonthEndPosition.cohort_month,
    MonthEndPosition.product_code,
    MonthEndPosition.state,
    MonthEndPosition.days_past_due,
    MonthEndPosition.principal_fen,
    MonthEndPosition.outstanding_principal_fen,
    MonthEndPosition.overdue_fen,
    MonthEndPosition.restructured,
)


def month_end_positions(
    engine: Engine, *, month: str, product: str | None = None, chunk: int = 2_000
) -> Iterator[Sequence[object]]:
    """Every loan's month-end position, in loan order, read in chunks by key (one short read each,
    its own connection): an export of a million loans holds one chunk in memory, never the book."""
    after = -1
    while True:
        query = (
            select(*POSITION_COLUMNS)
            .where(MonthEndPosition.month == month, MonthEndPosition.loan_id > after)
            .order_by(MonthEndPosition.loan_id)
            .limit(chunk)
        )
        if product:
            query = query.where(MonthEndPosition.product_code == product)
        with engine.connect() as connection:
            rows = connection.execute(query).all()
        if not rows:
            return
        yield from (tuple(row) for row in rows)
        after = rows[-1][0]
