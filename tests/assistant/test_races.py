"""The chat's write path under simultaneous callers on SQLite (PostgreSQL: tests/integration)."""

from __future__ import annotations

from tests.assistant import races


def test_simultaneous_messages_keep_order_and_count(db_url: str) -> None:
    races.simultaneous_messages_keep_order_and_count(db_url)


def test_simultaneous_handoffs_open_one_ticket(db_url: str) -> None:
    races.simultaneous_handoffs_open_one_ticket(db_url)


def test_simultaneous_messages_past_the_session_limit_are_refused(db_url: str) -> None:
    races.simultaneous_messages_past_the_session_limit_are_refused(db_url)


def test_simultaneous_sessions_past_the_address_limit_are_refused(db_url: str) -> None:
    races.simultaneous_sessions_past_the_address_limit_are_refused(db_url)
