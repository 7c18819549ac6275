"""The care write paths under simultaneous callers on PostgreSQL (scenarios in tests/care/races.py),
and a campaign preview's statement on PostgreSQL (LEAST, the joins)."""

from __future__ import annotations

import pytest

from lenddesk.core.db import make_engine, session_factory, upgrade_database
from tests.care import races
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


def test_a_preview_on_postgres_counts_each_reason(pg_url: str) -> None:
    from lenddesk.care import service
    from tests.care.conftest import NOW

    factory, ids, actors = races._prepare(_migrated(pg_url), borrowers=4)
    campaign_id = races._approved_campaign(factory, ids[:2], actors)
    with factory() as session:
        service.revoke_consent(
            session, actor=actors["team_lead"], borrower_id=ids[0],
            consent_id=service.list_consents(session, borrower_id=ids[0])[0].id, evidence="来电撤回", now=NOW,
        )  # fmt: skip
        session.commit()
        found = service.preview(session, campaign_id=campaign_id, now=NOW)
    assert (found.audience, found.eligible, found.excluded) == (2, 1, {"no_consent": 1})


def test_a_second_revisit_of_the_same_event_is_refused_on_postgres(pg_url: str) -> None:
    """`open_revisit` says whether it put a revisit on the list. On PostgreSQL an INSERT's rowcount
    read -1 (SQLAlchemy keeps it only when asked), so a duplicate read as inserted."""
    from lenddesk.care.service.revisits import open_revisit
    from tests.care.conftest import NOW

    factory, ids, _ = races._prepare(_migrated(pg_url), borrowers=1)
    arguments = dict(
        borrower_id=ids[0], source="complaint", source_ref="ticket:1", owner_id=None, ticket_id=None,
        note="投诉已解决，回访", now=NOW,
    )  # fmt: skip
    with factory() as session:
        first = open_revisit(session, **arguments)
        second = open_revisit(session, **arguments)
        session.commit()
    assert (first, second) == (True, False)
