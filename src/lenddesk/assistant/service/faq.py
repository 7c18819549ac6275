"""Admins edit the knowledge base: override a shipped entry (same code) or add one. Audited."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.assistant.intents import INTENTS
from lenddesk.assistant.knowledge import Entry, default_entries, unknown_placeholders
from lenddesk.assistant.models import FaqEntry
from lenddesk.assistant.normalise import clean_for_storage
from lenddesk.core import audit
from lenddesk.core.errors import Unprocessable
from lenddesk.desk.service import require_one_of

CODE = re.compile(r"^[a-z0-9_]{2,48}$")


@dataclass(frozen=True)
class FaqRow:
    entry: Entry
    default: Entry | None  # the shipped entry it overrides, if any


def list_entries(session: Session) -> list[FaqRow]:
    defaults = {entry.code: entry for entry in default_entries()}
    saved = {
        row.code: Entry(
            row.code, row.intent, row.question, tuple(row.variants or ()), row.answer, row.active, True
        )
        for row in session.scalars(select(FaqEntry))
    }
    codes = list(defaults) + sorted(set(saved) - set(defaults))
    return [FaqRow(saved.get(code) or defaults[code], defaults.get(code)) for code in codes]


def _text(value: str, limit: int, what_zh: str, what_en: str) -> str:
    cleaned = clean_for_storage(value or "")
    if not cleaned or len(cleaned) > limit:
        raise Unprocessable(
            f"{what_zh}不能为空且不超过 {limit} 字",
            f"The {what_en} must be 1–{limit} characters",
            code="bad_faq",
        )
    return cleaned


def save_entry(
    session: Session,
    *,
    actor: audit.Actor,
    code: str,
    intent: str,
    question: str,
    variants: list[str],
    answer: str,
    active: bool,
    now: datetime,
) -> FaqEntry:
    if not CODE.fullmatch(code or ""):
        raise Unprocessable(
            "编码只能是 2–48 位小写字母、数字或下划线", "The code is 2–48 of a-z, 0-9, _", code="bad_faq"
        )
    require_one_of(intent, INTENTS, what_zh="意图", what_en="intent", code="unknown_intent")
    question = _text(question, 200, "问题", "question")
    answer = _text(answer, 4000, "答案", "answer")
    cleaned = [clean_for_storage(v)[:200] for v in variants]
    variants = list(dict.fromkeys(v for v in cleaned if v))[:50]
    unknown = unknown_placeholders(answer)
    if unknown:
        raise Unprocessable(
            f"答案中有未知的占位符：{'、'.join(unknown)}",
            f"Unknown placeholders in the answer: {', '.join(unknown)}",
            code="bad_faq",
        )
    row = session.scalar(select(FaqEntry).where(FaqEntry.code == code).with_for_update())
    before = None
    if row is None:
        row = FaqEntry(code=code)
        session.add(row)
    else:
        before = {"intent": row.intent, "question": row.question, "answer": row.answer, "active": row.active}
    row.intent, row.question, row.variants, row.answer, row.active = (
        intent,
        question,
        variants,
        answer,
        active,
    )
    row.updated_by, row.updated_at = actor.name, now
    session.flush()
    after = {"intent": intent, "question": question, "answer": answer, "active": active, "variants": variants}
    audit.record(session, actor, "assistant.faq_save", ("faq", code), before, after)
    return row
