"""The chat's reads and writes in SQL, built once as Core statements.

Building a SQLAlchemy statement (and loading ORM objects, flushing the unit of work) costs more than
SQLite takes to run it, and on SQLite every statement of a message runs while the database's single
write gate is held. So a plain FAQ message costs three statements:

1. `open_for_message`: one upsert creates or locks the session row (PostgreSQL locks the row it
   updates; on SQLite the gate is taken before it), counts the message for the session's rate
   limit, reserves the numbers of the borrower's line and the answer, and returns the session's
   state with the knowledge base's version (so a cached index is known to be current);
2. `count_address`: the per-address counter (the shared `sign_in_throttle` counters of
   core/throttle.py in one upsert that also returns the previous window; Redis when configured);
3. `insert_lines`: the borrower's line and the answer in one INSERT.

The session row is written again only when something else about it changed (a miss, a handoff,
a verification step, a silent answer that leaves its reserved number unused).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, bindparam, case, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lenddesk.assistant.models import ChatMessage, ChatSession, FaqEntry
from lenddesk.core import throttle
from lenddesk.core.models import SignInThrottle
from lenddesk.core.settings import get_settings
from lenddesk.core.sqlite_gate import GatedConnection

_sessions, _lines, _faq = ChatSession.__table__, ChatMessage.__table__, FaqEntry.__table__
_counters = SignInThrottle.__table__

# The admins' entries' version: (count, newest change), or None while there are none.
FAQ_COUNT = select(func.count(_faq.c.id)).scalar_subquery()
FAQ_NEWEST = select(func.max(_faq.c.updated_at)).scalar_subquery()
LINES_PER_MESSAGE = 2  # the borrower's line and the answer, reserved together


def knowledge_version(count: int | None, newest: datetime | None) -> object:
    return (count, newest) if count else None


@dataclass
class ChatState:
    """A chat session's row as the use cases read and change it (written back by `save_state`)."""

    id: int
    public_id: str
    state: str
    last_seq: int
    misses: int
    ticket_id: int | None
    ticket_number: str | None
    handed_off_at: datetime | None
    verified_at: datetime | None
    risk_flags: list[str]
    address: str

    def snapshot(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in _FIELDS}
        values["risk_flags"] = list(self.risk_flags or [])
        return values


_FIELDS = tuple(field.name for field in dataclasses.fields(ChatState))
_STATE = tuple(_sessions.c[name] for name in _FIELDS)


def _state_of(row: Any) -> ChatState:
    return ChatState(*(row[i] for i in range(len(_STATE))))


@dataclass(frozen=True)
class Opened:
    chat: ChatState
    rate_previous: int  # the session's messages in the previous window
    rate_count: int  # and in this one, this message included
    knowledge_version: object


def take_write_gate(session: Session) -> None:
    """On SQLite, the database's write gate before the first read of what we will change."""
    connection = session.connection().connection.dbapi_connection
    if isinstance(connection, GatedConnection):
        connection.acquire_gate()


@lru_cache(maxsize=2)
def _open_statement(dialect: str) -> Any:
    window = bindparam("window", type_=BigInteger)
    upsert = pg_insert(_sessions) if dialect == "postgresql" else sqlite_insert(_sessions)
    c = _sessions.c
    return (
        upsert.values(
            public_id=bindparam("public_id"),
            state="bot",
            last_seq=LINES_PER_MESSAGE,
            misses=0,
            risk_flags=[],
            address=bindparam("address"),
            rate_window=window,
            rate_count=1,
            rate_previous=0,
            created_at=bindparam("now"),
            updated_at=bindparam("now"),
        )
        .on_conflict_do_update(
            index_elements=["public_id"],
            # Every right-hand side reads the row as it was before this statement.
            set_={
                "last_seq": c.last_seq + LINES_PER_MESSAGE,
                "rate_previous": case(
                    (c.rate_window == window, c.rate_previous),
                    (c.rate_window == window - 1, c.rate_count),
                    else_=0,
                ),
                "rate_count": case((c.rate_window == window, c.rate_count + 1), else_=1),
                "rate_window": window,
                "updated_at": bindparam("now"),
            },
        )
        .returning(*_STATE, c.rate_previous, c.rate_count, FAQ_COUNT, FAQ_NEWEST)
    )


def open_for_message(session: Session, *, public_id: str, address: str, window: int, now: datetime) -> Opened:
    """The session (created on its first message), locked until COMMIT, with this message counted
    and two numbers reserved: `chat.last_seq` is the answer's, the borrower's line the one before.

    Two first messages of a new session at once: one inserts, the other waits for its lock (the
    write gate on SQLite) and then updates the row the first one made.
    """
    take_write_gate(session)
    statement = _open_statement(session.get_bind().dialect.name)
    parameters = {"public_id": public_id, "address": address[:64], "window": window, "now": now}
    row = session.connection().execute(statement, parameters).one()
    width = len(_STATE)
    return Opened(
        _state_of(row), row[width], row[width + 1], knowledge_version(row[width + 2], row[width + 3])
    )


