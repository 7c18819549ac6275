"""Scenarios of the nightly QA's chunk, run on SQLite (tests/quality/test_chunk_statements.py) and
on PostgreSQL (tests/integration/test_quality_chunks_postgres.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    """The statements run on `engine` inside the block, other than BEGIN and COMMIT."""
    executed: list[str] = []

    def listen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT")):
            executed.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield executed
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def stored(session: Session, conversations: list[list[tuple[str, str]]]) -> list[int]:
    base = session.scalar(select(func.count(Ticket.id))) or 0
    ids = [_stored_ticket(session, base + i, turns) for i, turns in enumerate(conversations)]
    session.commit()
    return ids


def cost(engine: Engine, session: Session, ticket_ids: list[int]) -> tuple[int, service.ScoreRun]:
    with counting(engine) as executed:
        run = service.score_chunk(session, ticket_ids=ticket_ids, now=NOW)
        session.commit()
    return len(executed), run


def written(session: Session) -> tuple[dict[int, tuple], dict[int, str]]:  # type: ignore[type-arg]
    session.expire_all()
    scores = {
        s.ticket_id: (s.score, s.severe, s.items, s.content_hash) for s in session.scalars(select(QaScore))
    }
    reviews = {r.ticket_id: r.reason for r in session.scalars(select(QaReview))}
    return scores, reviews


def a_chunk_of_twelve_costs_what_a_chunk_of_three_does(engine: Engine, session: Session) -> None:
    small, small_run = cost(engine, session, stored(session, [SEVERE] + [ORDINARY] * 2))
    large, large_run = cost(engine, session, stored(session, [SEVERE] + [ORDINARY] * 11))
    assert (small_run.written, large_run.written) == (3, 12)
    assert small_run.severe == large_run.severe == 1
    assert small == large
    # Nine to read and upsert (below), the reviews, and the severe one's notice to the team leads.
    assert large == 14


def a_chunk_scored_again_writes_nothing_in_nine_statements(engine: Engine, session: Session) -> None:
    ids = stored(session, [SEVERE] + [ORDINARY] * 5)
    cost(engine, session, ids)
    before = written(session)
    again, run = cost(engine, session, ids)
    assert run.read == 6 and run.written == 0 and run.reviews == {}
    assert written(session) == before
    # The tickets never scored (three reads), the stored ledger facts, the transcripts (tickets,
    # messages, timeline), the agents by name and one upsert writing nothing.
    assert again == 9


def a_chunk_writes_what_scoring_each_conversation_alone_writes(session: Session) -> None:
    ids = stored(session, [SEVERE, ORDINARY, ORDINARY[:2], [("agent", "好的")], SEVERE[::-1], ORDINARY[1:]])
    together = service.score_chunk(session, ticket_ids=ids, now=NOW)
    session.commit()
    chunked = written(session)
    session.execute(QaReview.__table__.delete())
    session.execute(QaScore.__table__.delete())
    session.commit()
    alone = [service.score_chunk(session, ticket_ids=[ticket_id], now=NOW) for ticket_id in ids]
    session.commit()
    assert written(session) == chunked
    assert together.written == sum(run.written for run in alone) == len(ids)
    assert together.severe == sum(run.severe for run in alone) == 2
