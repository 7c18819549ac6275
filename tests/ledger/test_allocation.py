"""Allocation of payments and early repayment quotes (pure rules)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lenddesk.core.errors import Unprocessable
from lenddesk.ledger.allocation import COMPONENTS, Due, allocate, apply, parse_order, payable_on
from lenddesk.ledger.schedule import generate_schedule
from lenddesk.ledger.settlement import (
    early_repayment_fee,
    principal_for_amount,
    quote_partial,
    quote_settlement,
)

OLD = Due(1, date(2026, 1, 15), penalty=300, late_fee=500, interest=1_000, principal=9_000)
NEWER = Due(2, date(2026, 2, 15), penalty=100, late_fee=0, interest=900, principal=9_100)


def test_default_order_pays_the_oldest_instalment_penalty_first() -> None:
    allocation = allocate(1_200, [NEWER, OLD])
    assert allocation.to_json() == [
        {"period": 1, "penalty": 300, "late_fee": 500, "interest": 400, "principal": 0}
    ]
    assert allocation.credit_fen == 0


def test_a_product_order_principal_first_is_followed() -> None:
    allocation = allocate(9_500, [OLD], order=parse_order("principal,interest,late_fee,penalty"))
    (line,) = allocation.lines
    assert (line.principal, line.interest, line.late_fee, line.penalty) == (9_000, 500, 0, 0)


def test_component_style_pays_every_penalty_before_any_interest() -> None:
    allocation = allocate(500, [OLD, NEWER], style="component")
    assert [(line.period, line.penalty, line.late_fee) for line in allocation.lines] == [
        (1, 300, 100),
        (2, 100, 0),
    ]


def test_over_payment_becomes_credit() -> None:
    allocation = allocate(OLD.total + NEWER.total + 77, [OLD, NEWER])
    assert allocation.credit_fen == 77
    assert allocation.allocated_fen == OLD.total + NEWER.total
    assert allocation.to_json()[-1] == {"credit": 77}


def test_a_payment_pays_what_is_due_and_the_next_instalment_only() -> None:
    third = Due(3, date(2026, 3, 15), principal=9_200, interest=800)
    payable = payable_on([third, NEWER, OLD], date(2026, 1, 20))
    assert [due.period for due in payable] == [1, 2]
    assert [due.period for due in payable_on([third, NEWER, OLD], date(2026, 2, 15))] == [1, 2, 3]


@pytest.mark.parametrize("text", ["penalty,interest,principal", "penalty,penalty,interest,principal", "fee"])
def test_a_bad_allocation_order_is_refused(text: str) -> None:
    with pytest.raises(Unprocessable):
        parse_order(text)


dues_strategy = st.lists(
    st.tuples(*(st.integers(min_value=0, max_value=50_000) for _ in range(4))), min_size=1, max_size=12
).map(
    lambda rows: [
        Due(index + 1, date(2026, 1 + index % 12, 15), penalty=a, late_fee=b, interest=c, principal=d)
        for index, (a, b, c, d) in enumerate(rows)
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    dues=dues_strategy,
    amounts=st.lists(st.integers(min_value=0, max_value=300_000), min_size=1, max_size=5),
    order=st.permutations(COMPONENTS),
    style=st.sampled_from(["instalment", "component"]),
)
def test_allocation_conserves_money_and_never_goes_negative(dues, amounts, order, style) -> None:  # type: ignore[no-untyped-def]
    owed = sum(due.total for due in dues)
    remaining = dues
    total_allocated = total_credit = 0
    for amount in amounts:
        allocation = allocate(amount, remaining, order=order, style=style)
        assert allocation.allocated_fen + allocation.credit_fen == amount
        assert allocation.credit_fen >= 0
        assert all(getattr(line, name) >= 0 for line in allocation.lines for name in COMPONENTS)
        remaining = apply(remaining, allocation)
        assert all(due.amount(name) >= 0 for due in remaining for name in COMPONENTS)
        total_allocated += allocation.allocated_fen
        total_credit += allocation.credit_fen
    assert total_allocated + total_credit == sum(amounts)
    assert sum(due.total for due in remaining) == owed - total_allocated
    # Credit only arises once everything payable is paid.
    assert total_credit == 0 or sum(due.total for due in remaining) == 0


@settings(max_examples=200, deadline=None)
@given(dues=dues_strategy, first=st.integers(0, 200_000), second=st.integers(0, 200_000))
def test_two_payments_leave_the_same_state_as_their_sum(dues, first: int, second: int) -> None:  # type: ignore[no-untyped-def]
    one_by_one = apply(
        apply(dues, allocate(first, dues)), allocate(second, apply(dues, allocate(first, dues)))
    )
    together = apply(dues, allocate(first + second, dues))
    assert one_by_one == together


# --- early repayment quotes --------------------------------------------------------------------

START = date(2026, 1, 15)
RATE = Decimal("0.18")


def fresh_dues(method: str = "equal_instalment", term: int = 12) -> list[Due]:
    lines = generate_schedule(
        principal_fen=1_000_000,
        annual_rate=RATE,
        term=term,
        method=method,
        start_date=START,
        rounding="half_up",
    )
    return [
        Due(line.period, line.due_on, interest=line.interest_fen, principal=line.principal_fen)
        for line in lines
    ]


def test_settlement_quote_on_the_disbursement_day_is_the_principal_plus_fee() -> None:
    quote = quote_settlement(
        fresh_dues(),
        annual_rate=RATE,
        rounding="half_up",
        disbursed_on=START,
        on=START,
        fee_percent=Decimal(2),
    )
    assert (quote.overdue_fen, quote.accrued_interest_fen, quote.principal_fen) == (0, 0, 1_000_000)
    assert quote.fee_fen == 20_000
    assert quote.total_fen == 1_020_000


def test_settlement_quote_mid_period_accrues_actual_days_on_the_principal_not_yet_due() -> None:
    dues = fresh_dues()
    paid_first = [Due(1, dues[0].due_on, interest_paid=dues[0].interest), *dues[1:]]
    quote = quote_settlement(
        paid_first, annual_rate=RATE, rounding="half_up", disbursed_on=START, on=date(2026, 3, 1)
    )
    not_due = 1_000_000 - dues[0].principal
    assert quote.period_start == date(2026, 2, 15)
    assert quote.principal_fen == not_due
    # 14 days since 15 Feb by actual / 365.
    assert quote.accrued_interest_fen == round(Decimal(not_due) * RATE * 14 / 365)
    assert quote.overdue_fen == 0
    assert quote.total_fen == not_due + quote.accrued_interest_fen
    assert quote.interest_saved_fen == sum(d.interest for d in dues[1:]) - quote.accrued_interest_fen


def test_settlement_quote_includes_overdue_instalments_in_full() -> None:
    dues = fresh_dues()
    overdue = Due(
        1, dues[0].due_on, penalty=120, late_fee=5_000, interest=dues[0].interest, principal=dues[0].principal
    )
    quote = quote_settlement(
        [overdue, *dues[1:]], annual_rate=RATE, rounding="half_up", disbursed_on=START, on=date(2026, 2, 20)
    )
    assert quote.overdue_fen == overdue.total
    assert quote.principal_fen == 1_000_000 - dues[0].principal


def test_accrued_interest_never_exceeds_the_period_interest() -> None:
    dues = fresh_dues()
    # 30 Jan → 28 Feb style long month: one day before the due date of a 31-day period.
    quote = quote_settlement(
        dues, annual_rate=RATE, rounding="half_up", disbursed_on=START, on=date(2026, 2, 14)
    )
    assert quote.accrued_interest_fen <= dues[0].interest


def test_credit_reduces_the_settlement_amount() -> None:
    quote = quote_settlement(
        fresh_dues(), annual_rate=RATE, rounding="half_up", disbursed_on=START, on=START, credit_fen=500
    )
    assert quote.total_fen == 1_000_000 - 500


def test_a_date_before_disbursement_is_refused() -> None:
    with pytest.raises(Unprocessable) as caught:
        quote_settlement(
            fresh_dues(), annual_rate=RATE, rounding="half_up", disbursed_on=START, on=date(2026, 1, 14)
        )
    assert caught.value.code == "date_before_disbursement"


def test_partial_prepayment_reduces_the_instalment_and_keeps_the_dates() -> None:
    dues = fresh_dues()
    paid = [Due(d.period, d.due_on, interest_paid=d.interest) for d in dues[:3]]
    remaining = dues[3:]
    on = dues[2].due_on  # right after paying the third instalment
    quote = quote_partial(
        paid + remaining,
        annual_rate=RATE,
        rounding="half_up",
        method="equal_instalment",
        disbursed_on=START,
        on=on,
        prepaid_principal_fen=300_000,
    )
    old_payment = dues[3].interest + dues[3].principal
    new_payments = {line.total_fen for line in quote.new_lines[:-1]}
    assert len(new_payments) == 1 and new_payments.pop() < old_payment
    assert [line.due_on for line in quote.new_lines] == [d.due_on for d in remaining]
    assert (
        sum(line.principal_fen for line in quote.new_lines) == sum(d.principal for d in remaining) - 300_000
    )
    assert quote.base.accrued_interest_fen == 0
    assert quote.total_fen == 300_000
    assert quote.interest_saved_fen > 0


def test_partial_prepayment_must_be_less_than_the_principal_not_yet_due() -> None:
    with pytest.raises(Unprocessable) as caught:
        quote_partial(
            fresh_dues(),
            annual_rate=RATE,
            rounding="half_up",
            method="equal_instalment",
            disbursed_on=START,
            on=START,
            prepaid_principal_fen=1_000_000,
        )
    assert caught.value.code == "partial_exceeds_principal"


@pytest.mark.parametrize("method", ["equal_principal", "interest_first", "bullet"])
def test_partial_prepayment_works_for_every_method(method: str) -> None:
    dues = fresh_dues(method)
    quote = quote_partial(
        dues,
        annual_rate=RATE,
        rounding="half_up",
        method=method,
        disbursed_on=START,
        on=date(2026, 1, 25),
        prepaid_principal_fen=100_000,
    )
    assert sum(line.principal_fen for line in quote.new_lines) == 900_000
    assert all(line.interest_fen >= 0 and line.principal_fen >= 0 for line in quote.new_lines)


@given(available=st.integers(0, 10_000_000), percent=st.integers(0, 500).map(lambda p: Decimal(p) / 100))
def test_principal_for_amount_is_the_most_principal_the_money_prepays(
    available: int, percent: Decimal
) -> None:
    principal = principal_for_amount(available, percent, "half_up")
    assert principal + early_repayment_fee(principal, percent, "half_up") <= available
    assert principal + 1 + early_repayment_fee(principal + 1, percent, "half_up") > available
