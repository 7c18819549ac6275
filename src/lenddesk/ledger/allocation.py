"""Allocation of a payment to what a loan owes, pure.

A payment pays the instalments a borrower may pay on its value date — every instalment already
due and the next one — oldest first, each instalment's components in the product's allocation
order (default 罚息 penalty → 滞纳金 late fee → 利息 interest → 本金 principal). With the
"component" style the order runs across instalments instead: every penalty first (oldest
instalment first), then every late fee, and so on. What is left over becomes a credit balance
that pays the next instalment once it falls due. Money is conserved: allocated + credit = paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal, Protocol, TypeVar

from lenddesk.core.errors import Unprocessable

COMPONENTS = ("penalty", "late_fee", "interest", "principal")
DEFAULT_ORDER = COMPONENTS
COMPONENT_LABELS_ZH = {"penalty": "罚息", "late_fee": "滞纳金", "interest": "利息", "principal": "本金"}
AllocationStyle = Literal["instalment", "component"]


def parse_order(text: str) -> tuple[str, ...]:
    """ "penalty,late_fee,interest,principal" → a tuple naming each component exactly once."""
    order = tuple(part.strip() for part in text.split(",") if part.strip())
    if sorted(order) != sorted(COMPONENTS):
        raise Unprocessable(
            f"还款冲抵顺序须恰好包含 {', '.join(COMPONENTS)} 各一次：{text!r}",
            f"The allocation order must name each of {', '.join(COMPONENTS)} exactly once: {text!r}",
            code="bad_allocation_order",
        )
    return order


@dataclass(frozen=True)
class Due:
    """What is still owed on one instalment, by component (fen)."""

    period: int
    due_on: date
    penalty: int = 0
    late_fee: int = 0
    interest: int = 0
    principal: int = 0
    # Interest already paid on this instalment (the settlement quote caps accrued interest with it).
    interest_paid: int = 0

    @property
    def total(self) -> int:
        return self.penalty + self.late_fee + self.interest + self.principal

    def amount(self, component: str) -> int:
        return int(getattr(self, component))


@dataclass(frozen=True)
class LinePayment:
    period: int
    penalty: int = 0
    late_fee: int = 0
    interest: int = 0
    principal: int = 0

    @property
    def total(self) -> int:
        return self.penalty + self.late_fee + self.interest + self.principal


@dataclass(frozen=True)
class Allocation:
    paid_fen: int
    lines: tuple[LinePayment, ...] = field(default_factory=tuple)
    credit_fen: int = 0

    @property
    def allocated_fen(self) -> int:
        return sum(line.total for line in self.lines)

    def to_json(self) -> list[dict[str, Any]]:
        """The shape stored on the repayment: one entry per instalment paid, then the credit."""
        entries: list[dict[str, Any]] = [
            {"period": line.period, **{name: getattr(line, name) for name in COMPONENTS}}
            for line in self.lines
        ]
        if self.credit_fen:
            entries.append({"credit": self.credit_fen})
        return entries


class _Instalment(Protocol):
    period: int
    due_on: date


InstalmentT = TypeVar("InstalmentT", bound=_Instalment)


def payable_on(dues: Sequence[InstalmentT], value_date: date) -> list[InstalmentT]:
    """The instalments a payment on `value_date` pays: all due by then, and the next one
    (of `Due`s, or of anything with a period and a due date: schedule lines)."""
    ordered = sorted(dues, key=lambda due: (due.due_on, due.period))
    due_by_then = [due for due in ordered if due.due_on <= value_date]
    upcoming = [due for due in ordered if due.due_on > value_date]
    return due_by_then + upcoming[:1]


def allocate(
    amount_fen: int,
    dues: Sequence[Due],
    *,
    order: Sequence[str] = DEFAULT_ORDER,
    style: AllocationStyle = "instalment",
) -> Allocation:
    """Pay `dues` (oldest first) with `amount_fen`; the remainder is credit."""
    if amount_fen < 0:
        raise ValueError("amount must be >= 0")
    ordered = sorted(dues, key=lambda due: (due.due_on, due.period))
    paid: dict[int, dict[str, int]] = {due.period: {} for due in ordered}
    remaining = amount_fen
    if style == "instalment":
        steps = [(due, component) for due in ordered for component in order]
    else:
        steps = [(due, component) for component in order for due in ordered]
    for due, component in steps:
        if remaining == 0:
            break
        take = min(remaining, due.amount(component))
        if take > 0:
            paid[due.period][component] = take
            remaining -= take
    lines = tuple(LinePayment(period, **amounts) for period, amounts in paid.items() if amounts)
    return Allocation(paid_fen=amount_fen, lines=lines, credit_fen=remaining)


def apply(dues: Sequence[Due], allocation: Allocation) -> list[Due]:
    """What is still owed after an allocation (for chaining payments in pure code and tests)."""
    by_period = {line.period: line for line in allocation.lines}
    result = []
    for due in dues:
        line = by_period.get(due.period)
        if line is None:
            result.append(due)
            continue
        result.append(
            replace(
                due,
                **{name: due.amount(name) - getattr(line, name) for name in COMPONENTS},
            )
        )
    return result
