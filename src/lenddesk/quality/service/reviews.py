"""The review queue: reviews opened by scoring, low CSAT or the weekly sample; a reviewer's verdict
per rubric item; the agent's acknowledgement; the per-item disagreement record.

A review is an insert that does nothing when the ticket already has one, a verdict a conditional
UPDATE on the review's status.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from lenddesk.core.models import User
from lenddesk.core.pii import is_valid_bank_card, is_valid_id_number, mask_bank_card, mask_id_number
from lenddesk.desk import service as desk
from lenddesk.quality import conversations, rubric, sampling
from lenddesk.quality.models import QaItemVerdict, QaReview, QaScore
from lenddesk.quality.service.policy import REVIEWERS, quality_policy

# The desk's tickets as a row source (its read interface): quality joins its reviews with them.
_TICKETS = desk.ticket_rows()

# --- the review queue ----------------------------------------------------------------------------


def _insert_ignore(session: Session, table: Any, values: dict[str, Any]) -> Any:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).values(values).on_conflict_do_nothing()


def _team_leads(session: Session, team_id: int | None) -> list[int]:
    if team_id is not None:
        lead = desk.team_lead_id(session, team_id)
        if lead is not None:
            return [lead]
    return list(session.scalars(select(User.id).where(User.role == "team_lead", User.active.is_(True))))


@dataclass(frozen=True)
class ReviewEntry:
    ticket_id: int
    score_id: int
    agent_id: int | None
    reason: str


def open_reviews(session: Session, entries: Sequence[ReviewEntry], *, now: datetime) -> dict[str, int]:
    """Put conversations in the review queue, once per ticket (one INSERT … ON CONFLICT DO NOTHING for
    the lot); each newly queued severe one notifies its team lead. A stronger reason (severe, low
    CSAT) replaces the one a pending review entered with. Returns the reviews opened, by reason."""
    if not entries:
        return {}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = [
        {
            "ticket_id": e.ticket_id,
            "score_id": e.score_id,
            "agent_id": e.agent_id,
            "reason": e.reason,
            "status": "pending",
            "created_at": now,
        }
        for e in entries
    ]
    # Unordered: `opened` is a set, and in parameter order an upsert goes one row per statement.
    statement = insert(QaReview).on_conflict_do_nothing().returning(QaReview.ticket_id)
    opened = {row[0] for row in session.execute(statement, values).all()}
    for reason in ("severe", "low_csat"):
        stronger = [e.ticket_id for e in entries if e.reason == reason and e.ticket_id not in opened]
        if stronger:
            session.execute(
                update(QaReview)
                .where(
                    QaReview.ticket_id.in_(stronger),
                    QaReview.status == "pending",
                    QaReview.reason != "severe",
                )
                .values(reason=reason)
            )
    _notify_severe(session, [e for e in entries if e.reason == "severe" and e.ticket_id in opened], now=now)
    counts: dict[str, int] = {}
    for entry in entries:
        if entry.ticket_id in opened:
            counts[entry.reason] = counts.get(entry.reason, 0) + 1
    return counts


def _notify_severe(session: Session, entries: Sequence[ReviewEntry], *, now: datetime) -> None:
    if not entries:
        return
    ids = [e.ticket_id for e in entries]
    tickets = session.execute(
        select(_TICKETS.c.id, _TICKETS.c.number, _TICKETS.c.team_id).where(_TICKETS.c.id.in_(ids))
    ).all()
    items = dict(
        session.execute(select(QaScore.ticket_id, QaScore.items).where(QaScore.ticket_id.in_(ids))).all()
    )
    leads: dict[int | None, list[int]] = {}
    notes = []
    for ticket_id, number, team_id in tickets:
        if team_id not in leads:
            leads[team_id] = _team_leads(session, team_id)
        failed = items.get(ticket_id) or []
        codes = "、".join(rubric.CODE_LABELS[i["code"]] for i in failed if i["result"] == "fail")
        body = f"工单 {number} 质检发现严重问题（{codes}），已进入复核队列"
        notes += [desk.Notice(lead, "qa_severe", body, ticket_id) for lead in leads[team_id]]
    desk.notify(session, notes, now=now)


def open_review(
    session: Session, *, ticket_id: int, score_id: int, agent_id: int | None, reason: str, now: datetime
) -> bool:
    """Put one conversation in the review queue; True when this call opened the review."""
    return bool(open_reviews(session, [ReviewEntry(ticket_id, score_id, agent_id, reason)], now=now))


@dataclass(frozen=True)
class ReviewRow:
    review: QaReview
    ticket_number: str
    agent_name: str | None
    score: int
    severe: bool
    failed: tuple[str, ...]


def _review_rows(session: Session, statement: Select[Any]) -> list[ReviewRow]:
    rows = session.execute(statement).all()
    return [
        ReviewRow(
            review=row.QaReview,
            ticket_number=row.number,
            agent_name=row.display_name,
            score=row.score,
            severe=row.severe,
            failed=tuple(i["code"] for i in row.items if i["result"] == "fail"),
        )
        for row in rows
    ]


def _review_select() -> Select[Any]:
    return (
        select(QaReview, _TICKETS.c.number, User.display_name, QaScore.score, QaScore.severe, QaScore.items)
        .join(_TICKETS, _TICKETS.c.id == QaReview.ticket_id)
        .join(QaScore, QaScore.id == QaReview.score_id)
        .outerjoin(User, User.id == QaReview.agent_id)
    )


def review_queue(
    session: Session,
    *,
    viewer: User,
    status: str | None = "pending",
    reason: str | None = None,
    agent_id: int | None = None,
    limit: int = 100,
) -> list[ReviewRow]:
    """Reviewers see the queue (severe first, then oldest); agents see only their own reviews."""
    statement = _review_select()
    if viewer.role not in REVIEWERS:
        statement = statement.where(QaReview.agent_id == viewer.id, QaReview.status != "pending")
    elif agent_id is not None:
        statement = statement.where(QaReview.agent_id == agent_id)
    if status:
        statement = statement.where(QaReview.status == status)
    if reason:
        statement = statement.where(QaReview.reason == reason)
    severe_first = (QaReview.reason != "severe").asc()
    return _review_rows(session, statement.order_by(severe_first, QaReview.id).limit(limit))


_CLEAR_NUMBER = re.compile(r"(?<!\d)\d{12,19}[\dXx]?(?!\d)")


def mask_identifiers(text: str) -> str:
    """ID and bank card numbers in a transcript shown to reviewers, masked (the check digits decide)."""

    def masked(match: re.Match[str]) -> str:
        value = match.group()
        if is_valid_id_number(value):
            return mask_id_number(value.upper())
        if is_valid_bank_card(value):
            return mask_bank_card(value)
        return value

    return _CLEAR_NUMBER.sub(masked, text)


@dataclass(frozen=True)
class ReviewDetail:
    row: ReviewRow
    score: QaScore
    transcript: list[dict[str, Any]]
    verdicts: dict[str, QaItemVerdict]


def _may_see(viewer: User, review: QaReview) -> None:
    if viewer.role in REVIEWERS or (review.agent_id == viewer.id and review.status != "pending"):
        return
    raise NotFound(f"复核记录不存在：{review.id}", f"No such review: {review.id}", code="review_not_found")


def review_detail(session: Session, *, viewer: User, review_id: int) -> ReviewDetail:
    found = _review_rows(session, _review_select().where(QaReview.id == review_id))
    if not found:
        raise NotFound(
            f"复核记录不存在：{review_id}", f"No such review: {review_id}", code="review_not_found"
        )
    row = found[0]
    _may_see(viewer, row.review)
    score = session.get(QaScore, row.review.score_id)
    assert score is not None
    loaded = conversations.load(session, [row.review.ticket_id])
    transcript = [
        {"speaker": turn.speaker, "text": mask_identifiers(turn.text), "at": turn.at}
        for turn in (loaded[0].conversation.turns if loaded else ())
    ]
    verdicts = {
        v.code: v for v in session.scalars(select(QaItemVerdict).where(QaItemVerdict.review_id == review_id))
    }
    return ReviewDetail(row, score, transcript, verdicts)


@dataclass(frozen=True)
class ItemVerdictIn:
    code: str
    result: str  # pass, fail, n/a
    comment: str | None = None


def submit_review(
    session: Session,
    *,
    actor: audit.Actor,
    review_id: int,
    verdicts: Sequence[ItemVerdictIn],
    comment: str | None,
    now: datetime,
) -> QaReview:
    """A reviewer confirms or overrides each item (items not named are confirmed as scored).

    The review is decided once: a conditional UPDATE on its status, so two reviewers submitting at
    once leave one verdict and the other gets a conflict.
    """
    review = session.get(QaReview, review_id)
    if review is None:
        raise NotFound(
            f"复核记录不存在：{review_id}", f"No such review: {review_id}", code="review_not_found"
        )
    if review.agent_id == actor.user_id:
        raise Forbidden(
            "不能复核自己处理的会话，请由其他质检员或组长复核",
            "You may not review a conversation of your own; another reviewer must",
            code="own_conversation",
        )
    score = session.get(QaScore, review.score_id)
    assert score is not None
    automatic = {item["code"]: item for item in score.items}
    named: dict[str, ItemVerdictIn] = {}
    for verdict in verdicts:
        if verdict.code not in automatic:
            raise Unprocessable(
                f"该评分没有此项目：{verdict.code}",
                f"The score has no item {verdict.code}",
                code="unknown_rubric_item",
            )
        if verdict.result not in rubric.RESULTS:
            raise Unprocessable(
                f"结果应为 pass、fail 或 n/a：{verdict.result}", "Result must be pass, fail or n/a"
            )
        if verdict.code in named:
            raise Unprocessable(f"项目重复：{verdict.code}", f"Item given twice: {verdict.code}")
        named[verdict.code] = verdict
    human = {
        code: (named[code].result if code in named else item["result"]) for code, item in automatic.items()
    }
    applicable = sum(item["weight"] for code, item in automatic.items() if human[code] != "n/a")
    passed = sum(item["weight"] for code, item in automatic.items() if human[code] == "pass")
    human_score = 100 if not applicable else (200 * passed + applicable) // (2 * applicable)
    if quality_policy().severe_zeroes_score and any(
        human[code] == "fail" for code in rubric.SEVERE_CODES if code in human
    ):
        human_score = 0
    decided = session.execute(
        update(QaReview)
        .where(QaReview.id == review_id, QaReview.status == "pending")
        .values(
            status="reviewed",
            reviewer_id=actor.user_id,
            reviewer_name=actor.name,
            reviewed_at=now,
            human_score=human_score,
            comment=(comment or "").strip() or None,
        )
    ).rowcount  # type: ignore[attr-defined]
    if not decided:
        raise Conflict("该复核已完成", "The review is already decided", code="review_decided")
    for code, item in automatic.items():
        given = named.get(code)
        session.add(
            QaItemVerdict(
                review_id=review_id,
                code=code,
                automatic=item["result"],
                human=human[code],
                agrees=human[code] == item["result"],
                comment=((given.comment or "").strip() or None) if given else None,
                at=now,
            )
        )
    session.flush()
    session.refresh(review)
    audit.record(
        session,
        actor,
        "quality.review",
        ("quality_review", review_id),
        {"status": "pending", "score": score.score},
        {
            "status": "reviewed",
            "human_score": human_score,
            "overridden": sorted(code for code in automatic if human[code] != automatic[code]["result"]),
        },
    )
    return review


def acknowledge_review(
    session: Session, *, actor: audit.Actor, review_id: int, comment: str | None, now: datetime
) -> QaReview:
    """The agent reads the reviewer's feedback and acknowledges it (once)."""
    review = session.get(QaReview, review_id)
    if review is None or (review.agent_id != actor.user_id and actor.role != "admin"):
        raise NotFound(
            f"复核记录不存在：{review_id}", f"No such review: {review_id}", code="review_not_found"
        )
    done = session.execute(
        update(QaReview)
        .where(QaReview.id == review_id, QaReview.status == "reviewed")
        .values(status="acknowledged", acknowledged_at=now, agent_comment=(comment or "").strip() or None)
    ).rowcount  # type: ignore[attr-defined]
    if not done:
        state = "尚未复核" if review.status == "pending" else "已确认"
        raise Conflict(
            f"该复核{state}，不能确认", f"The review is {review.status}", code="review_not_reviewed"
        )
    session.refresh(review)
    audit.record(
        session,
        actor,
        "quality.acknowledge",
        ("quality_review", review_id),
        {"status": "reviewed"},
        {"status": "acknowledged"},
    )
    return review


