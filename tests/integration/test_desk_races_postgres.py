"""The desk's write paths under simultaneous callers on PostgreSQL (scenarios in tests/desk/races.py)."""

from __future__ import annotations

import pytest

from lenddesk.core.db import make_engine, session_factory, upgrade_database
from tests.desk import races
from tests.support.staff import add_one_user_per_role


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
        races.racing_stage_records_record_each_stage_once,
        races.racing_resolutions_end_a_ticket_once,
        races.approval_and_rejection_at_once_settle_the_request_once,
        races.racing_opt_outs_record_one_row,
    ],
    ids=lambda scenario: scenario.__name__,
)
def test_concurrent_callers_on_postgres(pg_url: str, scenario) -> None:
    upgrade_database(pg_url)
    engine = make_engine(pg_url)
    with session_factory(engine)() as session:
        add_one_user_per_role(session)
        session.commit()
    engine.dispose()
    scenario(pg_url)
