"""The negotiation's write paths under simultaneous callers on SQLite (scenarios in races.py; the same
on PostgreSQL in tests/integration/test_negotiation_races_postgres.py)."""

from __future__ import annotations

import pytest

from tests.negotiation import races


@pytest.mark.parametrize("scenario", races.SCENARIOS, ids=lambda scenario: scenario.__name__)
def test_concurrent_callers_on_sqlite(db_url: str, scenario) -> None:  # type: ignore[no-untyped-def]
    scenario(db_url)
