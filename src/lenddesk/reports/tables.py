"""Report results as plain tables — the one shape CSV, XLSX and the console's tables are made from."""

from __future__ import annotations

from collections.abc import Sequence

from lenddesk.reports.exports import Table
from lenddesk.reports.rates import VINTAGE_MEASURES, PortfolioAtRisk, Rate, RollMatrix
from lenddesk.reports.states import BUCKETS, STATES


def roll_tables(matrices: Sequence[RollMatrix]) -> list[Table]:
    """Per month: one row per (from, to) with n, numerator, denominator, rate and its interval."""
    table = Table(
        "迁徙率 roll rates",
        [
            ("月份 month", "text"),
            ("基础 basis", "text"),
            ("从 from", "text"),
            ("到 to", "text"),
            ("账户数 loans", "int"),
            ("分子 numerator", "int"),
            ("分母 denominator", "int"),
            ("比率 rate", "percent"),
            ("下限 low", "percent"),
            ("上限 high", "percent"),
        ],
    )
    for matrix in matrices:
        for from_state, row in matrix.rates.items():
            for to_state, rate in row.items():
                table.rows.append(
                    [
                        matrix.month,
                        matrix.basis,
                        from_state,
                        to_state,
                        matrix.counts[from_state][to_state],
                        rate.numerator,
                        rate.denominator,
                        rate.value,
                        rate.low,
                        rate.high,
                    ]
                )
    return [table]


def _rate_columns(prefix: str) -> list[tuple[str, str]]:
    return [
        (f"{prefix} 比率", "percent"),
        (f"{prefix} 分子", "int"),
        (f"{prefix} 分母", "int"),
        (f"{prefix} n", "int"),
    ]


def _rate_cells(rate: Rate) -> list[object]:
    return [rate.value, rate.numerator, rate.denominator, rate.n]


def flow_table(rows: Sequence[dict[str, object]]) -> list[Table]:
    table = Table(
        "迁移率 flow rates", [("月份 month", "text"), ("进入 into", "text"), *_rate_columns("迁移率")]
    )
    for row in rows:
        flows: dict[str, Rate] = row["flows"]  # type: ignore[assignment]
        for bucket in BUCKETS[1:]:
            if bucket in flows:
                table.rows.append([row["month"], bucket, *_rate_cells(flows[bucket])])
    return [table]


def cure_table(rows: Sequence[dict[str, object]]) -> list[Table]:
    table = Table(
        "回正率 cure rates",
        [("月份 month", "text"), *_rate_columns("全部 all"), *_rate_columns("不含重组 excl. restructured")],
    )
    for row in rows:
        table.rows.append(
            [row["month"], *_rate_cells(row["all"]), *_rate_cells(row["excluding_restructured"])]  # type: ignore[arg-type]
        )
    return [table]


def vintage_table(curves: dict[str, list[dict[str, object]]], basis: str) -> list[Table]:
    columns: list[tuple[str, str]] = [
        ("放款月 cohort", "text"),
        ("账龄 MOB", "int"),
        ("账户数 loans", "int"),
        ("放款本金 disbursed", "yuan"),
    ]
    for measure in VINTAGE_MEASURES:
        columns += [(f"{measure}+ ({basis})", "percent"), (f"{measure}+ 余额 balance", "yuan")]
    table = Table(f"账龄 vintage ({basis})", columns)  # type: ignore[arg-type]
    for cohort, points in curves.items():
        for point in points:
            cells: list[object] = [cohort, point["mob"], point["loans"], point["disbursed_fen"]]
            for measure in VINTAGE_MEASURES:
                cells += [point[measure], point[f"{measure}_fen"]]
            table.rows.append(cells)
    return [table]


def par_table(rows: Sequence[PortfolioAtRisk]) -> list[Table]:
    table = Table(
        "PAR 逾期率",
        [
            ("月份 month", "text"),
            ("在贷账户 loans", "int"),
            ("在贷余额 outstanding", "yuan"),
            ("DPD1+", "percent"),
            ("DPD30+ (≥30)", "percent"),
            ("PAR30 (>30)", "percent"),
            ("DPD90+ (≥90)", "percent"),
            ("PAR90 (>90)", "percent"),
        ],
    )
    for row in rows:
        body = row.as_dict()
        table.rows.append(
            [
                row.month,
                row.loans,
                row.outstanding_fen,
                body["dpd1"],
                body["dpd30_plus"],
                body["par30"],
                body["dpd90_plus"],
                body["par90"],
            ]
        )
    return [table]


def matrix_grid(matrix: RollMatrix) -> tuple[list[str], list[str], list[list[Rate | None]]]:
    """Rows (from), columns (to) and cells for a heat map; absent pairs are None."""
    rows = [state for state in STATES if state in matrix.rates]
    columns = [state for state in STATES if any(state in row for row in matrix.rates.values())]
    cells = [[matrix.rates[f].get(t) for t in columns] for f in rows]
    return rows, columns, cells
