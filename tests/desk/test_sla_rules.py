"""SLA deadlines in service hours on the China working calendar (pure; property-tested)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from lenddesk.core.calendar import SHANGHAI, ServiceHours, WorkCalendar
from lenddesk.desk import sla

CAL = WorkCalendar()
OFFICE = sla.TeamHours(ServiceHours(time(9), time(18)))
EVENING = sla.TeamHours(ServiceHours(time(9), time(21)))
ALWAYS = sla.TeamHours(always_open=True)


def shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2026, 11, 30), timezones=st.just(UTC)
)
targets = st.integers(min_value=0, max_value=5 * 540)
teams = st.sampled_from([OFFICE, EVENING])


@settings(max_examples=200, deadline=None)
@given(start=instants, minutes=targets, team=teams)
def test_a_deadline_never_falls_outside_service_hours(
    start: datetime, minutes: int, team: sla.TeamHours
) -> None:
    due = sla.add_service_minutes(start, minutes, team, CAL)
    assert sla.within_service_hours(due.at, team, CAL)
    assert due.at >= start and not due.provisional


@settings(max_examples=200, deadline=None)
@given(start=instants, minutes=targets, paused=st.integers(0, 3000), more=st.integers(0, 3000), team=teams)
def test_pausing_never_shortens_a_deadline(
    start: datetime, minutes: int, paused: int, more: int, team: sla.TeamHours
) -> None:
    unpaused = sla.deadline(sla.Clock(start, minutes, 0), team, CAL).at
    paused_once = sla.deadline(sla.Clock(start, minutes, paused), team, CAL).at
    paused_longer = sla.deadline(sla.Clock(start, minutes, paused + more), team, CAL).at
    assert unpaused <= paused_once <= paused_longer


@settings(max_examples=100, deadline=None)
@given(start=instants, minutes=st.integers(1, 3000), team=teams)
def test_the_service_time_to_a_deadline_is_the_target(
    start: datetime, minutes: int, team: sla.TeamHours
) -> None:
    due = sla.add_service_minutes(start, minutes, team, CAL).at
    assert sla.service_minutes_between(start, due, team, CAL) == minutes


def test_friday_evening_tickets_are_due_on_monday_morning() -> None:
    due = sla.add_service_minutes(shanghai(2026, 11, 27, 17, 0), 120, OFFICE, CAL).at
    assert due == shanghai(2026, 11, 30, 10, 0)


def test_the_national_day_holiday_is_skipped() -> None:
    due = sla.add_service_minutes(shanghai(2026, 9, 30, 17, 0), 120, OFFICE, CAL).at
    assert due == shanghai(2026, 10, 8, 10, 0)  # 10-01..10-07 are the Golden Week; 10-08 is a workday


def test_a_7x24_team_counts_every_minute() -> None:
    start = shanghai(2026, 10, 1, 23, 30)
    assert sla.add_service_minutes(start, 90, ALWAYS, CAL).at == start + timedelta(minutes=90)


def test_at_risk_from_80_percent_of_the_target() -> None:
    clock = sla.Clock(shanghai(2026, 11, 24, 9, 0), 100, 0)
    assert sla.at_risk_from(clock, 0.8, OFFICE, CAL).at == shanghai(2026, 11, 24, 10, 20)


def test_state_at_and_paused_tickets_keep_their_flag() -> None:
    due, risk = shanghai(2026, 11, 24, 12, 0), shanghai(2026, 11, 24, 11, 0)
    flag = {
        moment: sla.state_at(moment, due_at=due, at_risk_at=risk, paused=False, previous=sla.SlaState.OK)
        for moment in (shanghai(2026, 11, 24, 10, 0), risk, due)
    }
    assert list(flag.values()) == [sla.SlaState.OK, sla.SlaState.AT_RISK, sla.SlaState.BREACHED]
    held = sla.state_at(due, due_at=due, at_risk_at=risk, paused=True, previous=sla.SlaState.AT_RISK)
    assert held is sla.SlaState.AT_RISK


def test_pause_length_counts_service_minutes_only() -> None:
    # Friday 17:00 to Monday 10:00: one hour on Friday and one on Monday.
    assert sla.pause_length(shanghai(2026, 11, 27, 17, 0), shanghai(2026, 11, 30, 10, 0), OFFICE, CAL) == 120


def test_an_unknown_year_gives_a_provisional_weekday_deadline_not_an_error() -> None:
    due = sla.add_service_minutes(shanghai(2026, 12, 31, 17, 0), 600, OFFICE, CAL)
    assert due.provisional
    # Guessed: weekdays minus New Year's Day, so Thursday 17:00 + 1 h, then all of Monday 4 January.
    assert due.at == shanghai(2027, 1, 4, 18, 0)
    known = WorkCalendar(
        extra_known_years=frozenset({2027}), extra_holidays=frozenset({date(2027, 1, 1), date(2027, 1, 4)})
    )
    confirmed = sla.add_service_minutes(shanghai(2026, 12, 31, 17, 0), 600, OFFICE, known)
    assert not confirmed.provisional
    assert confirmed.at == shanghai(2027, 1, 5, 18, 0)  # the policy's own holidays count
