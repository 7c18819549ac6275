"""The pure cost-cap arithmetic and the IRR against numpy-financial's `irr` (the oracle)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lenddesk.core.errors import Unprocessable
from lenddesk.ledger import costcap
from lenddesk.ledger.schedule import generate_schedule
from tests.ledger.costcap_paths import oracle_irr

DAY0 = date(2026, 1, 15)


def test_principal_days_count_each_fen_for_the_days_it_was_outstanding() -> None:
    # 10,000.00 for 31 days, then 4,000.00 repaid: 6,000.00 for 30 more days.
    repaid = 400_000 * 31
    assert costcap.principal_days(repaid, 600_000, DAY0, DAY0 + timedelta(days=61)) == (
        1_000_000 * 31 + 600_000 * 30
    )
    assert costcap.principal_days(0, 1_000_000, DAY0, DAY0 - timedelta(days=3)) == 0


def test_the_cap_is_rounded_down_and_never_negative() -> None:
    assert costcap.cap_on(1_000_000 * 365, 240_000) == 240_000
    assert costcap.cap_on(1_000_000, 240_000) == 657  # 657.53 rounded down
    assert costcap.cap_on(0, 240_000) == costcap.cap_on(-5, 240_000) == 0


def test_the_room_keeps_what_later_interest_needs() -> None:
    # 1,000.00 outstanding for 30 days, cost 10.00: today's cap is 19.72, room 9.72. The next
    # instalment (1,000.00 principal, 30 days on, 30.00 interest) needs 30.00 of the 39.45 cap then.
    room_today = costcap.cap_on(100_000 * 30, 240_000) - 1000
    assert (
        costcap.headroom_fen(cap_ppm=240_000, principal_days_now=100_000 * 30, on=DAY0, cost_fen=1000)
        == room_today
    )
    later = [(DAY0 + timedelta(days=30), 100_000, 3000)]
    then = costcap.cap_on(100_000 * 60, 240_000) - 1000 - 3000
    room = costcap.headroom_fen(
        cap_ppm=240_000, principal_days_now=100_000 * 30, on=DAY0, cost_fen=1000, future=later
    )
    assert room == then == -55 < room_today


def test_the_room_projects_the_balance_falling_as_scheduled() -> None:
    # Two later instalments of 500.00: the second's cap counts 500.00 for its last period only.
    later = [(DAY0 + timedelta(days=30), 50_000, 0), (DAY0 + timedelta(days=60), 50_000, 1_000)]
    room = costcap.headroom_fen(cap_ppm=240_000, principal_days_now=0, on=DAY0, cost_fen=0, future=later)
    assert room == min(0, costcap.cap_on(100_000 * 30 + 50_000 * 30, 240_000) - 1_000)


@pytest.mark.parametrize(
    ("rate", "cap", "code"),
    [("0.36", "0.24", "rate_above_cost_cap"), ("0.18", "0.36", "cost_cap_above_legal"),
     ("0.2400000001", "0.24", "rate_above_cost_cap"), ("0.16", "0.15", "rate_above_cost_cap")],
)  # fmt: skip
def test_contract_rates_above_the_cap_are_refused(rate: str, cap: str, code: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        costcap.check_contract_rate(Decimal(rate), Decimal(cap), Decimal("0.24"))
    assert caught.value.code == code and caught.value.message_zh and caught.value.message_en


def test_a_contract_at_the_cap_is_accepted() -> None:
    costcap.check_contract_rate(Decimal("0.24"), Decimal("0.24"), Decimal("0.24"))
    assert costcap.cap_ppm_of(Decimal("0.30"), Decimal("0.24")) == 240_000
    assert costcap.cap_ppm_of(Decimal("0.1234567"), Decimal("0.24")) == 123_456


def test_the_irr_of_a_level_loan_matches_its_daily_rate() -> None:
    # 1,000.00 repaid with 1% interest after 100 days: a daily rate of 0.01 % (3.65 % a year).
    flows = [(DAY0, -100_000), (DAY0 + timedelta(days=100), round(100_000 * 1.0001**100))]
    irr = costcap.annualised_irr(flows)
    assert irr is not None and abs(float(irr) - 0.0365) < 1e-5
    assert costcap.annualised_irr([(DAY0, -100_000)]) is None
    assert costcap.annualised_irr([]) is None


@settings(max_examples=30, deadline=None)
@given(
    principal=st.integers(10_000, 10_000_000),
    rate=st.sampled_from(["0.0", "0.072", "0.18", "0.24", "0.36"]),
    term=st.integers(1, 12),
    method=st.sampled_from(["equal_instalment", "equal_principal", "interest_first", "bullet"]),
    delays=st.lists(st.integers(0, 40), min_size=12, max_size=12),
)
def test_the_irr_agrees_with_numpy_financial(
    principal: int, rate: str, term: int, method: str, delays
) -> None:  # type: ignore[no-untyped-def]
    lines = generate_schedule(
        principal_fen=principal,
        annual_rate=Decimal(rate),
        term=term,
        method=method,
        start_date=DAY0,
        rounding="half_up",
    )
    flows = [(DAY0, -principal)] + [
        (line.due_on + timedelta(days=delay), line.total_fen)
        for line, delay in zip(lines, delays, strict=False)
    ]
    ours = costcap.annualised_irr(flows)
    assert ours is not None
    assert abs(float(ours) - oracle_irr(flows)) < 1e-5
    # A contract's own schedule paid on time never discloses more than its rate.
    if not any(delays):
        assert float(ours) <= float(rate) + 1e-6


def test_cash_flows_project_what_is_owed_and_use_credit_first() -> None:
    today = DAY0 + timedelta(days=40)
    flows = costcap.loan_cash_flows(
        principal_fen=100_000,
        disbursed_on=DAY0,
        receipts=[(DAY0 + timedelta(days=31), 60_000)],
        still_owed=[(DAY0 + timedelta(days=31), 5_000), (DAY0 + timedelta(days=59), 50_000)],
        credit_fen=7_000,
        today=today,
    )
    # The overdue 50.00 is projected today but credit pays it; the credit left pays 20.00 of the next.
    assert flows == [
        (DAY0, -100_000),
        (DAY0 + timedelta(days=31), 60_000),
        (DAY0 + timedelta(days=59), 48_000),
    ]
    refund = costcap.loan_cash_flows(
        principal_fen=100_000, disbursed_on=DAY0, receipts=[], still_owed=[], credit_fen=300, today=today
    )
    assert refund[-1] == (today, -300)
