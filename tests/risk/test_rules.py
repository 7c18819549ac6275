"""The abnormal-activity rules at their boundaries (pure: no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from lenddesk.risk import rules

LIMITS = rules.Thresholds(
    lookback=timedelta(days=90),
    window=timedelta(hours=24),
    large_fen=500_000,
    large_count=3,
    structuring_percent=90,
    structuring_count=3,
)
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def login(event_id: str, at: datetime, province: str, success: bool = True) -> rules.Event:
    return rules.Event(event_id, "bank", "login", at, province, None, success)


def transfer(event_id: str, at: datetime, amount_fen: int) -> rules.Event:
    return rules.Event(event_id, "bank", "transfer", at, "11", amount_fen)


def codes(event: rules.Event, history: list[rules.Event], home: str | None = "11") -> list[str]:
    return [raised.rule for raised in rules.judge(event, history, home_province=home, limits=LIMITS)]


def test_a_login_from_the_home_province_raises_nothing() -> None:
    assert codes(login("a", T0, "11"), []) == []


def test_a_login_from_an_unseen_province_is_a_new_region() -> None:
    assert codes(login("a", T0, "31"), []) == ["NEW_REGION"]


def test_a_failed_login_from_a_new_province_raises_nothing() -> None:
    assert codes(login("a", T0, "31", success=False), []) == []


def test_a_province_seen_exactly_90_days_before_is_not_new() -> None:
    seen = login("old", T0 - timedelta(days=90), "31")
    assert codes(login("a", T0, "31"), [seen]) == []


def test_a_province_seen_just_over_90_days_before_is_new_again() -> None:
    seen = login("old", T0 - timedelta(days=90, seconds=1), "31")
    assert codes(login("a", T0, "31"), [seen]) == ["NEW_REGION"]


def test_a_late_login_is_judged_on_the_history_before_it_only() -> None:
    """A login in 31 that arrives after a later login from 31 still was the first there."""
    later = login("later", T0 + timedelta(hours=2), "31")
    assert codes(login("late", T0, "31"), [later]) == ["NEW_REGION"]


def test_three_large_transfers_within_24_hours_raise_large_transfers() -> None:
    history = [transfer("1", T0, 500_000), transfer("2", T0 + timedelta(hours=10), 800_000)]
    assert codes(transfer("3", T0 + timedelta(hours=23, minutes=59), 500_000), history) == ["LARGE_TRANSFERS"]


def test_a_third_large_transfer_exactly_24_hours_after_the_first_is_outside_the_window() -> None:
    history = [transfer("1", T0, 500_000), transfer("2", T0 + timedelta(hours=10), 500_000)]
    assert codes(transfer("3", T0 + timedelta(hours=24), 500_000), history) == []


def test_a_transfer_one_fen_below_the_threshold_is_not_large() -> None:
    history = [transfer("1", T0, 500_000), transfer("2", T0 + timedelta(hours=1), 500_000)]
    assert "LARGE_TRANSFERS" not in codes(transfer("3", T0 + timedelta(hours=2), 499_999), history)


def test_three_transfers_at_exactly_90_percent_are_structuring() -> None:
    history = [transfer("1", T0, 450_000), transfer("2", T0 + timedelta(hours=1), 499_999)]
    assert codes(transfer("3", T0 + timedelta(hours=2), 450_000), history) == ["STRUCTURING"]


def test_one_fen_below_90_percent_is_not_structuring() -> None:
    history = [transfer("1", T0, 450_000), transfer("2", T0 + timedelta(hours=1), 450_000)]
    assert codes(transfer("3", T0 + timedelta(hours=2), 449_999), history) == []


def test_large_transfers_do_not_count_towards_structuring() -> None:
    history = [transfer("1", T0, 500_000), transfer("2", T0 + timedelta(hours=1), 460_000)]
    assert codes(transfer("3", T0 + timedelta(hours=2), 460_000), history) == []


def test_a_late_transfer_counts_only_what_happened_before_it() -> None:
    """Two large transfers on day one and one arriving late for hour 2: an alert (three within 24 h
    as of hour 2); a late one for the day before, with later transfers already known: none."""
    history = [transfer("1", T0, 500_000), transfer("2", T0 + timedelta(hours=1), 500_000)]
    assert codes(transfer("late", T0 + timedelta(hours=2), 500_000), history) == ["LARGE_TRANSFERS"]
    assert codes(transfer("early", T0 - timedelta(hours=25), 500_000), history) == []


def test_the_same_event_in_the_history_does_not_count_twice() -> None:
    again = transfer("1", T0, 500_000)
    history = [again, transfer("2", T0 + timedelta(hours=1), 500_000)]
    assert codes(transfer("1", T0, 500_000), history) == []


def test_region_codes_name_a_province() -> None:
    assert rules.province_of("440106") == "44"
    assert rules.province_of("990000") is None
    assert rules.province_of("44010") is None


PROVINCES = st.sampled_from([None, "11", "31", "44"])
EVENTS = st.builds(
    rules.Event,
    event_id=st.text(min_size=1, max_size=4),
    source=st.just("bank"),
    kind=st.sampled_from(rules.EVENT_KINDS),
    at=st.integers(min_value=-200 * 24, max_value=48).map(lambda hours: T0 + timedelta(hours=hours)),
    province=PROVINCES,
    amount_fen=st.one_of(st.none(), st.integers(min_value=1, max_value=1_000_000)),
    success=st.booleans(),
)


@given(event=EVENTS, history=st.lists(EVENTS, max_size=8), home=PROVINCES)
def test_an_event_that_may_not_raise_raises_on_no_history(
    event: rules.Event, history: list[rules.Event], home: str | None
) -> None:
    """The intake skips reading history when `may_raise` says no rule can fire: that must hold for
    every history, or the skip would hide alerts."""
    if not rules.may_raise(event, home):
        assert rules.judge(event, history, home_province=home, limits=LIMITS) == []
