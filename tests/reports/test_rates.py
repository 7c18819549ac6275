"""Roll, flow and cure rates, intervals and vintages on hand-computed inputs (no database)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lenddesk.core.errors import Unprocessable
from lenddesk.reports.rates import (
    RollRow,
    VintageCell,
    cure_rate,
    flow_rates,
    rate,
    roll_matrix,
    vintage_curves,
    wilson,
)
from lenddesk.reports.states import (
    STATES,
    bucket_number,
    month_end,
    months_between,
    months_on_book,
    parse_month,
    report_bucket,
    report_state,
    shift_month,
)


def test_two_of_three_is_66_7_percent_with_its_counts_and_interval() -> None:
    two_of_three = rate(2, 3, 3)
    assert two_of_three.value == 0.667
    assert (two_of_three.numerator, two_of_three.denominator, two_of_three.n) == (2, 3, 3)
    assert two_of_three.low is not None and two_of_three.high is not None
    assert two_of_three.low < 0.667 < two_of_three.high


def test_an_empty_denominator_is_no_rate_not_zero() -> None:
    assert rate(0, 0, 0).value is None


def test_the_matrix_rows_are_the_loans_of_the_month_before_and_sum_to_one() -> None:
    rows = [
        RollRow("M0", "M0", 90, 9_000_00),
        RollRow("M0", "M1", 8, 800_00),
        RollRow("M0", "settled", 2, 200_00),
        RollRow("M1", "M0", 1, 50_00),
        RollRow("M1", "M2", 3, 350_00),
        RollRow("M6+", "WO", 4, 400_00),
        RollRow("settled", "settled", 50, 0),  # off the book at t−1: not in the matrix
    ]
    matrix = roll_matrix("2026-03", rows)
    assert list(matrix.counts) == ["M0", "M1", "M6+"]
    assert matrix.counts["M0"] == {"M0": 90, "M1": 8, "settled": 2}
    assert matrix.rates["M0"]["M1"].value == 0.08
    assert matrix.rates["M1"]["M2"].value == 0.75
    assert matrix.rates["M6+"]["WO"].value == 1.0
    for row in matrix.rates.values():
        assert sum(r.numerator for r in row.values()) == row[next(iter(row))].denominator

    by_balance = roll_matrix("2026-03", rows, "balance")
    assert by_balance.basis == "balance"
    assert by_balance.rates["M1"]["M0"].value == round(50_00 / 400_00, 3)
    assert by_balance.balances is not None and by_balance.balances["M1"]["M2"] == 350_00


def test_balance_basis_falls_back_to_counts_when_balances_were_not_replayed() -> None:
    rows = [RollRow("M0", "M0", 3, None), RollRow("M0", "M1", 1, None)]
    matrix = roll_matrix("2025-11", rows, "balance")
    assert matrix.basis == "count"
    assert "balances" not in matrix.as_dict()
    assert matrix.rates["M0"]["M1"].value == 0.25


def test_flow_rate_is_balance_entering_over_the_bucket_before() -> None:
    rows = [
        RollRow("M0", "M0", 95, 95_000, 90_000),
        RollRow("M0", "M1", 5, 5_000, 5_100),
        RollRow("M1", "M2", 2, 2_000, 2_050),
        RollRow("M1", "M0", 3, 3_000, 2_500),
    ]
    flows = flow_rates(rows)
    assert flows["M1"].value == round(5_100 / 100_000, 3)
    assert flows["M2"].value == round(2_050 / 5_000, 3)
    assert flows["M3"].value is None  # nothing was in M2
    counts = flow_rates(rows, "count")
    assert counts["M2"].value == 0.4


def test_cure_rate_with_and_without_restructured_loans() -> None:
    rows = [
        RollRow("M1", "M0", 2, 0),
        RollRow("M1", "M0", 1, 0, restructured=True),
        RollRow("M2", "M3", 1, 0),
        RollRow("M0", "M0", 10, 0),
    ]
    assert cure_rate(rows).value == 0.75
    assert cure_rate(rows, include_restructured=False).value == 0.667


def test_wilson_interval_contains_the_share_and_narrows_with_n() -> None:
    low_small, high_small = wilson(0.5, 10)
    low_big, high_big = wilson(0.5, 1000)
    assert low_small < low_big < 0.5 < high_big < high_small


@given(st.integers(0, 500), st.integers(1, 500))
def test_wilson_bounds_stay_in_zero_to_one(hits: int, n: int) -> None:
    hits = min(hits, n)
    low, high = wilson(hits / n, n)
    assert 0.0 <= low <= hits / n <= high <= 1.0


def test_buckets_compare_by_number_not_as_text() -> None:
    assert bucket_number("M10") > bucket_number("M2")
    assert report_bucket("M10") == "M6+"
    assert report_bucket("M7+") == "M6+"
    assert report_state("written_off", "WO") == "WO"
    assert report_state("settled", "M0") == "settled"
    assert STATES.index("M2") < STATES.index("M6+") < STATES.index("settled")


def test_vintage_divides_by_principal_disbursed() -> None:
    cells = [
        VintageCell("2026-01", 1, 10, 100_000, {"dpd1": 5_000, "dpd30": 0, "dpd90": 0}, {"dpd1": 6_000}),
        VintageCell("2026-01", 2, 10, 100_000, {"dpd1": 3_000, "dpd30": 2_000, "dpd90": 0}, {"dpd1": 7_000}),
    ]
    curves = vintage_curves(cells)
    assert [point["mob"] for point in curves["2026-01"]] == [1, 2]
    assert curves["2026-01"][1]["dpd30"] == 0.02
    assert vintage_curves(cells, "ever")["2026-01"][1]["dpd1"] == 0.07


def test_months() -> None:
    assert parse_month("2026-05") == "2026-05"
    assert parse_month("2026-05-31") == "2026-05"
    for bad in ("2026-13", "26-05", "２０２６-05", "9999-01", "2026-5", "\ud800"):
        with pytest.raises(Unprocessable):
            parse_month(bad)
    assert month_end("2024-02").day == 29
    assert shift_month("2026-01", -1) == "2025-12"
    assert months_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert months_on_book("2025-11", "2026-02") == 3
