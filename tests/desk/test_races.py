"""The desk's write paths under simultaneous callers on SQLite (the same scenarios run on PostgreSQL
in tests/integration/test_desk_races_postgres.py)."""

from __future__ import annotations

import pytest

from tests.desk import races


@pytest.mark.parametrize(
    "scenario",
    [
        races.simultaneous_first_messages_make_one_ticket,
        races.racing_claims_leave_one_owner,
        races.racing_follow_up_completions_count_once,
        races.racing_extensions_apply_one_step,
        races.racing_approvals_apply_once,
        races.racing_alert_jobs_alert_once,
        races.simultaneous_messages_reopen_a_closed_ticket_once,
    ],
    ids=lambda scenario: scenario.__name__,
)
def test_concurrent_callers_on_sqlite(db_url: str, scenario) -> None:
    scenario(db_url)
