"""The chat's write path under simultaneous callers on PostgreSQL (scenarios in tests/assistant/races.py)."""

from __future__ import annotations

import pytest

from lenddesk.core.db import upgrade_database
from tests.assistant import races


@pytest.mark.parametrize(
    "scenario",
    [
        races.simultaneous_messages_keep_order_and_count,
        races.simultaneous_handoffs_open_one_ticket,
        races.simultaneous_messages_past_the_session_limit_are_refused,
        races.simultaneous_sessions_past_the_address_limit_are_refused,
    ],
    ids=lambda scenario: scenario.__name__,
)
def test_concurrent_chat_messages_on_postgres(pg_url: str, scenario) -> None:  # type: ignore[no-untyped-def]
    upgrade_database(pg_url)
    scenario(pg_url)
