"""The nightly QA's chunk costs a fixed number of statements, however many conversations it holds
(a change that reads or writes per conversation fails here), and writes what scoring each of its
conversations alone writes (scenarios in tests/quality/chunks.py)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.quality import chunks


def test_a_chunk_of_twelve_costs_what_a_chunk_of_three_does(engine: Engine, session: Session) -> None:
    chunks.a_chunk_of_twelve_costs_what_a_chunk_of_three_does(engine, session)


def test_a_chunk_scored_again_writes_nothing_in_nine_statements(engine: Engine, session: Session) -> None:
    chunks.a_chunk_scored_again_writes_nothing_in_nine_statements(engine, session)


def test_a_chunk_writes_what_scoring_each_conversation_alone_writes(session: Session) -> None:
    chunks.a_chunk_writes_what_scoring_each_conversation_alone_writes(session)
