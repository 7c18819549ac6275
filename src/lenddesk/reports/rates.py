"""Roll, flow and cure rates, vintages and PAR from month-end summaries — pure (docs/REPORTS.md).

Every rate carries its numerator, denominator, n (loans behind the denominator) and a 95 % Wilson
interval. On the balance basis the interval is the Wilson interval of the balance share with n
loans: an approximation that widens with fewer loans, as a reader expects. Rates are rounded to
0.1 percentage point (0.667 for 2 of 3) once, here, so JSON, CSV and XLSX show the same figure.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lenddesk.reports.states import BUCKETS, CLOSED_STATES, STATES, state_rank

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int
    n: int
    value: float | None
    low: float | None
    high: float | None

    def as_dict(self) -> dict[str, object]:
        return {
            "rate": self.value,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "n": self.n,
            "low": self.low,
            "high": self.high,
        }


def rounded_share(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else round(numerator / denominator, 3)


def wilson(share: float, n: int) -> tuple[float, float]:
    """The 95 % Wilson score interval of a share observed on n units."""
    if n == 0:
        return (0.0, 1.0)
    z2 = Z_95 * Z_95
    centre = (share + z2 / (2 * n)) / (1 + z2 / n)
    spread = Z_95 * math.sqrt(share * (1 - share) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # Clamped to the share itself as well: the interval contains it, floating point aside.
    return (max(0.0, min(centre - spread, share)), min(1.0, max(centre + spread, share)))


def rate(numerator: int, denominator: int, n: int) -> Rate:
    if denominator == 0:
        return Rate(numerator, denominator, n, None, None, None)
    low, high = wilson(numerator / denominator, n)
    return Rate(
        numerator, denominator, n, rounded_share(numerator, denominator), round(low, 3), round(high, 3)
    )


# -- roll rates ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RollRow:
    """Loans that were `from_state` at the end of t−1 and `to_state` at the end of t."""

    from_state: str
    to_state: str
    loans: int
    balance_from_fen: int | None  # outstanding principal at the end of t−1 (None: not replayed)
    balance_to_fen: int | None = None  # outstanding principal at the end of t
    restructured: bool = False


@dataclass(frozen=True)
class RollMatrix:
    month: str
    basis: str
    counts: dict[str, dict[str, int]]
    balances: dict[str, dict[str, int]] | None
    rates: dict[str, dict[str, Rate]]

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {
            "month": self.month,
            "counts": self.counts,
            "rates": {f: {t: r.value for t, r in row.items()} for f, row in self.rates.items()},
            "intervals": {f: {t: r.as_dict() for t, r in row.items()} for f, row in self.rates.items()},
        }
        if self.basis == "balance":
            body["balances"] = self.balances
        return body


def _ordered(states: Iterable[str]) -> list[str]:
    return sorted(set(states), key=state_rank)


def roll_matrix(month: str, rows: Sequence[RollRow], basis: str = "count") -> RollMatrix:
    """The month's matrix: each row (from) sums to 100 %; balance basis when every row has balances."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    balances: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    balances_known = all(row.balance_from_fen is not None for row in rows)
    for row in rows:
        if row.from_state in CLOSED_STATES:
            continue
        counts[row.from_state][row.to_state] += row.loans
        balances[row.from_state][row.to_state] += row.balance_from_fen or 0
    use_balance = basis == "balance" and balances_known
    rates: dict[str, dict[str, Rate]] = {}
    for from_state in _ordered(counts):
        row_loans = sum(counts[from_state].values())
        weights = balances[from_state] if use_balance else counts[from_state]
        total = sum(weights.values())
        rates[from_state] = {
            to_state: rate(weights[to_state], total, row_loans) for to_state in _ordered(counts[from_state])
        }
    ordered_counts = {f: {t: counts[f][t] for t in _ordered(counts[f])} for f in _ordered(counts)}
    ordered_balances = (
        {f: {t: balances[f][t] for t in _ordered(balances[f])} for f in _ordered(balances)}
        if use_balance
        else None
    )
    return RollMatrix(month, "balance" if use_balance else "count", ordered_counts, ordered_balances, rates)


# -- flow and cure -------------------------------------------------------------------------------


