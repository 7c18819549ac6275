"""The nightly QA's chunk on PostgreSQL: a fixed number of statements whatever its size, and the
rows scoring each conversation alone would write (scenarios in tests/quality/chunks.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lenddesk.core.db import make_engine, session_factory, upgrade_database
from tests.quality import chunks
from tests.support.staff import add_one_user_per_role


@pytest.mark.parametrize(
    "scenario",
    [
        chunks.a_chunk_of_twelve_costs_what_a_chunk_of_three_does,
        chunks.a_chunk_scored_again_writes_nothing_in_nine_statements,
        lambda _engine, session: chunks.a_chunk_writes_what_scoring_each_conversation_alone_writes(session),
    ],
    ids=["fixed statements", "nothing written again", "chunk as alone"],
)
def test_a_chunk_on_postgres(pg_url: str, scenario: Callable[[Engine, Session], None]) -> None:
    upgrade_database(pg_url)
    engine = make_engine(pg_url)
    try:
        with session_factory(engine)() as session:
            add_one_user_per_role(session)  # a team lead among them, told of the severe conversation
            session.commit()
            scenario(engine, session)
    finally:
        engine.dispose()
