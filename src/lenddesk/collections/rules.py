"""Pure rules of the collections room: the propensity score, the champion/challenger draw, when a
strategy step fires, script rendering, and the report's confidence intervals. No database, no clock."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, time

from lenddesk.core.money import format_fen

# --- propensity score (docs/COLLECTIONS.md "Propensity score") ------------------------------------


@dataclass(frozen=True)
class PropensityInputs:
    ontime_lines: int  # instalments due so far that were paid by their due date
    due_lines: int  # instalments due so far
    days_past_due: int
    paid_last_30d: bool  # any repayment with a value date in the last 30 days
    promises_kept: int
    promises_broken: int


def propensity(inputs: PropensityInputs) -> int:
    """0–100: how likely the borrower is to repay soon, from their own payment history.

    30 + 40 × on-time share (50 % when nothing was due yet) − days past due ÷ 3 (at most 30)
    + 15 if they paid anything in the last 30 days + 10 per kept promise (at most 20)
    − 10 per broken promise (at most 30); clamped to 5 … 95. The SQL in `service/plan.py`
    computes the same in integer arithmetic; a test holds the two together.
    """
    share_permille = inputs.ontime_lines * 1000 // inputs.due_lines if inputs.due_lines else 500
    score = (
        30
        + 40 * share_permille // 1000
        - min(inputs.days_past_due // 3, 30)
        + (15 if inputs.paid_last_30d else 0)
        + min(10 * inputs.promises_kept, 20)
        - min(10 * inputs.promises_broken, 30)
    )
    return max(5, min(95, score))


def risk_segment(score: int) -> str:
    """high risk below 35, low risk from 65."""
    return "high" if score < 35 else ("low" if score >= 65 else "medium")


def expected_recovery_fen(overdue_fen: int, score: int) -> int:
    return overdue_fen * score // 100


# --- champion / challenger ------------------------------------------------------------------------


def draws_challenger(borrower_id: int, percent: int) -> bool:
    """The recorded draw: a multiplicative hash of the id, uniform over 0–99 (the SQL does the same)."""
    return (borrower_id * 2654435761) % 4294967296 % 100 < percent


# --- strategy steps -------------------------------------------------------------------------------


def step_fires(day: int, until_day: int | None, every: int | None, offset: int) -> bool:
    """Whether a step at `day` (repeating `every` n days up to `until_day`) fires at `offset`
    (days before the due date as negatives, days past due as positives)."""
    if until_day is None or every is None:
        return offset == day
    return day <= offset <= until_day and (offset - day) % every == 0


def parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


# --- scripts (话术) --------------------------------------------------------------------------------

VARIABLES = ("name", "amount", "due_date", "contract_number", "repayment_channels", "hotline", "lender")
_VARIABLE = re.compile(r"\{([a-z_]+)\}")


def unknown_variables(template: str) -> list[str]:
    return sorted({name for name in _VARIABLE.findall(template) if name not in VARIABLES})


def render(template: str, values: dict[str, str]) -> str:
    """Fill `{name}`, `{amount}` … ; an unknown variable stays as written."""
    return _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def script_values(
    *,
    name: str,
    amount_fen: int | None,
    due_on: date | None,
    contract_number: str | None,
    repayment_channels: str,
    hotline: str,
    lender: str,
) -> dict[str, str]:
    return {
        "name": name,
        "amount": f"{format_fen(amount_fen, thousands=True)}元" if amount_fen is not None else "",
        "due_date": f"{due_on.year}年{due_on.month}月{due_on.day}日" if due_on else "",
        "contract_number": contract_number or "",
        "repayment_channels": repayment_channels,
        "hotline": hotline,
        "lender": lender,
    }


def sample_values(repayment_channels: str, hotline: str, lender: str) -> dict[str, str]:
    """What a template is checked with when saved: long, realistic values for every variable."""
    return script_values(
        name="欧阳先生",
        amount_fen=12_345_678,
        due_on=date(2026, 12, 31),
        contract_number="HT2026123100012345",
        repayment_channels=repayment_channels,
        hotline=hotline,
        lender=lender,
    )


# --- the report's statistics ----------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    hits: int
    total: int
    low: float
    high: float

    @property
    def value(self) -> float:
        return self.hits / self.total if self.total else 0.0


def wilson(hits: int, total: int, z: float = 1.96) -> Rate:
    """The rate with its 95 % Wilson score interval (sound for small counts and for 0 or 100 %)."""
    if total <= 0:
        return Rate(0, 0, 0.0, 0.0)
    share = hits / total
    denominator = 1 + z * z / total
    centre = (share + z * z / (2 * total)) / denominator
    margin = z * math.sqrt(share * (1 - share) / total + z * z / (4 * total * total)) / denominator
    return Rate(hits, total, max(0.0, centre - margin), min(1.0, centre + margin))
