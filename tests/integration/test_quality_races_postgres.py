"""The quality and feedback write paths under simultaneous callers on PostgreSQL
(scenarios in tests/quality/races.py)."""

from __future__ import annotations

import pytest

from lenddesk.core.db import make_engine, session_factory, upgrade_database
from tests.quality import races
from tests.support.staff import add_one_user_per_role


@pytest.mark.parametrize(
    "scenario",
    [
        races.two_answers_to_one_survey_record_one,
        races.two_qa_runs_write_one_score,
        races.two_reviewers_decide_a_review_once,
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
