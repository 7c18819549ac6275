"""Delinquency rules of the daily close of business, pure: buckets, penalty interest (罚息),
late fees (滞纳金), the annual cost cap and write-off.

Every amount is integer fen and every rate an exact integer in a fixed scale, so that the SQL
close of business (`ledger/cob.py`) computes exactly the same figures on SQLite and PostgreSQL,
and `close_loan_day` below — the rule for one loan on one day — is its reference:

- a daily penalty rate is held in units of 1e-10 (`RATE_SCALE`);
- a late-fee percentage and contract rates in units of 1e-8 (`PERCENT_SCALE`, the precision of
  the rate columns);
- the annual cost cap in units of 1e-6 (`CAP_SCALE`), rounded down.

Conventions (docs/LEDGER.md, "Close of business"):
- days past due (dpd) on business date D = D − due date of the oldest instalment not fully paid
  (0 on the due date itself);
- during the grace period (dpd 1…grace_days) nothing is charged; from dpd grace_days + 1 the
  penalty accrues every day on the overdue base, and the late fee is charged once per instalment
  on that first day after grace;
- the cost cap (`ledger/costcap.py`): penalties and fees are charged only while interest fallen
  due + penalties + fees (early repayment fees included) stay within cap × the principal-days
  actually outstanding / 365 — today and at every later due date once that instalment's interest
  has fallen due as well; the excess is not charged. The cap is the product's, never above the
  policy's `ledger.annual_cost_cap`. Contractual interest itself is never clipped (a contract
  rate above the cap is refused when the product or loan is created).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Literal

from lenddesk.core.money import Rounding
from lenddesk.ledger import owed as owed_rule
from lenddesk.ledger.costcap import CAP_SCALE, DAYS_IN_YEAR, cap_on, headroom_fen, principal_days

RATE_SCALE = 10**10
PERCENT_SCALE = 10**8

WRITTEN_OFF_BUCKET = "WO"
CURRENT_BUCKET = "M0"
ACTIVE_STATUSES = ("current", "overdue")

PenaltyBase = Literal["principal", "principal_and_interest"]


def divide_rounded(numerator: int, denominator: int, rounding: Rounding = "half_up") -> int:
    """numerator / denominator rounded to an integer (both non-negative, denominator > 0)."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and (rounding == "half_up" or quotient % 2 == 1)):
        return quotient + 1
    return quotient


def scaled(value: Decimal, scale: int, *, round_down: bool = False) -> int:
    """An exact decimal rate as an integer number of 1/scale units."""
    mode = ROUND_FLOOR if round_down else ROUND_HALF_UP
    return int((Decimal(value) * scale).to_integral_value(rounding=mode))


# -- a loan's standing: status, bucket and days past due -----------------------------------------
#
# The one rule that decides a loan's status and bucket. Postings, reversals and the close of
# business all call `loan_standing`; the close of business runs the same bands as SQL CASEs built
# by `standing_case_sql`, so the two cannot drift apart.


@dataclass(frozen=True)
class Band:
    """An open loan up to `max_days` past due (None: any number beyond) has this status and bucket."""

    max_days: int | None
    status: str
    bucket: str


@dataclass(frozen=True)
class Standing:
    status: str
    bucket: str
    days_past_due: int


def standing_bands(
    upper_bounds: Sequence[int], write_off_after_days: int, *, write_off: bool = True
) -> tuple[Band, ...]:
    """The thresholds in order: current at 0 days, then M1 … up to each bound, then the open bucket.

    With `write_off` (the close of business), every day beyond `write_off_after_days` is written off.
    """
    bands = [
        Band(0, "current", CURRENT_BUCKET),
        *(Band(bound, "overdue", f"M{index}") for index, bound in enumerate(upper_bounds, start=1)),
        Band(None, "overdue", f"M{len(upper_bounds) + 1}+"),
    ]
    if not write_off:
        return tuple(bands)
    kept = [band for band in bands if band.max_days is not None and band.max_days < write_off_after_days]
    reaching = bands[len(kept)]
    return (
        *kept,
        Band(write_off_after_days, reaching.status, reaching.bucket),
        Band(None, "written_off", WRITTEN_OFF_BUCKET),
    )


