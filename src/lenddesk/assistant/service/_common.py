"""Shared pieces of the assistant's use cases: locking a chat session, numbering its messages,
the knowledge base in force, and the values the answers quote."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lenddesk.assistant import engine
from lenddesk.assistant.knowledge import Entry, KnowledgeBase
from lenddesk.assistant.models import ChatMessage, ChatSession, FaqEntry
from lenddesk.core.errors import NotFound, Unprocessable
from lenddesk.core.policy import AssistantPolicy, get_policy
from lenddesk.core.sqlite_gate import GatedConnection
from lenddesk.desk import service as desk
from lenddesk.ledger import service as ledger

PUBLIC_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
SENDER_PREFIX = "chat:"


def policy() -> AssistantPolicy:
    return get_policy().assistant


def check_public_id(public_id: str) -> str:
    if not PUBLIC_ID.fullmatch(public_id or ""):
        raise Unprocessable(
            "会话编号无效（16–64 位字母、数字、- 或 _）",
            "Invalid session id (16–64 letters, digits, - or _)",
            code="bad_session_id",
        )
    return public_id


def sender_of(public_id: str) -> str:
    """The desk sender (ticket address) of a web chat session."""
    return f"{SENDER_PREFIX}{public_id}"


def take_write_lock(session: Session) -> None:
    """On SQLite, the database's write gate before the first read of what we will change."""
    connection = session.connection().connection.dbapi_connection
    if isinstance(connection, GatedConnection):
        connection.acquire_gate()


def lock_session(session: Session, *, public_id: str, address: str, now: datetime) -> ChatSession:
    """The chat session (created on its first message), locked for this transaction.

    Two first messages of a new session at once: the insert that loses does nothing, and both then
    lock the one row (PostgreSQL `FOR UPDATE`; SQLite's write gate), so they run one after the other.
    """
    take_write_lock(session)
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(ChatSession)
        .values(
            public_id=public_id,
            state="bot",
            last_seq=0,
            misses=0,
            risk_flags=[],
            address=address[:64],
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["public_id"])
    )
    statement = (
        select(ChatSession)
        .where(ChatSession.public_id == public_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(statement).one()


def find_session(session: Session, public_id: str) -> ChatSession:
    chat = session.scalar(select(ChatSession).where(ChatSession.public_id == check_public_id(public_id)))
    if chat is None:
        raise NotFound("会话不存在", "No such chat session", code="chat_not_found")
    return chat


def add_message(
    session: Session, chat: ChatSession, *, author: str, text: str, now: datetime, **fields: Any
) -> int:
    """The next message of the (locked) session; its number is counted up in SQL."""
    seq = session.execute(
        update(ChatSession)
        .where(ChatSession.id == chat.id)
        .values(last_seq=ChatSession.last_seq + 1, updated_at=now)
        .returning(ChatSession.last_seq)
    ).scalar_one()
    session.add(ChatMessage(session_id=chat.id, seq=seq, author=author, text=text, created_at=now, **fields))
    session.flush()
    return int(seq)


def knowledge(session: Session) -> KnowledgeBase:
    """The knowledge base in force: shipped defaults under the admins' entries."""
    count, newest = session.execute(select(func.count(FaqEntry.id), func.max(FaqEntry.updated_at))).one()
    if not count:
        return engine.knowledge_base()
    rows = session.scalars(select(FaqEntry)).all()
    overrides = [
        Entry(r.code, r.intent, r.question, tuple(r.variants or ()), r.answer, r.active, True) for r in rows
    ]
    return engine.knowledge_base((count, newest), overrides)


def _human_hours(session: Session) -> str:
    teams = desk.list_teams(session)
    if not teams:
        return "工作日 09:00–18:00（法定节假日除外）"
    if any(team.always_open for team in teams):
        staffed = [t for t in teams if not t.always_open]
        day = (
            f"；其他业务工作日 {min(t.opens for t in staffed)}–{max(t.closes for t in staffed)}"
            if staffed
            else ""
        )
        return f"反欺诈专线 7×24 小时{day}（法定节假日除外）"
    return f"工作日 {min(t.opens for t in teams)}–{max(t.closes for t in teams)}（法定节假日除外）"


def answer_values(session: Session) -> dict[str, str]:
    assistant, hotline = policy(), desk.desk_policy().hotline
    channels = "、".join(ledger.CHANNEL_LABELS_ZH.get(c, c) for c in assistant.repayment_channels)
    return {
        "hotline": hotline,
        "official_numbers": "、".join(dict.fromkeys([hotline, *assistant.official_numbers])),
        "official_website": assistant.official_website,
        "official_app": assistant.official_app,
        "official_wechat": assistant.official_wechat,
        "repayment_channels": channels,
        "human_hours": _human_hours(session),
        "company": assistant.company,
    }
