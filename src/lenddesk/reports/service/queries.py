"""Reading the reports from the summaries: a page view reads a few hundred rows, never the book."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, func, select
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


def _roll_rows(session: Session, period: Period) -> dict[str, list[rates.RollRow]]:
    query = select(RollSummary).where(RollSummary.month >= period.first, RollSummary.month <= period.last)
    if period.product:
        query = query.where(RollSummary.product_code == period.product)
    by_month: dict[str, list[rates.RollRow]] = defaultdict(list)
    for row in session.scalars(query):
        by_month[row.month].append(
            rates.RollRow(
                row.from_state,
                row.to_state,
                row.loans,
                row.balance_from_fen,
                row.balance_to_fen,
                row.restructured,
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