def loan_standing(
    days_past_due: int,
    rules: DelinquencyRules,
    *,
    owes: bool = True,
    written_off: bool = False,
    write_off: bool = False,
) -> Standing:
    """Status and bucket of a loan `days_past_due` past due; settled when it owes nothing.

    A written-off loan stays written off (only a recovery changes that, never days past due).
    Writing a loan off is the close of business's act (`write_off=True`): a posting or reversal
    leaves a loan past `write_off_after_days` in the open bucket, and that night's close writes it off.
    """
    if written_off:
        return Standing("written_off", WRITTEN_OFF_BUCKET, max(days_past_due, 0))
    if not owes:
        return Standing("settled", CURRENT_BUCKET, 0)
    days = max(days_past_due, 0)
    bands = _bands(tuple(rules.bucket_upper_bounds), rules.write_off_after_days, write_off)
    band = next(band for band in bands if band.max_days is None or days <= band.max_days)
    return Standing(band.status, band.bucket, days)


@lru_cache(maxsize=64)
def _bands(upper_bounds: tuple[int, ...], write_off_after_days: int, write_off: bool) -> tuple[Band, ...]:
    return standing_bands(upper_bounds, write_off_after_days, write_off=write_off)


def standing_case_sql(rules: DelinquencyRules, *, days: str, settled_when: str) -> tuple[str, str]:
    """SQL CASE expressions (status, bucket) over the column `days` that equal `loan_standing` with
    `write_off=True` (the close of business); `settled_when` is the SQL condition for owing nothing."""
    bands = standing_bands(rules.bucket_upper_bounds, rules.write_off_after_days, write_off=True)

    def case(attribute: str) -> str:
        settled = "settled" if attribute == "status" else CURRENT_BUCKET
        parts = [f"WHEN {settled_when} THEN '{settled}'"]
        parts += [
            f"WHEN {days} <= {band.max_days} THEN '{getattr(band, attribute)}'"
            for band in bands
            if band.max_days is not None
        ]
        return f"CASE {' '.join(parts)} ELSE '{getattr(bands[-1], attribute)}' END"

    return case("status"), case("bucket")


def bucket_labels(upper_bounds: Sequence[int]) -> list[str]:
    """["M0", "M1", …, "M<n>", "M<n+1>+"] for n upper bounds."""
    return ["M0", *(f"M{index}" for index in range(1, len(upper_bounds) + 1)), f"M{len(upper_bounds) + 1}+"]


# -- charges -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChargeTerms:
    """A product's delinquency terms in exact integer units (see the module docstring)."""

    grace_days: int
    penalty_mode: Literal["daily", "multiple"]
    penalty_daily_rate_e10: int
    penalty_multiple_e8: int
    late_fee_fixed_fen: int
    late_fee_percent_e8: int
    cost_cap_ppm: int

    @classmethod
    def of_product(cls, product: object) -> ChargeTerms:
        """From anything with the Product columns (an ORM row or a plain object)."""
        return cls(
            grace_days=int(product.grace_days),  # type: ignore[attr-defined]
            penalty_mode=product.penalty_mode,  # type: ignore[attr-defined]
            penalty_daily_rate_e10=scaled(product.penalty_daily_rate, RATE_SCALE),  # type: ignore[attr-defined]
            penalty_multiple_e8=scaled(product.penalty_multiple, PERCENT_SCALE),  # type: ignore[attr-defined]
            late_fee_fixed_fen=int(product.late_fee_fixed_fen),  # type: ignore[attr-defined]
            late_fee_percent_e8=scaled(product.late_fee_percent, PERCENT_SCALE),  # type: ignore[attr-defined]
            cost_cap_ppm=scaled(product.annual_cost_cap, CAP_SCALE, round_down=True),  # type: ignore[attr-defined]
        )


def daily_penalty_rate_e10(terms: ChargeTerms, annual_rate_e8: int, rounding: Rounding = "half_up") -> int:
    """The daily penalty rate: the product's daily rate, or multiple × contract rate / 365."""
    if terms.penalty_mode == "multiple":
        # e8 × e8 = e16; / 1e6 gives e10
        return divide_rounded(terms.penalty_multiple_e8 * annual_rate_e8, DAYS_IN_YEAR * 10**6, rounding)
    return terms.penalty_daily_rate_e10


def penalty_for_day(base_fen: int, rate_e10: int, rounding: Rounding = "half_up") -> int:
    return divide_rounded(base_fen * rate_e10, RATE_SCALE, rounding) if base_fen > 0 else 0


def late_fee_fen(instalment_fen: int, terms: ChargeTerms, rounding: Rounding = "half_up") -> int:
    """Fixed amount plus a percentage of the instalment (principal + interest)."""
    return terms.late_fee_fixed_fen + divide_rounded(
        instalment_fen * terms.late_fee_percent_e8, PERCENT_SCALE, rounding
    )


