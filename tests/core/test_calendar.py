from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lenddesk.core.calendar import (
    SHANGHAI,
    CalendarUnknownYear,
    ServiceHours,
    WorkCalendar,
    add_business_minutes,
    business_minutes_between,
)

CAL = WorkCalendar()
OFFICE = ServiceHours(time(9), time(18))


def test_statutory_holidays_and_make_up_workdays() -> None:
    assert not CAL.is_workday(date(2026, 10, 1))  # National Day
    assert CAL.is_workday(date(2026, 1, 4))  # Sunday make-up workday after New Year 2026
    assert not CAL.is_workday(date(2026, 11, 28))  # ordinary Saturday


def test_add_workdays_skips_the_golden_week() -> None:
    assert CAL.add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert CAL.is_workday(date(2026, 10, 10))  # Saturday make-up workday after the holiday


def test_unknown_year_is_an_error_not_a_guess() -> None:
    with pytest.raises(CalendarUnknownYear) as caught:
        CAL.is_workday(date(2031, 3, 3))
    assert "2031" in caught.value.message_en


def test_policy_can_extend_known_years() -> None:
    cal = WorkCalendar(extra_known_years=frozenset({2031}), extra_holidays=frozenset({date(2031, 1, 1)}))
    assert not cal.is_workday(date(2031, 1, 1))
    assert cal.is_workday(date(2031, 1, 2))


def shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_business_minutes_roll_over_the_night_and_the_weekend() -> None:
    # Friday 17:00 + 2 hours of service time = Monday 10:00
    due = add_business_minutes(shanghai(2026, 11, 27, 17, 0), 120, OFFICE)
    assert due.astimezone(SHANGHAI) == shanghai(2026, 11, 30, 10, 0)


def test_starting_outside_hours_counts_from_opening() -> None:
    due = add_business_minutes(shanghai(2026, 11, 26, 22, 0), 30, OFFICE)
    assert due.astimezone(SHANGHAI) == shanghai(2026, 11, 27, 9, 30)


moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 11, 30)).map(
    lambda d: d.replace(tzinfo=UTC)
)


@given(moments, st.integers(min_value=1, max_value=5000))
def test_deadline_is_inside_service_hours_and_counts_exactly(start: datetime, minutes: int) -> None:
    due = add_business_minutes(start, minutes, OFFICE)
    local = due.astimezone(SHANGHAI)
    assert CAL.is_workday(local.date())
    assert OFFICE.opens <= local.time() <= OFFICE.closes
    assert business_minutes_between(start, due, OFFICE) == minutes


@given(moments, st.integers(min_value=0, max_value=3000), st.integers(min_value=0, max_value=3000))
def test_more_minutes_never_gives_an_earlier_deadline(start: datetime, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert add_business_minutes(start, low, OFFICE) <= add_business_minutes(start, high, OFFICE)


def test_around_the_clock_team() -> None:
    hours = ServiceHours(time(0), time(23, 59), workdays_only=False)
    start = shanghai(2026, 10, 1, 10, 0)
    assert add_business_minutes(start, 60, hours) == start.astimezone(UTC) + timedelta(hours=1)