@dataclass(frozen=True)
class Disagreement:
    code: str
    reviewed: int
    agreed: int
    auto_fail_human_pass: int
    auto_pass_human_fail: int

    @property
    def agreement(self) -> float:
        return self.agreed / self.reviewed if self.reviewed else 1.0


def disagreements(session: Session, *, since: datetime | None = None) -> list[Disagreement]:
    """Per rubric item: how often reviewers agreed with the automatic verdict, and which way not."""
    statement = select(
        QaItemVerdict.code,
        func.count(QaItemVerdict.id),
        func.count(QaItemVerdict.id).filter(QaItemVerdict.agrees.is_(True)),
        func.count(QaItemVerdict.id).filter(
            and_(QaItemVerdict.automatic == "fail", QaItemVerdict.human == "pass")
        ),
        func.count(QaItemVerdict.id).filter(
            and_(QaItemVerdict.automatic == "pass", QaItemVerdict.human == "fail")
        ),
    ).group_by(QaItemVerdict.code)
    if since is not None:
        statement = statement.where(QaItemVerdict.at >= since)
    found = {row[0]: Disagreement(*row) for row in session.execute(statement).all()}
    return [found.get(code, Disagreement(code, 0, 0, 0, 0)) for code in rubric.CODES]


def sample_quiet_agents(session: Session, *, since: datetime, now: datetime) -> int:
    """Stratification floor: an agent with scored conversations since `since` but none in the queue
    gets the one with the lowest draw sampled (so nobody goes a week unreviewed)."""
    reviewed_agents = select(QaReview.agent_id).where(
        QaReview.created_at >= since, QaReview.agent_id.is_not(None)
    )
    candidates = session.execute(
        select(QaScore.id, QaScore.ticket_id, QaScore.agent_id)
        .outerjoin(QaReview, QaReview.ticket_id == QaScore.ticket_id)
        .where(
            QaScore.conversation_at >= since,
            QaScore.agent_id.is_not(None),
            QaScore.agent_id.not_in(reviewed_agents),
            QaReview.id.is_(None),
        )
    ).all()
    lowest: dict[int, tuple[float, int, int]] = {}
    for score_id, ticket_id, agent_id in candidates:
        drawn = (sampling.draw(ticket_id), score_id, ticket_id)
        if agent_id not in lowest or drawn < lowest[agent_id]:
            lowest[agent_id] = drawn
    opened = 0
    for agent_id, (_draw, score_id, ticket_id) in sorted(lowest.items()):
        opened += open_review(
            session, ticket_id=ticket_id, score_id=score_id, agent_id=agent_id, reason="sample", now=now
        )
    return opened


def week_start(now: datetime) -> datetime:
    """Monday 00:00 Shanghai of `now`'s week, in UTC."""
    from lenddesk.core.calendar import SHANGHAI

    local = now.astimezone(SHANGHAI)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return monday


def require_reviewer(user: User) -> None:
    if user.role not in REVIEWERS:
        raise Forbidden("只有质检或组长可以复核", "Only QA and team leads review", code="role_forbidden")