def cost_cap_fen(principal_fen: int, cap_ppm: int, elapsed_days: int) -> int:
    """The cap after `elapsed_days` on a principal outstanding all along, rounded down."""
    return cap_on(principal_fen * max(elapsed_days, 0), cap_ppm)


def cost_headroom_fen(
    loan: LoanState, lines: Sequence[LineState], cap_ppm: int, day: date, cost_fen: int
) -> int:
    """How much penalty and fees may still be charged on `day` when `cost_fen` is already charged.

    The room left under today's cap on the principal-days actually outstanding, but also under the
    cap of every later due date once that instalment's contractual interest has fallen due too
    (`costcap.headroom_fen`): a penalty charged today must not push the total above the cap when
    the next interest falls due.
    """
    future = [
        (line.due_on, line.principal_fen - line.paid_principal_fen, line.interest_fen)
        for line in lines
        if line.due_on > day
    ]
    return headroom_fen(
        cap_ppm=cap_ppm, principal_days_now=loan.principal_days(day), on=day, cost_fen=cost_fen, future=future
    )


def clip_to_headroom(wanted: Sequence[tuple[int, int]], headroom: int) -> list[tuple[int, int]]:
    """(late fee, penalty) per instalment, oldest first, cut so that their sum stays ≤ headroom.

    The late fee of an instalment comes before its penalty; what does not fit is not charged.
    """
    charged = []
    room = max(headroom, 0)
    for fee, penalty in wanted:
        fee_charged = min(fee, room)
        room -= fee_charged
        penalty_charged = min(penalty, room)
        room -= penalty_charged
        charged.append((fee_charged, penalty_charged))
    return charged


# -- one loan, one day ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DelinquencyRules:
    bucket_upper_bounds: tuple[int, ...] = (30, 60, 90, 120, 150, 180)
    write_off_after_days: int = 180
    penalty_base: PenaltyBase = "principal"
    rounding: Rounding = "half_up"
    # The legal annual cost cap (policy `ledger.annual_cost_cap`); a product may only cap lower.
    cost_cap_ppm: int = 240_000

    @classmethod
    def from_policy(cls, policy: object) -> DelinquencyRules:
        """From a `lenddesk.core.policy.Policy`."""
        ledger = policy.ledger  # type: ignore[attr-defined]
        return cls(
            bucket_upper_bounds=tuple(ledger.bucket_upper_bounds),
            write_off_after_days=ledger.write_off_after_days,
            penalty_base=ledger.penalty_base,
            rounding=policy.money.rounding,  # type: ignore[attr-defined]
            cost_cap_ppm=scaled(ledger.annual_cost_cap, CAP_SCALE, round_down=True),
        )

    def cap_ppm(self, terms: ChargeTerms) -> int:
        """The cap that applies to a product: its own, never above the legal one."""
        return min(terms.cost_cap_ppm, self.cost_cap_ppm)


@dataclass(frozen=True)
class LineState:
    period: int
    due_on: date
    principal_fen: int
    interest_fen: int
    penalty_fen: int = 0
    late_fee_fen: int = 0
    paid_principal_fen: int = 0
    paid_interest_fen: int = 0
    paid_penalty_fen: int = 0
    paid_late_fee_fen: int = 0
    waived_penalty_fen: int = 0
    waived_late_fee_fen: int = 0
    waived_interest_fen: int = 0
    paid_off_on: date | None = None

    @property
    def owed_fen(self) -> int:
        return owed_rule.owed_fen(self)

    @property
    def owed_principal_and_interest_fen(self) -> int:
        return owed_rule.owed_fen(self, ("interest", "principal"))

    def penalty_base_fen(self, base: PenaltyBase) -> int:
        owed_principal = self.principal_fen - self.paid_principal_fen
        if base == "principal":
            return owed_principal
        return owed_principal + self.interest_fen - self.paid_interest_fen - self.waived_interest_fen


@dataclass(frozen=True)
class LoanState:
    principal_fen: int
    annual_rate_e8: int
    disbursed_on: date
    status: str
    days_past_due: int
    bucket: str
    oldest_unpaid_due_on: date | None
    next_due_on: date | None
    cost_charged_fen: int
    settled_on: date | None = None
    written_off_on: date | None = None
    # What the cap counts besides `cost_charged_fen` (costcap): None = never repaid (the principal).
    outstanding_principal_fen: int | None = None
    principal_days_repaid: int = 0
    early_repayment_fees_fen: int = 0

    def principal_days(self, day: date) -> int:
        outstanding = (
            self.principal_fen if self.outstanding_principal_fen is None else self.outstanding_principal_fen
        )
        return principal_days(self.principal_days_repaid, outstanding, self.disbursed_on, day)


