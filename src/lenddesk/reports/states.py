"""Report states of a loan at a month end, and months as report periods — pure.

A loan's state at a date is `settled` if it was settled on or before it, `WO` if written off on
or before it, else the bucket it was in at the close of that date (M0 if it never left). Buckets
past M6 are reported together as `M6+`. States compare by number, never as strings ("M10" < "M2").
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from lenddesk.core.errors import Unprocessable

BUCKETS = ("M0", "M1", "M2", "M3", "M4", "M5", "M6+")
SETTLED = "settled"
WRITTEN_OFF = "WO"
STATES = (*BUCKETS, SETTLED, WRITTEN_OFF)
CLOSED_STATES = frozenset({SETTLED, WRITTEN_OFF})
_BUCKET = re.compile(r"^M([0-9]+)\+?$")
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")


def bucket_number(bucket: str) -> int:
    """M0 → 0, M3 → 3, M7+ → 7; anything else is not a delinquency bucket (ValueError)."""
    match = _BUCKET.match(bucket)
    if match is None:
        raise ValueError(f"not a bucket: {bucket!r}")
    return int(match.group(1))


def report_bucket(bucket: str) -> str:
    """The bucket as reports show it: M0 … M5, then M6+ for M6 and beyond."""
    number = bucket_number(bucket)
    return BUCKETS[min(number, len(BUCKETS) - 1)]


def report_state(status: str, bucket: str) -> str:
    """The report state of a loan from its ledger status and bucket."""
    if status == "settled":
        return SETTLED
    if status == "written_off" or bucket == WRITTEN_OFF:
        return WRITTEN_OFF
    return report_bucket(bucket)


def state_rank(state: str) -> int:
    """Order of states in tables: M0 … M6+, then settled, then WO."""
    return STATES.index(state)


# -- months --------------------------------------------------------------------------------------


def parse_month(text: str) -> str:
    """'2026-05' (or a date '2026-05-17', which names its month) → '2026-05'; 422 otherwise."""
    candidate = text.strip()[:7] if len(text.strip()) in (7, 10) else text
    match = _MONTH.match(candidate)
    if match is None or not 1 <= int(match.group(2)) <= 12 or not 1900 <= int(match.group(1)) <= 2199:
        raise Unprocessable(
            f"月份格式应为 YYYY-MM（1900–2199）：{text[:20]}",
            f"A month is written YYYY-MM (1900–2199): {text[:20]}",
        )
    return candidate


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_end(month: str) -> date:
    year, number = int(month[:4]), int(month[5:7])
    return date(year, number, calendar.monthrange(year, number)[1])


def is_month_end(day: date) -> bool:
    return day == month_end(month_of(day))


def shift_month(month: str, months: int) -> str:
    index = int(month[:4]) * 12 + int(month[5:7]) - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    """Every month from `first` to `last`, both included (empty when `first` is later)."""
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = shift_month(month, 1)
    return months


def months_on_book(cohort: str, month: str) -> int:
    """MOB: 0 in the disbursement month, 1 the month after, …"""
    return (int(month[:4]) - int(cohort[:4])) * 12 + int(month[5:7]) - int(cohort[5:7])
