"""Service hours of a channel (R2.7): open now, and when a person answers next (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from lenddesk.core.calendar import SHANGHAI, CalendarUnknownYear, WorkCalendar, to_shanghai


@dataclass(frozen=True)
class ChannelHours:
    opens: time
    closes: time
    every_day: bool = False  # False: China workdays only (statutory holidays off, make-up days on)
    always_open: bool = False

    @classmethod
    def parse(
        cls, opens: str, closes: str, *, every_day: bool = False, always_open: bool = False
    ) -> ChannelHours:
        return cls(_hhmm(opens), _hhmm(closes), every_day, always_open)

    def label(self) -> str:
        if self.always_open:
            return "7×24 小时"
        days = "每天" if self.every_day else "工作日"
        return f"{days} {self.opens:%H:%M}–{self.closes:%H:%M}"


def _hhmm(text: str) -> time:
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def _open_day(day: date, hours: ChannelHours, calendar: WorkCalendar) -> bool:
    if hours.every_day:
        return True
    try:
        return calendar.is_workday(day)
    except CalendarUnknownYear:  # a year the calendar does not know yet: weekdays
        return day.weekday() < 5


def is_open(now: datetime, hours: ChannelHours, calendar: WorkCalendar) -> bool:
    if hours.always_open:
        return True
    local = to_shanghai(now)
    return _open_day(local.date(), hours, calendar) and hours.opens <= local.time() < hours.closes


def next_opening(now: datetime, hours: ChannelHours, calendar: WorkCalendar) -> datetime:
    """`now` when open, else the next instant the channel opens (UTC)."""
    if is_open(now, hours, calendar):
        return now
    local = to_shanghai(now)
    day = local.date()
    if local.time() >= hours.opens:
        day += timedelta(days=1)
    for _ in range(60):  # the longest statutory break is about ten days
        if _open_day(day, hours, calendar):
            return datetime.combine(day, hours.opens, tzinfo=SHANGHAI).astimezone(UTC)
        day += timedelta(days=1)
    raise ValueError("no opening within 60 days")
