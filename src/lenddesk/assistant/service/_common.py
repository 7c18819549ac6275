"""Shared pieces of the assistant's use cases: session ids, the knowledge base in force, and the
values the answers quote (the SQL of the chat's write path is in assistant/store.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.assistant import engine, store
from lenddesk.assistant.delivery import SENDER_PREFIX
from lenddesk.assistant.knowledge import PLACEHOLDERS, Entry, KnowledgeBase
from lenddesk.assistant.models import ChatSession, FaqEntry
from lenddesk.core.errors import NotFound, Unprocessable
from lenddesk.core.policy import AssistantPolicy, get_policy
from lenddesk.desk import service as desk
from lenddesk.ledger import service as ledger

PUBLIC_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


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


def find_session(session: Session, public_id: str) -> ChatSession:
    chat = session.scalar(select(ChatSession).where(ChatSession.public_id == check_public_id(public_id)))
    if chat is None:
        raise NotFound("会话不存在", "No such chat session", code="chat_not_found")
    return chat


def knowledge(session: Session, version: object = ...) -> KnowledgeBase:
    """The knowledge base in force: shipped defaults under the admins' entries.

    `version`: the entries' version when the caller has just read it (`store.knowledge_version`).
    """
    if version is ...:
        version = store.knowledge_version(*session.execute(select(store.FAQ_COUNT, store.FAQ_NEWEST)).one())
    if version is None:
        return engine.knowledge_base()
    cached_version, cached = engine.cached_knowledge()
    if cached_version == version:
        return cached
    rows = session.scalars(select(FaqEntry)).all()
    overrides = [
        Entry(r.code, r.intent, r.question, tuple(r.variants or ()), r.answer, r.active, True) for r in rows
    ]
    return engine.knowledge_base(version, overrides)


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


class AnswerValues(Mapping[str, str]):
    """The values answers quote, each worked out when an answer first asks for it (the service
    hours read the desk's teams, which most answers never mention)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._values: dict[str, str] = {}

    def _work_out(self, name: str) -> str:
        assistant, hotline = policy(), desk.desk_policy().hotline
        if name == "hotline":
            return hotline
        if name == "official_numbers":
            return "、".join(dict.fromkeys([hotline, *assistant.official_numbers]))
        if name == "repayment_channels":
            return "、".join(ledger.CHANNEL_LABELS_ZH.get(c, c) for c in assistant.repayment_channels)
        if name == "human_hours":
            return _human_hours(self._session)
        return str(getattr(assistant, name))

    def __getitem__(self, name: str) -> str:
        if name not in PLACEHOLDERS:
            raise KeyError(name)
        if name not in self._values:
            self._values[name] = self._work_out(name)
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(PLACEHOLDERS)

    def __len__(self) -> int:
        return len(PLACEHOLDERS)


def answer_values(session: Session) -> Mapping[str, str]:
    return AnswerValues(session)