_LOCK_FOR_DELIVERY = select(*_STATE).where(_sessions.c.public_id == bindparam("public_id")).with_for_update()


def lock_existing(session: Session, *, public_id: str) -> ChatState | None:
    take_write_gate(session)
    row = session.execute(_LOCK_FOR_DELIVERY, {"public_id": public_id}).first()
    return _state_of(row) if row is not None else None


def save_state(session: Session, chat: ChatState, before: dict[str, Any], *, now: datetime) -> None:
    """Write what the use case changed on the (locked) session row; nothing when nothing changed."""
    changed = {name: value for name, value in chat.snapshot().items() if value != before[name]}
    if changed:
        changed["updated_at"] = now
        session.execute(update(_sessions).where(_sessions.c.id == chat.id).values(**changed))
        _expire_if_loaded(session, chat.id)


def _expire_if_loaded(session: Session, chat_id: int) -> None:
    loaded = session.identity_map.get(session.identity_key(ChatSession, chat_id))
    if loaded is not None:
        session.expire(loaded)


def line(
    chat: ChatState,
    seq: int,
    *,
    author: str,
    text: str,
    now: datetime,
    author_name: str = "",
    intent: str | None = None,
    confidence: float | None = None,
    emotion: str | None = None,
    risk_flags: list[str] | None = None,
    faq_code: str | None = None,
    outbox_id: int | None = None,
) -> dict[str, Any]:
    """One row of `assistant_messages` (every column given, so several go in one INSERT)."""
    return {
        "session_id": chat.id,
        "seq": seq,
        "author": author,
        "author_name": author_name,
        "text": text,
        "intent": intent,
        "confidence": confidence,
        "emotion": emotion,
        "risk_flags": risk_flags or [],
        "faq_code": faq_code,
        "outbox_id": outbox_id,
        "created_at": now,
    }


_INSERT_LINES = insert(_lines)


def insert_lines(session: Session, rows: list[dict[str, Any]]) -> None:
    session.connection().execute(_INSERT_LINES, rows)


_NEXT_SEQ = (
    update(_sessions)
    .where(_sessions.c.id == bindparam("chat_id"))
    .values(last_seq=_sessions.c.last_seq + 1, updated_at=bindparam("now"))
    .returning(_sessions.c.last_seq)
)


def append_line(session: Session, chat: ChatState, *, now: datetime, **fields: Any) -> int:
    """One more line of a locked session outside a borrower's message (an agent's reply)."""
    seq = int(session.execute(_NEXT_SEQ, {"chat_id": chat.id, "now": now}).scalar_one())
    chat.last_seq = seq
    insert_lines(session, [line(chat, seq, now=now, **fields)])
    _expire_if_loaded(session, chat.id)
    return seq


_OUTBOX_LINE = select(_lines.c.seq).where(_lines.c.outbox_id == bindparam("outbox_id"))


def line_of_outbox(session: Session, outbox_id: int) -> int | None:
    return session.scalar(_OUTBOX_LINE, {"outbox_id": outbox_id})


# --- the per-address counter ------------------------------------------------------------------------


@lru_cache(maxsize=2)
def _address_statement(dialect: str) -> Any:
    window = bindparam("window", type_=BigInteger)
    earlier = _counters.alias("earlier")
    previous = (
        select(earlier.c.attempts)
        .where(earlier.c.address == bindparam("address"), earlier.c.window_number == window - 1)
        .scalar_subquery()
        .correlate(None)
    )
    upsert = pg_insert(_counters) if dialect == "postgresql" else sqlite_insert(_counters)
    return (
        upsert.values(address=bindparam("address"), window_number=window, attempts=1)
        .on_conflict_do_update(
            index_elements=["address", "window_number"], set_={"attempts": _counters.c.attempts + 1}
        )
        .returning(_counters.c.attempts, previous)
    )


def count_address(session: Session, *, key: str, window: throttle.Window, minutes: int) -> float:
    """One more message from this address key; the sliding-window estimate including it.

    The same counters (and the same estimate) as core/throttle.py, in one statement: the expired
    windows of this length are cleared once per key and window rather than on every message.
    """
    redis_url = get_settings().redis_url
    if redis_url:
        return throttle.throttle_for(redis_url, minutes).hit(session, key, window)
    statement = _address_statement(session.get_bind().dialect.name)
    parameters = {"address": throttle.stored_key(key, minutes), "window": window.number}
    current, previous = session.connection().execute(statement, parameters).one()
    if current == 1:
        session.execute(delete(_counters).where(throttle.expired_of_length(minutes, window.number)))
    return window.estimate(previous or 0, current)
