"""The China working calendar: statutory holidays and make-up workdays (调休) from `chinese-calendar`.

Pure functions; "now" is always a parameter (only `business_today`, for routes, jobs and the CLI,
reads the clock). A date in a year neither the package nor the policy knows is a
`CalendarUnknownYear` error, never a silent weekend-only guess. The policy builds the calendar with
its extra days (`core.policy.calendar_from_policy`); this module imports no policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from chinese_calendar import constants as _cc

from lenddesk.core.errors import Unprocessable

SHANGHAI = ZoneInfo("Asia/Shanghai")
_PACKAGE_YEARS = range(min(_cc.holidays).year, max(_cc.holidays).year + 1)


class CalendarUnknownYear(Unprocessable):
    default_code = "calendar_year_unknown"


@dataclass(frozen=True)
class WorkCalendar:
    """Working days: the package's data plus any days operations added in the policy file."""

    extra_holidays: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)
    extra_known_years: frozenset[int] = field(default_factory=frozenset)

    def known_year(self, year: int) -> bool:
        return year in _PACKAGE_YEARS or year in self.extra_known_years

    def is_workday(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        if day.year in _PACKAGE_YEARS:
            return bool(chinese_calendar.is_workday(day))
        if day.year in self.extra_known_years:
            return day.weekday() < 5
        raise CalendarUnknownYear(
            f"{day.year} 年的法定节假日安排未知，请在策略文件 [calendar] 中补充",
            f"The China holiday schedule for {day.year} is not known; "
            "add it under [calendar] in the policy file",
            details={"date": day.isoformat()},
        )

    def next_workday(self, day: date) -> date:
        """The first workday on or after `day`."""
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def add_workdays(self, day: date, count: int) -> date:
        """The date `count` workdays after `day` (count >= 0; day itself need not be a workday)."""
        if count < 0:
            raise ValueError("count must be >= 0")
        while count:
            day += timedelta(days=1)
            if self.is_workday(day):
                count -= 1
        return day

    def workdays_between(self, start: date, end: date) -> int:
        """Workdays in the half-open range (start, end]."""
        days = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            days += self.is_workday(day)
        return days


DEFAULT_CALENDAR = WorkCalendar()


@dataclass(frozen=True)
class ServiceHours:
    """Daily opening hours on workdays (or every day for a 7×24 team) in Shanghai time."""

    opens: time = time(9, 0)
    closes: time = time(18, 0)
    workdays_only: bool = True

    def __post_init__(self) -> None:
        if self.closes <= self.opens:
            raise ValueError("service hours must close after they open")

    @property
    def minutes_per_day(self) -> int:
        return (self.closes.hour * 60 + self.closes.minute) - (self.opens.hour * 60 + self.opens.minute)


def to_shanghai(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime; pass an aware datetime")
    return moment.astimezone(SHANGHAI)


def business_date(moment: datetime) -> date:
    """The Shanghai calendar date of an instant."""
    return to_shanghai(moment).date()


def business_today() -> date:
    """Today's business date: the Asia/Shanghai calendar date now (for the edges: routes, jobs, the CLI)."""
    return business_date(datetime.now(UTC))


def _is_open_day(day: date, hours: ServiceHours, calendar: WorkCalendar) -> bool:
    return calendar.is_workday(day) if hours.workdays_only else True


def add_business_minutes(
    start: datetime,
    minutes: int,
    hours: ServiceHours,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> datetime:
    """The instant `minutes` of service time after `start`, counted only inside service hours.

    The result always lies inside service hours (a deadline that lands exactly at closing time is
    kept at closing time, not moved to the next morning). Returns an aware UTC datetime.
    """
    if minutes < 0:
        raise ValueError("minutes must be >= 0")
    local = to_shanghai(start)
    day = local.date()
    cursor = max(local.replace(tzinfo=None), datetime.combine(day, hours.opens))
    remaining = minutes
    while True:
        closes = datetime.combine(day, hours.closes)
        if _is_open_day(day, hours, calendar) and cursor < closes:
            available = int((closes - cursor).total_seconds() // 60)
            if remaining <= available:
                return (cursor + timedelta(minutes=remaining)).replace(tzinfo=SHANGHAI).astimezone(UTC)
            remaining -= available
        day += timedelta(days=1)
        cursor = datetime.combine(day, hours.opens)


def business_minutes_between(
    start: datetime,
    end: datetime,
    hours: ServiceHours,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> int:
    """Service minutes elapsed between two instants (0 if end <= start)."""
    if end <= start:
        return 0
    first, last = to_shanghai(start).replace(tzinfo=None), to_shanghai(end).replace(tzinfo=None)
    total = 0
    day = first.date()
    while day <= last.date():
        if _is_open_day(day, hours, calendar):
            opens = max(datetime.combine(day, hours.opens), first)
            closes = min(datetime.combine(day, hours.closes), last)
            if closes > opens:
                total += int((closes - opens).total_seconds() // 60)
        day += timedelta(days=1)
    return total
