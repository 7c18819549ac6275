"""Simultaneous wrong knowledge answers about one borrower on PostgreSQL never pass the limit."""

from __future__ import annotations

from lenddesk.core.db import make_engine, upgrade_database
from tests.desk.conftest import NOW
from tests.desk.identity_races import wrong_answers_at_once_stop_at_the_limit


def test_wrong_answers_at_once_never_pass_the_limit_on_postgres(pg_url: str) -> None:
    upgrade_database(pg_url)
    engine = make_engine(pg_url)
    try:
        wrong_answers_at_once_stop_at_the_limit(engine, NOW)
    finally:
        engine.dispose()
