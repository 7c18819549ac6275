"""The annual cost cap as the law counts it, and the annualised rate of a loan's cash flows, pure.

The cap: interest + penalties (罚息) + every fee (滞纳金, early repayment fee) charged on a loan never
exceed the cap rate applied to the principal *actually outstanding*, day by day:

    cap on day D = ⌊ cap × Σ over the days since disbursement of the principal outstanding / 365 ⌋

The sum ("principal-days", fen × days) is kept per loan without touching the loan every day: every
fen of principal repaid on value date v adds (v − disbursed) to `principal_days_repaid`, and the
principal still outstanding counts every day up to D:

    principal-days(D) = principal_days_repaid + outstanding principal × (D − disbursed)

A loan never repaid gets exactly the old cap (principal × days); an amortising loan gets a cap that
shrinks with its balance. Everything is integer arithmetic so SQL (ledger/cob.py) agrees to the fen.

The disclosure: the annualised rate of a loan's cash flows by the IRR method (PBoC announcement
[2021] No. 3): the daily rate r that makes the present value of every cash flow zero
(disbursement out, repayments in, what is still owed as projected), annualised as r × 365 (the
period rate × periods a year). Cash flows that respect the cap above never give more than the cap
(docs/LEDGER.md, "Cost cap").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import ROUND_FLOOR, Decimal

from lenddesk.core.errors import Unprocessable

CAP_SCALE = 10**6
DAYS_IN_YEAR = 365


def principal_days(
    repaid_principal_days: int, outstanding_principal_fen: int, disbursed_on: date, on: date
) -> int:
    """Σ of the principal outstanding over each day from disbursement to `on` (fen × days)."""
    return repaid_principal_days + outstanding_principal_fen * max((on - disbursed_on).days, 0)


def cap_on(principal_days_fen: int, cap_ppm: int) -> int:
    """The most interest + penalties + fees may reach on that many principal-days, rounded down."""
    if principal_days_fen <= 0:
        return 0
    return principal_days_fen * cap_ppm // (DAYS_IN_YEAR * CAP_SCALE)


def headroom_fen(
    *,
    cap_ppm: int,
    principal_days_now: int,
    on: date,
    cost_fen: int,
    future: Iterable[tuple[date, int, int]] = (),
) -> int:
    """How much more may be charged on `on` when `cost_fen` is already charged (may be negative).

    The room under today's cap, and under the cap of every later due date once that instalment's
    contractual interest has fallen due too. `future` lists the instalments due after `on` as
    (due date, principal still unpaid, interest); the projection repays each on its due date (the
    smallest principal-days the schedule allows), so a charge today never pushes the cost above
    the cap when later interest falls due.
    """
    room = cap_on(principal_days_now, cap_ppm) - cost_fen
    lines = sorted(future)
    remaining = sum(principal for _, principal, _ in lines)
    basis, day, interest_to_come = principal_days_now, on, 0
    for due_on, principal, interest in lines:
        basis += remaining * (due_on - day).days
        interest_to_come += interest
        room = min(room, cap_on(basis, cap_ppm) - cost_fen - interest_to_come)
        remaining, day = remaining - principal, due_on
    return room


def effective_cap(product_cap: Decimal, legal_cap: Decimal) -> Decimal:
    """A product may cap lower than the policy's legal cap, never higher."""
    return min(Decimal(product_cap), Decimal(legal_cap))


def check_contract_rate(annual_rate: Decimal, product_cap: Decimal, legal_cap: Decimal) -> None:
    """Refuse a product or loan whose contract rate alone, or whose cap, breaks the legal cap."""
    if Decimal(product_cap) > Decimal(legal_cap):
        raise Unprocessable(
            f"产品综合成本上限 {_percent(product_cap)} 超过法定上限 {_percent(legal_cap)}",
            f"The product's annual cost cap {_percent(product_cap)} exceeds the legal cap"
            f" {_percent(legal_cap)}",
            code="cost_cap_above_legal",
            details={"annual_cost_cap": str(product_cap), "legal_cap": str(legal_cap)},
        )
    cap = effective_cap(product_cap, legal_cap)
    if Decimal(annual_rate) > cap:
        raise Unprocessable(
            f"合同年利率 {_percent(annual_rate)} 超过综合成本年化上限 {_percent(cap)}",
            f"The contract rate {_percent(annual_rate)} alone exceeds the annual cost cap {_percent(cap)}",
            code="rate_above_cost_cap",
            details={"annual_rate": str(annual_rate), "annual_cost_cap": str(cap)},
        )


def _percent(rate: Decimal) -> str:
    return f"{(Decimal(rate) * 100).normalize():f}%"


# -- the annualised rate of cash flows (IRR) -----------------------------------------------------

IRR_PLACES = Decimal("0.000001")
_LOW, _HIGH = -1.0, 10.0  # annual rates searched: -100 % … 1000 %


def net_present_value(flows: Sequence[tuple[int, int]], annual_rate: float) -> float:
    """Σ amount / (1 + rate/365)^day over (day offset, amount) flows."""
    daily = 1.0 + annual_rate / DAYS_IN_YEAR
    return sum(amount * daily ** (-day) for day, amount in flows)


def annualised_irr(flows: Iterable[tuple[date, int]]) -> Decimal | None:
    """The daily IRR × 365 of dated cash flows in fen (the lender's view: out < 0, in > 0).

    None when there is no rate between -100 % and 1000 % a year at which the flows balance (e.g.
    nothing disbursed, or nothing received yet). Bisection: the present value of a loan's flows
    (one disbursement, then receipts) falls as the rate rises, so the root is unique.
    """
    dated = sorted(flows)
    if not dated:
        return None
    start = dated[0][0]
    by_day: dict[int, int] = {}
    for day, amount in dated:
        offset = (day - start).days
        by_day[offset] = by_day.get(offset, 0) + amount
    offsets = sorted((day, amount) for day, amount in by_day.items() if amount)
    low, high = _LOW, _HIGH
    npv_low, npv_high = net_present_value(offsets, low), net_present_value(offsets, high)
    if npv_low == 0:
        return Decimal(low).quantize(IRR_PLACES)
    if (npv_low > 0) == (npv_high > 0):
        return None
    for _ in range(200):
        middle = (low + high) / 2
        npv = net_present_value(offsets, middle)
        if (npv > 0) == (npv_low > 0):
            low, npv_low = middle, npv
        else:
            high = middle
        if high - low < 1e-12:
            break
    return Decimal(repr((low + high) / 2)).quantize(IRR_PLACES)


def loan_cash_flows(
    *,
    principal_fen: int,
    disbursed_on: date,
    receipts: Iterable[tuple[date, int]],
    still_owed: Iterable[tuple[date, int]],
    credit_fen: int,
    today: date,
) -> list[tuple[date, int]]:
    """A loan's cash flows for the disclosure: the disbursement out, every repayment received in,
    and what is still owed on each instalment as projected — on its due date, or today when it is
    already past due — less the credit balance, which pays the earliest of them."""
    flows = [(disbursed_on, -principal_fen), *receipts]
    credit = credit_fen
    for due_on, owed in sorted(still_owed):
        used = min(credit, owed)
        credit -= used
        if owed - used > 0:
            flows.append((max(due_on, today), owed - used))
    if credit > 0:  # more credit than is owed: refunded today
        flows.append((today, -credit))
    return flows


def cap_ppm_of(product_cap: Decimal, legal_cap: Decimal) -> int:
    """The cap that applies to a product, in millionths, rounded down."""
    return int((effective_cap(product_cap, legal_cap) * CAP_SCALE).to_integral_value(rounding=ROUND_FLOOR))
