"""SLA deadlines counted in a team's service hours on the China working calendar.

Pure: every instant is a parameter. A target is a number of service minutes; minutes spent waiting
for the customer (pending_customer) are added back, so pausing can only move a deadline later.

When a deadline runs into a year whose statutory holidays are not known yet (neither the
`chinese-calendar` package nor the policy's [calendar] extra_known_years), the deadline is computed
on weekdays only for that year and marked provisional, rather than refusing the ticket; the SLA job
recomputes provisional deadlines once operations add the year to the policy file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from lenddesk.core.calendar import (
    CalendarUnknownYear,
    ServiceHours,
    WorkCalendar,
    add_business_minutes,
    business_minutes_between,
    to_shanghai,
)


class SlaState(StrEnum):
    OK = "ok"
    AT_RISK = "at_risk"
    BREACHED = "breached"


@dataclass(frozen=True)
class TeamHours:
    """A team's service hours; `always_open` (7×24) counts every minute of every day."""

    hours: ServiceHours = field(default_factory=ServiceHours)
    always_open: bool = False

    @classmethod
    def parse(cls, opens: str, closes: str, *, always_open: bool, workdays_only: bool = True) -> TeamHours:
        return cls(ServiceHours(_hhmm(opens), _hhmm(closes), workdays_only), always_open)


def _hhmm(text: str) -> time:
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


@dataclass(frozen=True)
class Deadline:
    at: datetime
    provisional: bool = False


# Statutory holidays with a fixed Gregorian date (元旦, 劳动节, 国庆); the lunar ones cannot be guessed.
_FIXED_HOLIDAYS = ((1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3))


def with_guessed_years(calendar: WorkCalendar, start: datetime) -> WorkCalendar:
    """The calendar with unknown years guessed as weekdays minus the fixed-date holidays.

    Only for SLA and complaint timing, and such deadlines are flagged provisional.
    """
    guessed = {year for year in range(start.year, start.year + 3) if not calendar.known_year(year)}
    holidays = {date(year, month, day) for year in guessed for month, day in _FIXED_HOLIDAYS}
    return WorkCalendar(
        extra_holidays=calendar.extra_holidays | holidays,
        extra_workdays=calendar.extra_workdays,
        extra_known_years=calendar.extra_known_years | guessed,
    )


def add_service_minutes(start: datetime, minutes: int, team: TeamHours, calendar: WorkCalendar) -> Deadline:
    """The instant `minutes` of service time after `start` (UTC, aware)."""
    if team.always_open:
        return Deadline(start.astimezone(UTC) + timedelta(minutes=minutes))
    try:
        return Deadline(add_business_minutes(start, minutes, team.hours, calendar))
    except CalendarUnknownYear:
        guessed = with_guessed_years(calendar, start)
        return Deadline(add_business_minutes(start, minutes, team.hours, guessed), provisional=True)


def service_minutes_between(start: datetime, end: datetime, team: TeamHours, calendar: WorkCalendar) -> int:
    if team.always_open:
        return max(int((end - start).total_seconds() // 60), 0)
    try:
        return business_minutes_between(start, end, team.hours, calendar)
    except CalendarUnknownYear:
        return business_minutes_between(start, end, team.hours, with_guessed_years(calendar, start))


@dataclass(frozen=True)
class Clock:
    """One SLA target on one ticket: when it started, how long it may take, how long it was paused."""

    started_at: datetime
    target_minutes: int
    paused_minutes: int = 0


def deadline(clock: Clock, team: TeamHours, calendar: WorkCalendar) -> Deadline:
    return add_service_minutes(clock.started_at, clock.target_minutes + clock.paused_minutes, team, calendar)


def at_risk_from(clock: Clock, ratio: float, team: TeamHours, calendar: WorkCalendar) -> Deadline:
    """When `ratio` of the target has been used (the at-risk flag goes up from then on)."""
    used = math.ceil(clock.target_minutes * ratio)
    return add_service_minutes(clock.started_at, used + clock.paused_minutes, team, calendar)


def state_at(
    now: datetime, *, due_at: datetime, at_risk_at: datetime, paused: bool, previous: SlaState
) -> SlaState:
    """The flag a ticket shows at `now`. While paused the flag stays where it was."""
    if paused:
        return previous
    if now >= due_at:
        return SlaState.BREACHED
    if now >= at_risk_at:
        return SlaState.AT_RISK
    return SlaState.OK


def pause_length(
    paused_since: datetime, resumed_at: datetime, team: TeamHours, calendar: WorkCalendar
) -> int:
    """Service minutes a pause lasted: the amount a deadline moves later when the clock resumes."""
    return service_minutes_between(paused_since, resumed_at, team, calendar)


def within_service_hours(moment: datetime, team: TeamHours, calendar: WorkCalendar) -> bool:
    """Whether an instant lies inside service hours (closing time itself counts as inside)."""
    if team.always_open:
        return True
    local = to_shanghai(moment)
    if team.hours.workdays_only and not calendar.is_workday(local.date()):
        return False
    return team.hours.opens <= local.time().replace(tzinfo=None) <= team.hours.closes
