"""Emergency mode under simultaneous callers on PostgreSQL (scenarios in tests/incidents/races.py):
a release racing a declaration sends nothing after the declaration commits."""

from __future__ import annotations

import pytest

from lenddesk.core import audit, auth
from lenddesk.core.db import make_engine, session_factory, upgrade_database
from lenddesk.core.roles import ROLES
from tests.incidents import races


def _migrated(pg_url: str) -> str:
    upgrade_database(pg_url)
    engine = make_engine(pg_url)
    with session_factory(engine)() as session:
        for role in ROLES:
            auth.create_user(
                session,
                actor=audit.Actor.system("tests"),
                username=role,
                password="correct-horse-1",
                role=role,
            )
        session.commit()
    engine.dispose()
    return pg_url


@pytest.mark.parametrize("scenario", races.SCENARIOS, ids=lambda scenario: scenario.__name__)
def test_concurrent_callers_on_postgres(pg_url: str, scenario) -> None:
    scenario(_migrated(pg_url))
