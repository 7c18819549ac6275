"""The nightly QA's chunk costs a fixed number of statements, however many conversations it holds:
a change that reads or writes per conversation shows up here as a failure."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from lenddesk.desk.models import Ticket
from lenddesk.quality import service
from lenddesk.quality.models import QaReview, QaScore
from tests.quality.conftest import NOW
from tests.quality.test_service import _stored_ticket

ORDINARY = [
    ("borrower", "你好，我想问一下这个月的还款日是哪天？"),
    ("agent", "您好，我是客服小李，很高兴为您服务。请您先完成身份核验，我再为您查询。"),
    ("borrower", "好的，谢谢"),
    ("agent", "感谢您的来电，祝您生活愉快！"),
]
SEVERE = [("borrower", "我最近失业了，这个月还不上"), ("agent", "你这个废物")]


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    executed: list[str] = []

    def listen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        executed.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    yield executed
    event.remove(engine, "before_cursor_execute", listen)


def _stored(session: Session, count: int) -> list[int]:
    base = session.scalar(select(func.count(Ticket.id))) or 0
    ids = [_stored_ticket(session, base + i, SEVERE if i == 0 else ORDINARY) for i in range(count)]
    session.commit()
    return ids


def _cost(session: Session, statements: list[str], ticket_ids: list[int]) -> tuple[int, service.ScoreRun]:
    statements.clear()
    run = service.score_chunk(session, ticket_ids=ticket_ids, now=NOW)
    session.commit()
    return len([s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))]), run


def test_a_chunk_of_twelve_costs_what_a_chunk_of_three_does(session: Session, statements: list[str]) -> None:
    small, small_run = _cost(session, statements, _stored(session, 3))
    large, large_run = _cost(session, statements, _stored(session, 12))
    assert (small_run.written, large_run.written) == (3, 12)
    assert small_run.severe == large_run.severe == 1
    assert small == large
    # Nine to read and upsert (below), the reviews, and the severe one's notice to the team leads.
    assert large == 14


def test_a_chunk_scored_again_writes_nothing_in_as_few_statements(
    session: Session, statements: list[str]
) -> None:
    ids = _stored(session, 6)
    _cost(session, statements, ids)
    rows = {s.ticket_id: (s.score, s.items, s.content_hash) for s in session.scalars(select(QaScore))}
    reviews = session.scalar(select(func.count(QaReview.id)))
    again, run = _cost(session, statements, ids)
    assert run.read == 6 and run.written == 0 and run.reviews == {}
    session.expire_all()
    assert {s.ticket_id: (s.score, s.items, s.content_hash) for s in session.scalars(select(QaScore))} == rows
    assert session.scalar(select(func.count(QaReview.id))) == reviews
    # The tickets never scored (three reads), the stored ledger facts, the transcripts (tickets,
    # messages, timeline), the agents by name and one upsert writing nothing.
    assert again == 9
