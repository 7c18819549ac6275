"""Simultaneous messages on the chat's write path, shared by the SQLite and PostgreSQL tests."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from unittest.mock import patch

from sqlalchemy import func, select

from lenddesk.assistant import service
from lenddesk.assistant.models import ChatMessage, ChatSession
from lenddesk.core import throttle
from lenddesk.core.db import make_engine, session_factory
from lenddesk.core.models import SignInThrottle
from lenddesk.desk.models import Message, Team, Ticket
from tests.desk.races import NOW, only_refusals, run_together


def _prepare(url: str):  # type: ignore[no-untyped-def]
    factory = session_factory(make_engine(url))
    with factory() as session:
        if session.scalar(select(Team.id).where(Team.code == "general")) is None:
            session.add(Team(code="general", name="综合服务组", skills=["*"]))
        session.commit()
    return factory


def simultaneous_messages_keep_order_and_count(url: str, senders: int = 6) -> None:
    """Messages of one session at once: every one stored with its reply, numbered 1…2n without a gap."""
    factory = _prepare(url)
    public_id = secrets.token_urlsafe(18)
    texts = ["怎么还款", "还款日是几号", "罚息怎么算", "可以提前还款吗", "会上征信吗", "额度多少"][:senders]
    outcome = run_together(
        factory,
        [
            lambda s, text=text: service.post_message(
                s, public_id=public_id, text=text, address="10.0.0.1", now=NOW
            )
            for text in texts
        ],
    )
    assert not outcome.errors, outcome.errors
    with factory() as session:
        chat = session.scalars(select(ChatSession).where(ChatSession.public_id == public_id)).one()
        rows = session.scalars(
            select(ChatMessage).where(ChatMessage.session_id == chat.id).order_by(ChatMessage.seq)
        ).all()
        assert [row.seq for row in rows] == list(range(1, 2 * senders + 1))
        assert chat.last_seq == 2 * senders
        assert sorted(row.text for row in rows if row.author == "borrower") == sorted(texts)
        # each borrower message is followed by its own answer
        for asked, answered in zip(rows[::2], rows[1::2], strict=True):
            assert (asked.author, answered.author) == ("borrower", "bot")
            assert asked.intent == answered.intent


def simultaneous_handoffs_open_one_ticket(url: str, senders: int = 5) -> None:
    """Angry messages of one new session at once: one ticket, every message on it."""
    factory = _prepare(url)
    public_id = secrets.token_urlsafe(18)
    outcome = run_together(
        factory,
        [
            lambda s, n=n: service.post_message(
                s, public_id=public_id, text=f"转人工！！！第{n}次了", address=f"10.0.0.{n}", now=NOW
            )
            for n in range(senders)
        ],
    )
    assert not outcome.errors, outcome.errors
    assert all(result.handoff for result in outcome.results)
    with factory() as session:
        tickets = session.scalars(select(Ticket).where(Ticket.sender == f"chat:{public_id}")).all()
        assert len(tickets) == 1
        assert {result.ticket_number for result in outcome.results} == {tickets[0].number}
        inbound = session.scalar(select(func.count(Message.id)).where(Message.ticket_id == tickets[0].id))
        assert inbound == senders  # the handoff's transcript once, then each later message


@contextmanager
def _limits(*, session: int = 100_000, address: int = 1_000_000) -> Iterator[None]:
    from lenddesk.core.policy import get_policy

    changed = get_policy().assistant.model_copy(
        update={"session_messages_per_window": session, "address_messages_per_window": address}
    )
    with patch("lenddesk.assistant.service.chat.policy", lambda: changed):
        yield


def simultaneous_messages_past_the_session_limit_are_refused(
    url: str, senders: int = 8, limit: int = 5
) -> None:
    """More messages of one session at once than its limit: exactly the limit answered, the rest 429
    with nothing of theirs kept (the count lives on the session row)."""
    factory = _prepare(url)
    public_id = secrets.token_urlsafe(18)
    with _limits(session=limit):
        outcome = run_together(
            factory,
            [
                lambda s, n=n: service.post_message(
                    s, public_id=public_id, text="怎么还款", address=f"10.0.1.{n}", now=NOW
                )
                for n in range(senders)
            ],
        )
    only_refusals(outcome, "chat_rate_limited")
    assert len(outcome.results) == limit and len(outcome.errors) == senders - limit
    with factory() as session:
        chat = session.scalars(select(ChatSession).where(ChatSession.public_id == public_id)).one()
        assert chat.rate_count == limit and chat.last_seq == 2 * limit
        lines = session.scalar(select(func.count(ChatMessage.id)).where(ChatMessage.session_id == chat.id))
        assert lines == 2 * limit


def simultaneous_sessions_past_the_address_limit_are_refused(
    url: str, senders: int = 7, limit: int = 4
) -> None:
    """New sessions from one address at once: the address's limit holds across them."""
    factory = _prepare(url)
    address = f"10.9.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    sessions = [secrets.token_urlsafe(18) for _ in range(senders)]
    with _limits(address=limit):
        outcome = run_together(
            factory,
            [
                lambda s, public_id=public_id: service.post_message(
                    s, public_id=public_id, text="你好", address=address, now=NOW
                )
                for public_id in sessions
            ],
        )
    only_refusals(outcome, "chat_rate_limited")
    assert len(outcome.results) == limit
    with factory() as session:
        kept = session.scalar(select(func.count(ChatSession.id)).where(ChatSession.public_id.in_(sessions)))
        assert kept == limit  # a refused first message leaves no session behind
        counted = session.scalar(
            select(SignInThrottle.attempts).where(
                SignInThrottle.address == throttle.stored_key(f"chat-a:{address}", 15)
            )
        )
        assert counted == limit
