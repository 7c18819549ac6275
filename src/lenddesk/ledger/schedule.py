"""Repayment schedules, pure: 等额本息, 等额本金, 先息后本, 一次性还本付息.

Conventions (documented in docs/LEDGER.md):
- Monthly rate = annual rate / 12 for a regular period of one calendar month.
- Due dates keep the anchor's day of month, clamped at month end (31 Jan → 28/29 Feb → 31 Mar):
  each due date is computed from the anchor, never from the previous (clamped) due date.
- A first period that is not exactly one month long (the first due date was set apart from the
  disbursement date) accrues interest by actual days / 365 on the full principal; only that
  instalment's interest changes, its principal stays what a regular first period would repay.
- 等额本息 follows the exact amortisation of the level payment (the closed-form formula banks
  publish, which numpy-financial's pmt/ipmt/ppmt compute): the payment is round(pmt); after each
  instalment the remaining principal is the exact remaining balance rounded to the fen (no drift);
  interest = payment − principal. 等额本金 and 先息后本 charge the monthly rate on the principal still
  owed.
- Every amount is rounded to the fen with the policy's rule (`rounding`, passed by the caller — 等额本金's
  equal principal too); the principal residue goes into the last instalment, so instalment
  principals always sum to the loan principal, and no instalment's principal is negative.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from lenddesk.core.errors import Unprocessable
from lenddesk.core.money import Rounding, round_fen

DAYS_IN_YEAR = Decimal(365)
MONTHS_IN_YEAR = Decimal(12)


class Method(StrEnum):
    EQUAL_INSTALMENT = "equal_instalment"  # 等额本息
    EQUAL_PRINCIPAL = "equal_principal"  # 等额本金
    INTEREST_FIRST = "interest_first"  # 先息后本
    BULLET = "bullet"  # 一次性还本付息


METHOD_LABELS_ZH = {
    Method.EQUAL_INSTALMENT: "等额本息",
    Method.EQUAL_PRINCIPAL: "等额本金",
    Method.INTEREST_FIRST: "先息后本",
    Method.BULLET: "一次性还本付息",
}


@dataclass(frozen=True)
class Instalment:
    period: int
    due_on: date
    principal_fen: int
    interest_fen: int
    remaining_fen: int  # principal still owed after this instalment is paid

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.interest_fen


def add_months(anchor: date, months: int) -> date:
    """The anchor's day of month, `months` later, clamped to the end of a shorter month."""
    month_index = anchor.month - 1 + months
    year, month = anchor.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(anchor.day, calendar.monthrange(year, month)[1]))


def due_dates(start_date: date, term: int, first_due_on: date | None = None) -> list[date]:
    """Monthly due dates: one month after `start_date`, or anchored on `first_due_on`."""
    if first_due_on is None:
        return [add_months(start_date, period) for period in range(1, term + 1)]
    return [add_months(first_due_on, period) for period in range(term)]


RATE_STEP = Decimal("1E-10")
FIRST_START, LAST_START = date(1900, 1, 1), date(2199, 12, 31)  # as core.http.Day


def _check(
    principal_fen: int, annual_rate: Decimal, term: int, start_date: date, first_due_on: date | None
) -> None:
    if principal_fen <= 0:
        raise Unprocessable(
            "本金必须大于 0", "Principal must be greater than 0", code="principal_not_positive"
        )
    if not annual_rate.is_finite() or not Decimal(0) <= annual_rate <= Decimal(1):
        raise Unprocessable(
            "年利率须在 0 到 1 之间（例如 0.18）",
            "Annual rate must be between 0 and 1 (e.g. 0.18)",
            code="rate_out_of_range",
        )
    if annual_rate != annual_rate.quantize(RATE_STEP, rounding=ROUND_HALF_UP):
        # 1E-400 is in range but its monthly rate underflows to zero mid-formula (division by zero)
        raise Unprocessable(
            "年利率最多保留 10 位小数",
            "The annual rate has at most 10 decimal places",
            code="rate_too_precise",
        )
    if not 1 <= term <= 360:
        raise Unprocessable(
            "期数须在 1 到 360 之间", "Term must be between 1 and 360 periods", code="term_out_of_range"
        )
    if not FIRST_START <= start_date <= LAST_START:
        # 360 months from 9999-06-01 run past the last date Python can hold
        raise Unprocessable(
            f"放款日须在 {FIRST_START} 至 {LAST_START} 之间",
            f"The start date must fall between {FIRST_START} and {LAST_START}",
            code="start_date_out_of_range",
        )
    if first_due_on is not None and first_due_on <= start_date:
        raise Unprocessable(
            "首个还款日必须晚于放款日",
            "The first due date must be after the disbursement date",
            code="first_due_before_start",
        )


def is_regular_first_period(start_date: date, first_due_on: date | None) -> bool:
    return first_due_on is None or add_months(start_date, 1) == first_due_on


def _period_interest(balance_fen: int, annual_rate: Decimal, days: int | None) -> Decimal:
    """Interest of one period: the monthly rate, or actual days / 365 for an irregular first period."""
    if days is None:
        return Decimal(balance_fen) * annual_rate / MONTHS_IN_YEAR
    return Decimal(balance_fen) * annual_rate * Decimal(days) / DAYS_IN_YEAR


