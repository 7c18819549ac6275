"""The chat's hot path stays cheap: the statements a plain FAQ message costs are pinned here, so a
change that adds a round trip under SQLite's single write gate shows up as a failing test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from lenddesk.assistant import service
from lenddesk.assistant.models import ChatMessage, ChatSession
from lenddesk.core import audit
from lenddesk.core.models import User
from tests.assistant.conftest import new_session_id
from tests.desk.conftest import Clock

Counter = Callable[[str, str], tuple[int, service.ChatOutcome]]


@pytest.fixture
def count_statements(
    engine: Engine, session: Session, clock: Clock, desk_data: dict[str, int]
) -> Iterator[Counter]:
    """`count(public_id, text)` → (statements other than BEGIN/COMMIT, the outcome) of one message."""
    statements: list[str] = []

    def listen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listen)

    def count(public_id: str, text: str) -> tuple[int, service.ChatOutcome]:
        statements.clear()
        outcome = service.post_message(
            session, public_id=public_id, text=text, address="10.1.1.1", now=clock.now
        )
        session.commit()
        return len([s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))]), outcome

    yield count
    event.remove(engine, "before_cursor_execute", listen)


def test_a_plain_faq_message_costs_three_statements(count_statements: Counter, session: Session) -> None:
    """Open-or-lock the session (with its rate count and the knowledge base's version), count the
    address, insert the borrower's line and the answer together: nothing read back, no flush."""
    public_id = new_session_id()
    first, _ = count_statements(public_id, "你好")
    assert first <= 4  # + clearing old rate windows on the address's first message of a window
    for text in ("怎么还款", "罚息怎么算", "會上征信嗎"):
        statements, outcome = count_statements(public_id, text)
        assert statements == 3, text
        assert outcome.reply and not outcome.handoff
    chat = session.scalars(select(ChatSession).where(ChatSession.public_id == public_id)).one()
    assert chat.last_seq == 8 and chat.rate_count == 4
    seqs = session.scalars(select(ChatMessage.seq).where(ChatMessage.session_id == chat.id)).all()
    assert sorted(seqs) == list(range(1, 9))


def test_an_admins_faq_change_reaches_the_next_message(
    count_statements: Counter, session: Session, clock: Clock
) -> None:
    """The knowledge base is cached per process; its version rides on the session's upsert, so an
    edit (in any worker) is used by the very next message."""
    public_id = new_session_id()
    count_statements(public_id, "怎么还款")
    admin = session.scalar(select(User).where(User.username == "admin"))
    assert admin is not None
    service.save_entry(
        session,
        actor=audit.Actor.of(admin),
        code="wedding_gift",
        intent="chitchat",
        question="婚礼随份子有优惠吗",
        variants=["结婚红包能打折吗"],
        answer="这是管理员刚刚写的答案。",
        active=True,
        now=clock.now,
    )
    session.commit()
    statements, outcome = count_statements(public_id, "结婚红包能打折吗")
    assert outcome.reply == "这是管理员刚刚写的答案。"
    assert statements == 4  # the one extra read of the admins' entries, once
    assert count_statements(public_id, "结婚红包能打折吗")[0] == 3
