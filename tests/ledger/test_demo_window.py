"""`make demo` closes only the days the reports need: the last two month ends, each closed for real."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Connection

from lenddesk.ledger import after_close
from lenddesk.ledger.jobs import demo_window_days


def _month_ends_closed(today: date) -> list[date]:
    first_closed = today - timedelta(days=demo_window_days(today)) + timedelta(days=1)
    days = (first_closed + timedelta(days=offset) for offset in range((today - first_closed).days + 1))
    return [day for day in days if (day + timedelta(days=1)).day == 1]


def test_the_demo_window_closes_the_last_two_month_ends_on_every_day_of_a_year() -> None:
    for offset in range(366):
        today = date(2026, 1, 1) + timedelta(days=offset)
        closed = _month_ends_closed(today)
        assert len(closed) == 2, (today, closed)
        assert demo_window_days(today) <= 64  # never more than about two months of closes


def test_the_window_on_the_day_of_a_month_end_holds_that_month_end() -> None:
    assert _month_ends_closed(date(2026, 12, 31)) == [date(2026, 11, 30), date(2026, 12, 31)]
    assert _month_ends_closed(date(2026, 12, 7)) == [date(2026, 10, 31), date(2026, 11, 30)]


def test_a_skipped_step_does_not_run_inside_the_block_and_runs_again_after_it() -> None:
    ran: list[date] = []

    def step(connection: Connection, day: date) -> dict[str, int]:
        ran.append(day)
        return {"ran": 1}

    after_close.register("test.skippable", step, order=10_000)
    others = [name for name, _ in after_close.registered_steps() if name != "test.skippable"]
    try:
        with after_close.skipping(*others):  # the rooms' own steps need a database
            with after_close.skipping("test.skippable"):
                counts = after_close.run_steps(None, date(2026, 12, 1))  # type: ignore[arg-type]
            assert "test.skippable.ran" not in counts and ran == []
            counts = after_close.run_steps(None, date(2026, 12, 2))  # type: ignore[arg-type]
        assert counts["test.skippable.ran"] == 1 and ran == [date(2026, 12, 2)]
    finally:
        after_close._steps.pop("test.skippable", None)
