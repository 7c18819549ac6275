"""The care write paths under simultaneous callers on SQLite (the same scenarios run on PostgreSQL
in tests/integration/test_care_races_postgres.py)."""

from __future__ import annotations

import pytest

from tests.care import races


@pytest.mark.parametrize("scenario", races.SCENARIOS, ids=lambda scenario: scenario.__name__)
def test_concurrent_callers_on_sqlite(db_url: str, scenario) -> None:
    scenario(db_url)
