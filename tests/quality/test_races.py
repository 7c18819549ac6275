"""The quality and feedback write paths under simultaneous callers on SQLite (the same scenarios run
on PostgreSQL in tests/integration/test_quality_races_postgres.py)."""

from __future__ import annotations

import pytest

from tests.quality import races


@pytest.mark.parametrize(
    "scenario",
    [
        races.two_answers_to_one_survey_record_one,
        races.two_qa_runs_write_one_score,
        races.two_reviewers_decide_a_review_once,
    ],
    ids=lambda scenario: scenario.__name__,
)
def test_concurrent_callers_on_sqlite(db_url: str, scenario) -> None:
    scenario(db_url)
