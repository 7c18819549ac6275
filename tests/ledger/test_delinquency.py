"""Pure delinquency rules: buckets, penalty, late fee, the cost cap, write-off, one loan's day."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lenddesk.ledger.delinquency import (
    ChargeTerms,
    DelinquencyRules,
    LineState,
    LoanState,
    Standing,
    bucket_labels,
    clip_to_headroom,
    close_loan_day,
    cost_cap_fen,
    daily_penalty_rate_e10,
    divide_rounded,
    late_fee_fen,
    loan_standing,
    penalty_for_day,
    standing_bands,
    standing_case_sql,
)

RULES = DelinquencyRules()
TERMS = ChargeTerms(
    grace_days=3,
    penalty_mode="daily",
    penalty_daily_rate_e10=5_000_000,  # 0.0005 a day
    penalty_multiple_e8=150_000_000,
    late_fee_fixed_fen=3000,
    late_fee_percent_e8=0,
    cost_cap_ppm=240_000,
)


@pytest.mark.parametrize(
    ("dpd", "status", "bucket"),
    [(0, "current", "M0"), (1, "overdue", "M1"), (30, "overdue", "M1"), (31, "overdue", "M2"),
     (60, "overdue", "M2"), (61, "overdue", "M3"), (90, "overdue", "M3"), (91, "overdue", "M4"),
     (180, "overdue", "M6"), (181, "written_off", "WO"), (400, "written_off", "WO")],
)  # fmt: skip
def test_default_standing_at_the_close_of_business(dpd: int, status: str, bucket: str) -> None:
    assert loan_standing(dpd, RULES, write_off=True) == Standing(status, bucket, dpd)


def test_a_posting_never_writes_a_loan_off() -> None:
    """Past the write-off threshold, a posting or reversal leaves the loan in the open bucket."""
    assert loan_standing(181, RULES) == Standing("overdue", "M7+", 181)
    assert loan_standing(180, RULES) == loan_standing(180, RULES, write_off=True)


def test_buckets_are_configurable() -> None:
    assert bucket_labels([30, 60, 90]) == ["M0", "M1", "M2", "M3", "M4+"]
    beyond = DelinquencyRules(bucket_upper_bounds=(30, 60, 90), write_off_after_days=365)
    assert [loan_standing(days, beyond, write_off=True).bucket for days in (91, 365, 366)] == [
        "M4+",
        "M4+",
        "WO",
    ]
    short = DelinquencyRules(bucket_upper_bounds=(15, 45), write_off_after_days=180)
    assert [loan_standing(days, short).bucket for days in (15, 16, 45, 46)] == ["M1", "M2", "M2", "M3+"]
    early = DelinquencyRules(bucket_upper_bounds=(30, 60, 90), write_off_after_days=45)
    assert [loan_standing(days, early, write_off=True).bucket for days in (30, 45, 46)] == ["M1", "M2", "WO"]
    assert loan_standing(80, early).bucket == "M3"


def test_settled_and_written_off_are_facts_not_days() -> None:
    assert loan_standing(40, RULES, owes=False) == Standing("settled", "M0", 0)
    assert loan_standing(3, RULES, written_off=True) == Standing("written_off", "WO", 3)
    assert loan_standing(-5, RULES) == Standing("current", "M0", 0)


rules_strategy = st.builds(
    lambda bounds, write_off: DelinquencyRules(
        bucket_upper_bounds=tuple(bounds), write_off_after_days=write_off
    ),
    st.lists(st.integers(1, 400), min_size=1, max_size=8, unique=True).map(sorted),
    st.integers(1, 400),
)


@settings(max_examples=300, deadline=None)
@given(rules=rules_strategy, days=st.lists(st.integers(-3, 500), min_size=1, max_size=20), owes=st.booleans())
def test_the_sql_standing_is_the_python_standing(
    rules: DelinquencyRules, days: list[int], owes: bool
) -> None:
    """The close of business classifies with CASEs built from the same bands: they cannot drift."""
    status_sql, bucket_sql = standing_case_sql(rules, days="dpd", settled_when="owed_lines = 0")
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE w (dpd INTEGER, owed_lines INTEGER)")
    # The close of business stores 0 days past due for a loan not (yet) past due.
    connection.executemany("INSERT INTO w VALUES (?, ?)", [(max(day, 0), int(owes)) for day in days])
    rows = connection.execute(f"SELECT dpd, {status_sql}, {bucket_sql} FROM w ORDER BY rowid").fetchall()
    for day, (stored, status, bucket) in zip(days, rows, strict=True):
        standing = loan_standing(day, rules, owes=owes, write_off=True)
        assert (status, bucket) == (standing.status, standing.bucket), (day, rules)
        assert stored == max(day, 0)


@settings(max_examples=300, deadline=None)
@given(rules=rules_strategy, days=st.integers(0, 500), write_off=st.booleans())
def test_more_days_never_mean_a_better_bucket(rules: DelinquencyRules, days: int, write_off: bool) -> None:
    bands = standing_bands(rules.bucket_upper_bounds, rules.write_off_after_days, write_off=write_off)
    order = [band.bucket for band in bands]
    today = loan_standing(days, rules, write_off=write_off)
    tomorrow = loan_standing(days + 1, rules, write_off=write_off)
    assert order.index(tomorrow.bucket) - order.index(today.bucket) in (0, 1)
    assert (today.status == "current") == (days == 0)
    assert (today.status == "written_off") == (write_off and days > rules.write_off_after_days)
    if today.status == "overdue":  # the same bucket with or without write-off while it stays open
        assert today.bucket == loan_standing(days, rules).bucket


def test_rounding_rules_differ_only_on_exact_halves() -> None:
    assert divide_rounded(5, 10, "half_up") == 1
    assert divide_rounded(5, 10, "half_even") == 0
    assert divide_rounded(15, 10, "half_even") == 2
    assert divide_rounded(14, 10, "half_even") == divide_rounded(14, 10, "half_up") == 1
    assert divide_rounded(16, 10, "half_even") == divide_rounded(16, 10, "half_up") == 2


def test_penalty_daily_rate_and_multiple_of_contract_rate() -> None:
    assert penalty_for_day(100_000, daily_penalty_rate_e10(TERMS, 18_000_000)) == 50  # 0.05% of 1000 yuan
    multiple = replace(TERMS, penalty_mode="multiple")
    rate = daily_penalty_rate_e10(multiple, 18_000_000)  # 1.5 × 18% / 365 = 0.000739726…
    assert rate == 7_397_260
    assert penalty_for_day(1_000_000, rate) == 740  # 739.726 fen rounds to 740
    assert penalty_for_day(0, rate) == 0


def test_late_fee_fixed_plus_percent_of_the_instalment() -> None:
    assert late_fee_fen(110_000, TERMS) == 3000
    percent = replace(TERMS, late_fee_fixed_fen=0, late_fee_percent_e8=5_000_000)  # 5%
    assert late_fee_fen(110_000, percent) == 5500
    assert late_fee_fen(110_010, percent) == 5501  # 5500.5 rounds half up


def test_cost_cap_grows_with_elapsed_days_and_rounds_down() -> None:
    assert cost_cap_fen(1_000_000, 240_000, 365) == 240_000
    assert cost_cap_fen(1_000_000, 240_000, 0) == 0
    assert cost_cap_fen(1_000_000, 240_000, 1) == 657  # 657.53 rounded down
    assert cost_cap_fen(1_000_000, 240_000, -5) == 0


@given(
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)), max_size=12),
    st.integers(-50_000, 100_000),
)
def test_clipping_never_exceeds_the_headroom_and_charges_oldest_first(
    wanted: list[tuple[int, int]], headroom: int
) -> None:
    charged = clip_to_headroom(wanted, headroom)
    total = sum(fee + penalty for fee, penalty in charged)
    assert total <= max(headroom, 0)
    assert total == min(max(headroom, 0), sum(fee + penalty for fee, penalty in wanted))
    for (fee, penalty), (fee_charged, penalty_charged) in zip(wanted, charged, strict=True):
        assert 0 <= fee_charged <= fee and 0 <= penalty_charged <= penalty
    shortfalls = [fee + penalty - a - b for (fee, penalty), (a, b) in zip(wanted, charged, strict=True)]
    first_short = next((i for i, short in enumerate(shortfalls) if short), len(shortfalls))
    assert all(a == b == 0 for a, b in charged[first_short + 1 :])


# -- one loan, one day -----------------------------------------------------------------------------

DISBURSED = date(2026, 1, 10)


def one_loan(line_count: int = 3, principal: int = 3_000_000) -> tuple[LoanState, list[LineState]]:
    lines = [
        LineState(
            period=i, due_on=date(2026, 1 + i, 10), principal_fen=principal // line_count, interest_fen=4500
        )
        for i in range(1, line_count + 1)
    ]
    loan = LoanState(
        principal_fen=principal,
        annual_rate_e8=18_000_000,
        disbursed_on=DISBURSED,
        status="current",
        days_past_due=0,
        bucket="M0",
        oldest_unpaid_due_on=lines[0].due_on,
        next_due_on=lines[0].due_on,
        cost_charged_fen=0,
    )
    return loan, lines


def run_days(loan: LoanState, lines: list[LineState], first: date, last: date, terms: ChargeTerms = TERMS):
    results = {}
    day = first
    while day <= last:
        result = close_loan_day(loan, lines, terms, day, RULES)
        if result is not None:
            loan, lines = result.loan, result.lines
            results[day] = result
        day += timedelta(days=1)
    return loan, lines, results


def test_a_loan_with_nothing_due_is_not_touched() -> None:
    loan, lines = one_loan()
    assert close_loan_day(loan, lines, TERMS, date(2026, 2, 1), RULES) is None


def test_grace_then_late_fee_once_and_penalty_every_day() -> None:
    loan, lines = one_loan()
    due = lines[0].due_on
    loan, lines, results = run_days(loan, lines, due, due + timedelta(days=6))
    assert results[due].loan.status == "current" and results[due].interest_due_fen == 4500
    assert results[due + timedelta(days=1)].loan.status == "overdue"
    assert results[due + timedelta(days=1)].transition == ("M0", "M1")
    for grace_day in range(1, 4):
        assert results[due + timedelta(days=grace_day)].penalty_fen == 0
        assert results[due + timedelta(days=grace_day)].late_fee_fen == 0
    assert results[due + timedelta(days=4)].late_fee_fen == 3000
    assert results[due + timedelta(days=4)].penalty_fen == 500  # 0.05% of the 1,000,000 fen principal overdue
    assert results[due + timedelta(days=5)].late_fee_fen == 0
    assert results[due + timedelta(days=6)].penalty_fen == 500
    assert lines[0].late_fee_fen == 3000 and lines[0].penalty_fen == 1500
    assert loan.days_past_due == 6 and loan.cost_charged_fen == 4500 + 3000 + 1500


def test_principal_and_interest_base() -> None:
    loan, lines = one_loan()
    rules = replace(RULES, penalty_base="principal_and_interest")
    due = lines[0].due_on
    day = due + timedelta(days=5)
    result = close_loan_day(
        replace(loan, status="overdue", next_due_on=lines[1].due_on), lines, TERMS, day, rules
    )
    assert result is not None and result.penalty_fen == penalty_for_day(1_004_500, 5_000_000)


def test_paying_the_overdue_instalment_cures() -> None:
    loan, lines = one_loan()
    due = lines[0].due_on
    loan, lines, _ = run_days(loan, lines, due, due + timedelta(days=10))
    paid = replace(
        lines[0],
        paid_principal_fen=lines[0].principal_fen,
        paid_interest_fen=lines[0].interest_fen,
        paid_penalty_fen=lines[0].penalty_fen,
        paid_late_fee_fen=lines[0].late_fee_fen,
        paid_off_on=due + timedelta(days=11),
    )
    result = close_loan_day(loan, [paid, *lines[1:]], TERMS, due + timedelta(days=11), RULES)
    assert result is not None
    assert (result.loan.status, result.loan.bucket, result.loan.days_past_due) == ("current", "M0", 0)
    assert result.transition == ("M1", "M0") and result.penalty_fen == 0


def test_everything_paid_settles() -> None:
    loan, lines = one_loan(line_count=1)
    paid = replace(
        lines[0],
        paid_principal_fen=lines[0].principal_fen,
        paid_interest_fen=4500,
        paid_off_on=date(2026, 2, 8),
    )
    result = close_loan_day(loan, [paid], TERMS, lines[0].due_on, RULES)
    assert result is not None
    assert (result.loan.status, result.loan.settled_on, result.loan.next_due_on) == (
        "settled",
        date(2026, 2, 8),
        None,
    )


def test_written_off_after_the_policy_days() -> None:
    loan, lines = one_loan(line_count=1)
    due = lines[0].due_on
    loan, lines, results = run_days(loan, lines, due, due + timedelta(days=200))
    assert loan.status == "written_off" and loan.bucket == "WO"
    assert loan.written_off_on == due + timedelta(days=181)
    assert results[due + timedelta(days=181)].transition == ("M6", "WO")
    assert results[due + timedelta(days=181)].penalty_fen == 0
    assert max(results) == due + timedelta(days=181)  # nothing happens after the write-off


def test_penalty_stops_at_the_cost_cap_and_resumes_as_the_cap_grows() -> None:
    loan, lines = one_loan(line_count=1)
    steep = replace(TERMS, penalty_daily_rate_e10=100_000_000)  # 1% a day: far more than the cap allows
    loan, lines, results = run_days(loan, lines, lines[0].due_on, lines[0].due_on + timedelta(days=60), steep)
    clipped = [day for day, result in results.items() if result.cap_excess_fen > 0]
    assert clipped, "the cap must bind with a 1% daily penalty"
    for day in clipped:
        limit = cost_cap_fen(loan.principal_fen, TERMS.cost_cap_ppm, (day - DISBURSED).days)
        assert results[day].loan.cost_charged_fen == limit  # charged exactly up to the cap, no more
    assert results[clipped[-1]].penalty_fen > 0  # the cap grows each day, so some penalty still accrues


@settings(max_examples=150, deadline=None)
@given(
    principal=st.integers(10_000, 5_000_000),
    line_count=st.integers(1, 12),
    rate_e10=st.integers(0, 100_000_000),
    fee=st.integers(0, 20_000),
    cap=st.sampled_from([240_000, 360_000, 150_000]),
    interest_share=st.integers(0, 30),
    payments=st.lists(st.tuples(st.integers(0, 400), st.integers(1, 12)), max_size=6),
)
def test_the_cost_cap_is_never_exceeded_by_penalties_and_fees(
    principal: int, line_count: int, rate_e10: int, fee: int, cap: int, interest_share: int, payments
) -> None:
    """Day by day, with payments on random days: penalties and fees never take the cost above
    principal × cap × elapsed days / 365, and when the contract's own interest fits under the cap
    the whole cost (interest + penalties + fees) stays under it on every day."""
    terms = replace(TERMS, penalty_daily_rate_e10=rate_e10, late_fee_fixed_fen=fee, cost_cap_ppm=cap)
    per_line = principal // line_count
    lines = [
        LineState(
            period=i,
            due_on=DISBURSED + timedelta(days=30 * i),
            principal_fen=per_line if i < line_count else principal - per_line * (line_count - 1),
            interest_fen=per_line * interest_share // 1000,
        )
        for i in range(1, line_count + 1)
    ]
    loan = LoanState(
        principal, 18_000_000, DISBURSED, "current", 0, "M0", lines[0].due_on, lines[0].due_on, 0
    )
    cumulative = 0
    interest_within_cap = True
    for line in lines:
        cumulative += line.interest_fen
        interest_within_cap &= cumulative <= cost_cap_fen(principal, cap, (line.due_on - DISBURSED).days)
    pay_days = {DISBURSED + timedelta(days=day): period for day, period in payments}
    day = last_closed = lines[0].due_on
    while day <= lines[-1].due_on + timedelta(days=200) and loan.status in ("current", "overdue"):
        if day in pay_days and pay_days[day] <= line_count:
            index = pay_days[day] - 1
            line = lines[index]
            lines[index] = replace(
                line,
                paid_principal_fen=line.principal_fen,
                paid_interest_fen=line.interest_fen,
                paid_penalty_fen=line.penalty_fen,
                paid_late_fee_fen=line.late_fee_fen,
                paid_off_on=day,
            )
        result = close_loan_day(loan, lines, terms, day, RULES)
        if result is not None:
            limit = cost_cap_fen(principal, cap, (day - DISBURSED).days)
            before = loan.cost_charged_fen + result.interest_due_fen
            charges = result.penalty_fen + result.late_fee_fen
            assert charges >= 0 and result.cap_excess_fen >= 0
            assert charges <= max(0, limit - before)
            assert result.loan.cost_charged_fen <= max(limit, before)
            if interest_within_cap:  # then interest + penalties + fees stay within the cap on every day
                assert result.loan.cost_charged_fen <= limit
            loan, lines, last_closed = result.loan, result.lines, day
        day += timedelta(days=1)
    assert all(line.penalty_fen >= 0 and line.late_fee_fen >= 0 for line in lines)
    interest_fallen_due = sum(line.interest_fen for line in lines if line.due_on <= last_closed)
    charges = sum(line.penalty_fen + line.late_fee_fen for line in lines)
    assert loan.cost_charged_fen == interest_fallen_due + charges


def test_product_terms_are_exact_integers() -> None:
    class Product:
        grace_days = 5
        penalty_mode = "multiple"
        penalty_daily_rate = Decimal("0.0005")
        penalty_multiple = Decimal("1.5")
        late_fee_fixed_fen = 0
        late_fee_percent = Decimal("0.05")
        annual_cost_cap = Decimal("0.24")

    terms = ChargeTerms.of_product(Product())
    assert terms == ChargeTerms(5, "multiple", 5_000_000, 150_000_000, 0, 5_000_000, 240_000)


def test_policy_keys_are_read_and_bad_bounds_are_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from lenddesk.core.errors import ConfigurationError
    from lenddesk.core.policy import load_policy

    good = tmp_path / "good.toml"
    good.write_text(
        "[ledger]\nbucket_upper_bounds = [30, 60, 90]\nwrite_off_after_days = 120\n"
        'penalty_base = "principal_and_interest"\n'
    )
    rules = DelinquencyRules.from_policy(load_policy(good))
    assert rules == DelinquencyRules((30, 60, 90), 120, "principal_and_interest", "half_up")
    bad = tmp_path / "bad.toml"
    bad.write_text("[ledger]\nbucket_upper_bounds = [60, 30]\n")
    with pytest.raises(ConfigurationError, match=r"ledger\.bucket_upper_bounds"):
        load_policy(bad)
