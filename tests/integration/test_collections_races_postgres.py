"""The collections write paths under simultaneous callers on PostgreSQL (scenarios in
tests/collections/races.py), and the daily plan on PostgreSQL."""

from __future__ import annotations

import pytest

from lenddesk.core.db import make_engine, session_factory, upgrade_database
from tests.collections import races
from tests.support.staff import add_one_user_per_role


def _migrated(pg_url: str) -> str:
    upgrade_database(pg_url)
    engine = make_engine(pg_url)
    with session_factory(engine)() as session:
        add_one_user_per_role(session)
        session.commit()
    engine.dispose()
    return pg_url


@pytest.mark.parametrize("scenario", races.SCENARIOS, ids=lambda scenario: scenario.__name__)
def test_concurrent_callers_on_postgres(pg_url: str, scenario) -> None:
    scenario(_migrated(pg_url))
