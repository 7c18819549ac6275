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
        races.racing_stage_records_record_each_stage_once,
        races.racing_resolutions_end_a_ticket_once,
        races.approval_and_rejection_at_once_settle_the_request_once,
        races.racing_opt_outs_record_one_row,
    ],
    ids=lambda scenario: scenario.__name__,
)
def test_concurrent_callers_on_sqlite(db_url: str, scenario) -> None:
    scenario(db_url)


def test_intake_keeps_its_statement_counts(engine, session, desk_data) -> None:
    """The one-open-ticket rule costs the hot path no statement (these are the counts before it)."""
    from sqlalchemy import event

    from lenddesk.desk import service

    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    def count(message_id: str, sender: str, text: str = "你好") -> int:
        statements.clear()
        service.intake(
            session,
            channel="chat",
            channel_message_id=message_id,
            sender=sender,
            text=text,
            received_at=races.NOW,
            now=races.NOW,
            actor=races.SYSTEM,
        )
        session.commit()
        return len([s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))])

    assert count("a", "13900001111") == 13  # created, routed to the online agent
    assert count("b", "13900001111") == 5  # joined
    assert count("b", "13900001111") == 1  # duplicate
    assert (
        count("c", "13900002222", "客服态度太差了，我要投诉") == 13
    )  # a complaint, to a queue nobody is online in