def exact_annuity_payment(principal_fen: int, annual_rate: Decimal, term: int) -> Decimal:
    """The exact level monthly payment of 等额本息 in (fractional) fen."""
    rate = annual_rate / MONTHS_IN_YEAR
    if rate == 0:
        return Decimal(principal_fen) / term
    factor = (1 + rate) ** term
    return Decimal(principal_fen) * rate * factor / (factor - 1)


def annuity_payment_fen(principal_fen: int, annual_rate: Decimal, term: int, rounding: Rounding) -> int:
    """The level monthly payment of 等额本息, rounded to the fen."""
    return round_fen(exact_annuity_payment(principal_fen, annual_rate, term), rounding)


def generate_schedule(
    *,
    principal_fen: int,
    annual_rate: Decimal,
    term: int,
    method: Method | str,
    start_date: date,
    rounding: Rounding,
    first_due_on: date | None = None,
) -> list[Instalment]:
    """The full schedule of a loan disbursed on `start_date`, rounded with the policy's `rounding`."""
    method = Method(method)
    _check(principal_fen, annual_rate, term, start_date, first_due_on)
    if method is Method.BULLET:
        return _bullet(principal_fen, annual_rate, term, start_date, first_due_on, rounding)
    dates = due_dates(start_date, term, first_due_on)
    if method is Method.EQUAL_INSTALMENT:
        splits = _equal_instalment_splits(principal_fen, annual_rate, term, rounding)
    else:
        splits = _balance_splits(principal_fen, annual_rate, term, method, rounding)
    if not is_regular_first_period(start_date, first_due_on):
        # The broken first period changes only its interest; the principal path stays regular.
        first_principal, _ = splits[0]
        days = (dates[0] - start_date).days
        splits[0] = (first_principal, round_fen(_period_interest(principal_fen, annual_rate, days), rounding))
    lines: list[Instalment] = []
    balance = principal_fen
    for period, (due_on, (principal, interest)) in enumerate(zip(dates, splits, strict=True), start=1):
        balance -= principal
        lines.append(Instalment(period, due_on, principal, interest, balance))
    return lines


def _equal_instalment_splits(
    principal_fen: int, annual_rate: Decimal, term: int, rounding: Rounding
) -> list[tuple[int, int]]:
    """(principal, interest) per period of 等额本息, tracking the exact (unrounded) amortisation.

    The principal repaid so far is always the exact cumulative principal rounded to the fen, so the
    remaining balance never drifts from the exact one by more than half a fen; the interest is the
    rounded level payment minus that principal, so every instalment but the last totals exactly
    the level payment. The last instalment takes the principal residue plus its exact interest.
    """
    rate = annual_rate / MONTHS_IN_YEAR
    exact_payment = exact_annuity_payment(principal_fen, annual_rate, term)
    level_payment = round_fen(exact_payment, rounding)
    exact_balance = Decimal(principal_fen)
    balance = principal_fen
    splits: list[tuple[int, int]] = []
    for period in range(1, term + 1):
        exact_interest = exact_balance * rate
        exact_balance -= exact_payment - exact_interest
        if period == term:
            splits.append((balance, round_fen(exact_interest, rounding)))
            break
        target_balance = max(round_fen(exact_balance, rounding), 0)
        principal = min(max(balance - target_balance, 0), level_payment, balance)
        splits.append((principal, level_payment - principal))
        balance -= principal
    return splits


def _balance_splits(
    principal_fen: int, annual_rate: Decimal, term: int, method: Method, rounding: Rounding
) -> list[tuple[int, int]]:
    """等额本金 and 先息后本: interest is the monthly rate on the principal still owed.

    等额本金 repays principal / term each month, rounded like every other amount; the last instalment
    takes the residue (2,000.00 over 3 half-up: 666.67, 666.67, 666.66).
    """
    equal_principal = round_fen(Decimal(principal_fen) / term, rounding)
    balance = principal_fen
    splits: list[tuple[int, int]] = []
    for period in range(1, term + 1):
        interest = round_fen(_period_interest(balance, annual_rate, None), rounding)
        if period == term:
            principal = balance
        elif method is Method.EQUAL_PRINCIPAL:
            principal = min(equal_principal, balance)  # rounding up never overdraws the balance
        else:
            principal = 0
        splits.append((principal, interest))
        balance -= principal
    return splits


def _bullet(
    principal_fen: int,
    annual_rate: Decimal,
    term: int,
    start_date: date,
    first_due_on: date | None,
    rounding: Rounding,
) -> list[Instalment]:
    due_on = first_due_on or add_months(start_date, term)
    if first_due_on is None:
        interest = round_fen(Decimal(principal_fen) * annual_rate * term / MONTHS_IN_YEAR, rounding)
    else:
        interest = round_fen(
            _period_interest(principal_fen, annual_rate, (due_on - start_date).days), rounding
        )
    return [Instalment(1, due_on, principal_fen, interest, 0)]
