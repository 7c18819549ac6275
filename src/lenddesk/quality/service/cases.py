"""The case library: reviewed conversations kept as examples to learn from or warnings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import Conflict, NotFound, Unprocessable
from lenddesk.quality import conversations, rubric
from lenddesk.quality.models import QaCase, QaReview
from lenddesk.quality.service.reviews import mask_identifiers

# --- case library --------------------------------------------------------------------------------

CASE_KINDS = {"model": "学习案例", "warning": "警示案例"}


def _search_text(*parts: str) -> str:
    return rubric.normalise(" ".join(parts))


def save_case(
    session: Session,
    *,
    actor: audit.Actor,
    review_id: int,
    kind: str,
    title: str,
    lesson: str,
    tags: Sequence[str],
    now: datetime,
) -> QaCase:
    """Keep a reviewed conversation as a model or warning case, identifiers masked."""
    if kind not in CASE_KINDS:
        raise Unprocessable(
            f"案例类型应为 model 或 warning：{kind}", "Kind must be model or warning", code="bad_case_kind"
        )
    review = session.get(QaReview, review_id)
    if review is None:
        raise NotFound(
            f"复核记录不存在：{review_id}", f"No such review: {review_id}", code="review_not_found"
        )
    if review.status == "pending":
        raise Conflict("请先完成复核再收入案例库", "Review the conversation first", code="review_pending")
    title, lesson = title.strip(), lesson.strip()
    if not title or not lesson:
        raise Unprocessable("标题和要点不能为空", "Title and lesson are required", code="empty_text")
    clean_tags = sorted({tag.strip() for tag in tags if tag.strip()})
    loaded = conversations.load(session, [review.ticket_id])
    transcript = [
        {"speaker": t.speaker, "text": mask_identifiers(t.text), "at": t.at.isoformat() if t.at else None}
        for t in (loaded[0].conversation.turns if loaded else ())
        if t.speaker != "note"
    ]
    case = QaCase(
        ticket_id=review.ticket_id,
        review_id=review.id,
        kind=kind,
        title=title,
        lesson=lesson,
        tags=clean_tags,
        transcript=transcript,
        search_text=_search_text(title, lesson, " ".join(clean_tags), *(t["text"] for t in transcript)),
        created_by=actor.name,
        created_at=now,
    )
    session.add(case)
    session.flush()
    audit.record(
        session,
        actor,
        "quality.case",
        ("quality_case", case.id),
        None,
        {"review_id": review_id, "kind": kind},
    )
    return case


def search_cases(
    session: Session,
    *,
    q: str | None = None,
    tag: str | None = None,
    kind: str | None = None,
    limit: int = 50,
) -> list[QaCase]:
    """Cases whose text holds every word of `q` (Traditional or Simplified), newest first."""
    statement = select(QaCase)
    for word in (q or "").split():
        needle = _search_text(word)
        if needle:
            escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            statement = statement.where(QaCase.search_text.like(f"%{escaped}%", escape="\\"))
    if kind:
        statement = statement.where(QaCase.kind == kind)
    cases = list(session.scalars(statement.order_by(QaCase.id.desc()).limit(limit if not tag else 1000)))
    if tag:
        cases = [case for case in cases if tag.strip() in case.tags][:limit]
    return cases
