"""The risk write paths under simultaneous callers on PostgreSQL (scenarios in
tests/risk/races.py), and the early-warning score of the close on PostgreSQL."""

from __future__ import annotations

import pytest

from lenddesk.core.db import make_engine, session_factory, upgrade_database
from tests.risk import races
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


def test_the_close_scores_and_alerts_on_postgres(pg_url: str) -> None:
    """The scoring SQL on PostgreSQL: day numbers, UPDATE … FROM, json_build_object evidence."""
    from datetime import date, timedelta

    from sqlalchemy import select

    from lenddesk.core.policy import RiskPolicy
    from lenddesk.ledger.cob import run_cob
    from lenddesk.risk.models import Alert, Profile
    from lenddesk.risk.service import run_backtest, score_day
    from tests.risk.conftest import make_book

    engine = make_engine(_migrated(pg_url))
    book = make_book(engine)
    closed = date(2026, 11, 30)
    run_cob(engine, closed)
    with session_factory(engine)() as session:
        profile = session.scalar(select(Profile).where(Profile.borrower_id == book.borrower))
        assert profile is not None
        assert (profile.worst_dpd, profile.late_instalments, profile.score, profile.band) == (
            46,
            2,
            45,
            "medium",
        )
    with engine.connect() as connection:
        counts = score_day(connection, closed + timedelta(days=1), RiskPolicy(medium_from=20, high_from=40))
        result = run_backtest(connection, as_of=date(2026, 10, 1), horizon_days=30)
    assert counts["alerts"] == 2
    assert (result.loans, result.reached) == (2, 2)  # both fall overdue on 2026-10-15
    with session_factory(engine)() as session:
        alert = session.scalar(select(Alert).where(Alert.borrower_id == book.borrower))
        assert alert is not None and alert.evidence["worst_dpd"] == 47
    engine.dispose()