@dataclass(frozen=True)
class DayClose:
    """What one close of business does to one loan."""

    loan: LoanState
    lines: list[LineState]
    interest_due_fen: int
    late_fee_fen: int
    penalty_fen: int
    cap_excess_fen: int
    transition: tuple[str, str] | None = None
    changed_periods: list[int] = field(default_factory=list)


def needs_close(loan: LoanState, day: date) -> bool:
    """Whether the close of business of `day` touches this loan at all (most loans: no)."""
    if loan.status == "overdue":
        return True
    if loan.status != "current":
        return False
    overdue = loan.oldest_unpaid_due_on is not None and loan.oldest_unpaid_due_on < day
    falls_due = loan.next_due_on is not None and loan.next_due_on <= day
    return overdue or falls_due


def close_loan_day(
    loan: LoanState,
    lines: Sequence[LineState],
    terms: ChargeTerms,
    day: date,
    rules: DelinquencyRules,
) -> DayClose | None:
    """The close of business of `day` for one loan; None when the loan is not touched."""
    if not needs_close(loan, day) or not lines:
        return None
    lines = sorted(lines, key=lambda line: line.period)
    interest_due = 0
    if loan.next_due_on is not None:
        interest_due = sum(line.interest_fen for line in lines if loan.next_due_on <= line.due_on <= day)
    later = [line.due_on for line in lines if line.due_on > day]
    next_due_on = min(later) if later else None
    owed = [line for line in lines if line.owed_fen > 0]
    oldest = min((line.due_on for line in owed), default=None)
    dpd = (day - oldest).days if oldest is not None and oldest < day else 0

    # The cost so far, recounted from the lines: interest of every instalment due by `day` (paid
    # early or not), penalties and late fees charged before today.
    charged_before = sum(
        line.penalty_fen + line.late_fee_fen + (line.interest_fen if line.due_on <= day else 0)
        for line in lines
    )
    charged: list[tuple[int, int]] = [(0, 0)] * len(lines)
    wanted_total = 0
    standing = loan_standing(dpd, rules, owes=bool(owed), write_off=True)
    status, bucket, dpd = standing.status, standing.bucket, standing.days_past_due
    if status == "overdue":
        wanted = [_wanted_charges(line, terms, loan.annual_rate_e8, day, rules) for line in lines]
        wanted_total = sum(fee + penalty for fee, penalty in wanted)
        cost = charged_before + loan.early_repayment_fees_fen
        headroom = cost_headroom_fen(loan, lines, rules.cap_ppm(terms), day, cost)
        charged = clip_to_headroom(wanted, headroom)

    fees = sum(fee for fee, _ in charged)
    penalties = sum(penalty for _, penalty in charged)
    new_lines = [
        replace(line, late_fee_fen=line.late_fee_fen + fee, penalty_fen=line.penalty_fen + penalty)
        for line, (fee, penalty) in zip(lines, charged, strict=True)
    ]
    new_loan = replace(
        loan,
        status=status,
        days_past_due=dpd,
        bucket=bucket,
        oldest_unpaid_due_on=oldest,
        next_due_on=None if status in ("settled", "written_off") else next_due_on,
        cost_charged_fen=charged_before + fees + penalties,
        settled_on=(max((line.paid_off_on for line in lines if line.paid_off_on), default=day))
        if status == "settled"
        else loan.settled_on,
        written_off_on=day if status == "written_off" else loan.written_off_on,
    )
    return DayClose(
        loan=new_loan,
        lines=new_lines,
        interest_due_fen=interest_due,
        late_fee_fen=fees,
        penalty_fen=penalties,
        cap_excess_fen=wanted_total - fees - penalties,
        transition=(loan.bucket, bucket) if bucket != loan.bucket else None,
        changed_periods=[line.period for line, pair in zip(lines, charged, strict=True) if any(pair)],
    )


def _wanted_charges(
    line: LineState, terms: ChargeTerms, annual_rate_e8: int, day: date, rules: DelinquencyRules
) -> tuple[int, int]:
    """(late fee, penalty) this instalment would incur today before the cost cap."""
    if line.due_on >= day - timedelta(days=terms.grace_days) or line.owed_principal_and_interest_fen <= 0:
        return 0, 0
    fee = 0
    if (day - line.due_on).days == terms.grace_days + 1:
        fee = late_fee_fen(line.principal_fen + line.interest_fen, terms, rules.rounding)
    rate = daily_penalty_rate_e10(terms, annual_rate_e8, rules.rounding)
    penalty = penalty_for_day(line.penalty_base_fen(rules.penalty_base), rate, rules.rounding)
    return fee, penalty
