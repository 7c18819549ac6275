"""Repayment schedules: calendar rules, rounding, invariants, and numpy-financial as an oracle."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import numpy_financial as npf
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lenddesk.core.errors import Unprocessable
from lenddesk.ledger.schedule import (
    Method,
    add_months,
    annuity_payment_fen,
    due_dates,
    generate_schedule,
)

JAN_31 = date(2026, 1, 31)


def schedule(method: str = "equal_instalment", **overrides):  # type: ignore[no-untyped-def]
    arguments = {
        "principal_fen": 1_000_000,
        "annual_rate": Decimal("0.18"),
        "term": 12,
        "method": method,
        "start_date": date(2026, 1, 15),
        "rounding": "half_up",
    }
    return generate_schedule(**{**arguments, **overrides})


# --- due dates --------------------------------------------------------------------------------


def test_due_dates_keep_the_day_of_month_and_clamp_at_month_end() -> None:
    dates = due_dates(date(2025, 12, 31), 4)
    assert dates == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]


def test_leap_february_clamps_to_the_29th_and_march_returns_to_the_31st() -> None:
    assert due_dates(date(2027, 12, 31), 3) == [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31)]


def test_due_dates_anchored_on_a_first_due_date() -> None:
    assert due_dates(date(2026, 1, 10), 3, first_due_on=JAN_31) == [
        JAN_31,
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]


def test_add_months_crosses_the_year() -> None:
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


# --- amounts ----------------------------------------------------------------------------------


def test_equal_instalment_is_level_with_the_residue_in_the_last_instalment() -> None:
    lines = schedule()
    payment = annuity_payment_fen(1_000_000, Decimal("0.18"), 12, "half_up")
    assert payment == 91_680  # 10,000.00 at 18% over 12 months: 916.80 a month
    assert {line.total_fen for line in lines[:-1]} == {payment}
    assert lines[0].interest_fen == 15_000  # 10,000.00 × 1.5%
    assert sum(line.principal_fen for line in lines) == 1_000_000
    assert lines[-1].principal_fen == lines[-2].remaining_fen
    assert lines[-1].remaining_fen == 0


def test_equal_principal_repays_the_same_principal_with_the_residue_last() -> None:
    lines = schedule("equal_principal", principal_fen=1_000_001, term=3)
    # 10,000.01 / 3 = 3,333.336… rounded half-up (the system rule), the residue last.
    assert [line.principal_fen for line in lines] == [333_334, 333_334, 333_333]
    # Interest is the monthly rate on what is still owed before each instalment.
    assert [line.interest_fen for line in lines] == [15_000, 10_000, 5_000]


def test_interest_first_repays_principal_in_the_last_instalment() -> None:
    lines = schedule("interest_first", term=3)
    assert [(line.principal_fen, line.interest_fen) for line in lines] == [
        (0, 15_000),
        (0, 15_000),
        (1_000_000, 15_000),
    ]


def test_bullet_is_one_instalment_with_interest_for_the_whole_term() -> None:
    (line,) = schedule("bullet", term=6)
    assert line.due_on == date(2026, 7, 15)
    assert (line.principal_fen, line.interest_fen) == (1_000_000, 90_000)


def test_bullet_with_a_set_due_date_accrues_actual_days() -> None:
    (line,) = schedule("bullet", first_due_on=date(2026, 3, 1))
    # 45 days of 18% on 10,000.00 by actual/365: 221.917… → 221.92.
    assert (line.due_on, line.interest_fen) == (date(2026, 3, 1), 22_192)


def test_a_long_first_period_accrues_interest_by_actual_days_over_365() -> None:
    regular = schedule()
    long_first = schedule(first_due_on=date(2026, 3, 1))  # 45 days instead of one month
    assert long_first[0].due_on == date(2026, 3, 1)
    assert long_first[0].interest_fen == 22_192  # 1,000,000 × 0.18 × 45 / 365 = 22,191.78
    # Only the first interest changes; the principal path is the regular one.
    assert [line.principal_fen for line in long_first] == [line.principal_fen for line in regular]
    assert [line.interest_fen for line in long_first[1:]] == [line.interest_fen for line in regular[1:]]


def test_a_short_first_period_accrues_less_interest() -> None:
    lines = schedule("interest_first", first_due_on=date(2026, 1, 25), term=2)
    assert lines[0].interest_fen == 4_932  # 10 days: 1,000,000 × 0.18 × 10 / 365 = 4,931.5
    assert lines[1].due_on == date(2026, 2, 25)


def test_zero_rate_splits_the_principal_evenly() -> None:
    lines = schedule(annual_rate=Decimal(0), principal_fen=1_000, term=3)
    assert [(line.principal_fen, line.interest_fen) for line in lines] == [(333, 0), (333, 0), (334, 0)]


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"principal_fen": 0}, "principal_not_positive"),
        ({"principal_fen": -5}, "principal_not_positive"),
        ({"annual_rate": Decimal("-0.01")}, "rate_out_of_range"),
        ({"annual_rate": Decimal("1.5")}, "rate_out_of_range"),
        ({"term": 0}, "term_out_of_range"),
        ({"term": 361}, "term_out_of_range"),
        ({"first_due_on": date(2026, 1, 15)}, "first_due_before_start"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(overrides: dict[str, object], code: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        schedule(**overrides)
    assert caught.value.code == code


def test_an_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError):
        schedule("balloon")


# --- properties -------------------------------------------------------------------------------

loans = st.fixed_dictionaries(
    {
        "principal_fen": st.integers(min_value=1, max_value=500_000_000),
        "annual_rate": st.integers(min_value=0, max_value=3_600).map(lambda bp: Decimal(bp) / 10_000),
        "term": st.integers(min_value=1, max_value=120),
        "method": st.sampled_from(list(Method)),
        "start_date": st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
        "first_gap_days": st.one_of(st.none(), st.integers(min_value=1, max_value=60)),
    }
)


def _generate(loan: dict) -> list:  # type: ignore[type-arg]
    gap = loan["first_gap_days"]
    first_due_on = loan["start_date"] + timedelta(days=gap) if gap else None
    arguments = {key: value for key, value in loan.items() if key != "first_gap_days"}
    return generate_schedule(**arguments, first_due_on=first_due_on, rounding="half_up")


@settings(max_examples=300, deadline=None)
@given(loans)
def test_instalments_sum_to_the_principal_and_nothing_is_negative(loan: dict) -> None:  # type: ignore[type-arg]
    lines = _generate(loan)
    assert sum(line.principal_fen for line in lines) == loan["principal_fen"]
    assert all(line.principal_fen >= 0 and line.interest_fen >= 0 for line in lines)
    assert all(line.remaining_fen >= 0 for line in lines)
    assert lines[-1].remaining_fen == 0
    remaining = [loan["principal_fen"], *(line.remaining_fen for line in lines)]
    assert all(later <= earlier for earlier, later in pairwise(remaining))
    dates = [line.due_on for line in lines]
    assert dates == sorted(set(dates)) and dates[0] > loan["start_date"]
    assert [line.period for line in lines] == list(range(1, len(lines) + 1))


# --- numpy-financial as an independent oracle --------------------------------------------------
# Tolerances (fen) we prove, and why they are the tightest possible with a level payment in whole fen:
# - payment: exact — every instalment but the last totals round(pmt);
# - remaining balance: exact — after each instalment it is numpy's exact balance rounded (|Δ| ≤ ½);
# - principal: |ours − ppmt| ≤ 1, the difference of two consecutive roundings of the exact cumulative
#   principal (≤ ½ for the last instalment, whose principal is the rounded exact balance);
# - interest: |ours − ipmt| ≤ 1½ (payment rounding ½ + principal 1), i.e. within 1 fen of round(ipmt);
#   pmt = ipmt + ppmt, so round(pmt) = round(ipmt) + round(ppmt) cannot hold for every period and one of
#   interest and principal must give up to a fen;
# - last instalment: principal as above, interest = round(ipmt).
# Domain: every period accrues at least 1½ fen of interest. Below that (a few fen lent at a tiny rate)
# keeping interest ≥ 0 comes first: the instalment is all principal and the balance catches up with
# the exact one a period later; the invariants above still hold there.
# The float oracle carries its own error (compounding over up to 360 periods): FLOAT_NOISE.
FLOAT_NOISE = 2e-3


@settings(max_examples=400, deadline=None)
@given(
    principal_fen=st.integers(min_value=10_000, max_value=1_000_000_000),
    annual_rate=st.integers(min_value=100, max_value=3_600).map(lambda bp: Decimal(bp) / 10_000),
    term=st.integers(min_value=1, max_value=360),
)
def test_equal_instalments_match_numpy_financial(principal_fen: int, annual_rate: Decimal, term: int) -> None:
    rate = float(annual_rate) / 12
    periods = list(range(1, term + 1))
    interests = -npf.ipmt(rate, periods, term, principal_fen)
    assume(interests.min() >= 1.5)
    lines = schedule(principal_fen=principal_fen, annual_rate=annual_rate, term=term)
    payment = -npf.pmt(rate, term, principal_fen)
    principals = -npf.ppmt(rate, periods, term, principal_fen)
    balances = principal_fen - principals.cumsum()
    for line, interest, principal, balance in zip(lines, interests, principals, balances, strict=True):
        assert abs(line.remaining_fen - balance) <= 0.5 + FLOAT_NOISE, (line, balance)
        if line.period < term:
            assert abs(line.total_fen - payment) <= 0.5 + FLOAT_NOISE, (line, payment)
            assert abs(line.principal_fen - principal) <= 1 + FLOAT_NOISE, (line, principal)
            assert abs(line.interest_fen - interest) <= 1.5 + FLOAT_NOISE, (line, interest)
        else:
            assert abs(line.principal_fen - principal) <= 0.5 + FLOAT_NOISE, (line, principal)
            assert abs(line.interest_fen - interest) <= 0.5 + FLOAT_NOISE, (line, interest)


def test_a_typical_loan_matches_numpy_financial_to_the_fen() -> None:
    lines = schedule(principal_fen=3_600_000, annual_rate=Decimal("0.1234"), term=36)
    periods = list(range(1, 37))
    rate = 0.1234 / 12
    assert {line.total_fen for line in lines[:-1]} == {round(-npf.pmt(rate, 36, 3_600_000))}
    interest_gaps = [
        line.interest_fen - round(-i)
        for line, i in zip(lines, npf.ipmt(rate, periods, 36, 3_600_000), strict=True)
    ]
    principal_gaps = [
        line.principal_fen - round(-p)
        for line, p in zip(lines, npf.ppmt(rate, periods, 36, 3_600_000), strict=True)
    ]
    assert max(map(abs, interest_gaps)) <= 1 and max(map(abs, principal_gaps)) <= 1


def test_tiny_interest_never_goes_negative() -> None:
    lines = schedule(principal_fen=10_000, annual_rate=Decimal("0.0001"), term=3)
    assert [(line.principal_fen, line.interest_fen) for line in lines] == [(3_333, 0), (3_333, 0), (3_334, 0)]