def flow_rates(rows: Sequence[RollRow], basis: str = "balance") -> dict[str, Rate]:
    """迁移率 per bucket M1…M6+: what entered M(n) in t from M(n−1) ÷ M(n−1) at the end of t−1.

    Balance basis: the entering loans' balance at the end of t over the M(n−1) balance at the end
    of t−1 (the classic flow rate). Count basis: loans over loans.
    """
    flows: dict[str, Rate] = {}
    for previous, bucket in itertools.pairwise(BUCKETS):
        source = [row for row in rows if row.from_state == previous]
        entering = [row for row in source if row.to_state == bucket]
        loans = sum(row.loans for row in source)
        if basis == "balance":
            if any(row.balance_from_fen is None or row.balance_to_fen is None for row in source):
                flows[bucket] = Rate(0, 0, loans, None, None, None)
                continue
            numerator = sum(row.balance_to_fen or 0 for row in entering)
            denominator = sum(row.balance_from_fen or 0 for row in source)
        else:
            numerator, denominator = sum(row.loans for row in entering), loans
        flows[bucket] = rate(numerator, denominator, loans)
    return flows


def cure_rate(rows: Sequence[RollRow], *, include_restructured: bool = True) -> Rate:
    """Share of loans in M1+ at the end of t−1 that are M0 at the end of t (count basis)."""
    delinquent = [
        row
        for row in rows
        if row.from_state in BUCKETS[1:] and (include_restructured or not row.restructured)
    ]
    cured = sum(row.loans for row in delinquent if row.to_state == "M0")
    loans = sum(row.loans for row in delinquent)
    return rate(cured, loans, loans)


# -- vintage and PAR -----------------------------------------------------------------------------

VINTAGE_MEASURES = ("dpd1", "dpd30", "dpd90")


@dataclass(frozen=True)
class VintageCell:
    cohort: str
    mob: int
    loans: int
    disbursed_fen: int
    current_fen: dict[str, int]  # dpd1, dpd30, dpd90: balance now in that band or worse
    ever_fen: dict[str, int]  # the balance at the month end each loan first reached the band


def vintage_curves(
    cells: Sequence[VintageCell], basis: str = "current"
) -> dict[str, list[dict[str, object]]]:
    """Per cohort, per MOB: each measure's balance ÷ principal disbursed (written off stays in 90+)."""
    curves: dict[str, list[dict[str, object]]] = defaultdict(list)
    for cell in sorted(cells, key=lambda c: (c.cohort, c.mob)):
        source = cell.current_fen if basis == "current" else cell.ever_fen
        point: dict[str, object] = {"mob": cell.mob, "loans": cell.loans, "disbursed_fen": cell.disbursed_fen}
        for measure in VINTAGE_MEASURES:
            point[measure] = rounded_share(source.get(measure, 0), cell.disbursed_fen)
            point[f"{measure}_fen"] = source.get(measure, 0)
        curves[cell.cohort].append(point)
    return dict(curves)


@dataclass(frozen=True)
class PortfolioAtRisk:
    """One month end: outstanding principal of active loans and the parts past each line.

    PAR30 counts loans more than 30 days past due (> 30); DPD30+ those at 30 days or more (≥ 30).
    """

    month: str
    loans: int
    outstanding_fen: int | None
    dpd1_fen: int | None
    dpd30_fen: int | None
    par30_fen: int | None
    dpd90_fen: int | None
    par90_fen: int | None

    def as_dict(self) -> dict[str, object]:
        def share(part: int | None) -> float | None:
            if part is None or not self.outstanding_fen:
                return None
            return rounded_share(part, self.outstanding_fen)

        return {
            "month": self.month,
            "loans": self.loans,
            "outstanding_fen": self.outstanding_fen,
            "dpd1": share(self.dpd1_fen),
            "dpd30_plus": share(self.dpd30_fen),
            "par30": share(self.par30_fen),
            "dpd90_plus": share(self.dpd90_fen),
            "par90": share(self.par90_fen),
            "dpd1_fen": self.dpd1_fen,
            "dpd30_plus_fen": self.dpd30_fen,
            "par30_fen": self.par30_fen,
            "dpd90_plus_fen": self.dpd90_fen,
            "par90_fen": self.par90_fen,
        }


__all__ = [
    "STATES",
    "PortfolioAtRisk",
    "Rate",
    "RollMatrix",
    "RollRow",
    "VintageCell",
    "cure_rate",
    "flow_rates",
    "rate",
    "roll_matrix",
    "rounded_share",
    "vintage_curves",
    "wilson",
]
