"""Use cases of the quality room: automatic QA of stored conversations, the review queue, the
per-item disagreement record and the case library. Keyword-only functions taking a Session; they
never commit.

Writes that two runs could race on are single statements: a score is an upsert on the ticket
(`ON CONFLICT (ticket_id) DO UPDATE … WHERE` the fingerprint changed), a review an insert that does
nothing when the ticket already has one, a verdict a conditional UPDATE on the review's status.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.calendar import business_date
from lenddesk.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from lenddesk.core.models import User
from lenddesk.core.pii import is_valid_bank_card, is_valid_id_number, mask_bank_card, mask_id_number
from lenddesk.core.policy import QualityPolicy, get_policy
from lenddesk.desk import categorise
from lenddesk.desk import hooks as desk_hooks
from lenddesk.desk import service as desk
from lenddesk.desk.models import Team, Ticket
from lenddesk.feedback import service as feedback
from lenddesk.ledger import service as ledger
from lenddesk.quality import conversations, rubric, sampling
from lenddesk.quality.models import QaCase, QaItemVerdict, QaReview, QaScore

# Bump when a check's logic changes, so `lenddesk quality rescore` re-scores what it judged.
RUBRIC_LOGIC = "2026-11-30.1"
REVIEWERS = frozenset({"qa", "team_lead", "admin"})
ENDED = ("resolved", "closed")


def quality_policy() -> QualityPolicy:
    return get_policy().quality


def rubric_weights() -> dict[str, int]:
    return {item.code: item.weight for item in quality_policy().rubric}


def rubric_version() -> str:
    policy = quality_policy()
    payload = json.dumps([RUBRIC_LOGIC, sorted(rubric_weights().items()), policy.severe_zeroes_score])
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def score_transcript(conversation: rubric.Conversation) -> rubric.Score:
    """Score any transcript against the policy's rubric (calibration; nothing is stored)."""
    return rubric.score(
        conversation, rubric_weights(), severe_zeroes_score=quality_policy().severe_zeroes_score
    )


# --- automatic QA of stored conversations --------------------------------------------------------


@dataclass
class ScoreRun:
    """What one QA run did: conversations read, scores written (new or changed), reviews opened."""

    read: int = 0
    written: int = 0
    severe: int = 0
    reviews: dict[str, int] = field(default_factory=dict)


def _ledger_snapshot(session: Session, borrower_id: int | None, now: datetime) -> dict[str, Any]:
    """The amounts and dates the ledger shows the agent now, and the borrower's contract numbers."""
    if borrower_id is None:
        return conversations.ledger_facts_to_json(None)
    summary = ledger.account_summary(session, borrower_id=borrower_id, today=business_date(now))
    amounts: set[int] = set()
    dates = set()
    for loan in summary.loans:
        amounts.update({loan.next_due_amount_fen, loan.overdue_amount_fen, loan.outstanding_principal_fen})
        amounts.add(loan.next_due_amount_fen + loan.overdue_amount_fen)
        if loan.next_due_on is not None:
            dates.add(loan.next_due_on)
    amounts.discard(0)
    if summary.overdue_amount_fen:
        amounts.add(summary.overdue_amount_fen)
    facts = rubric.LedgerFacts(frozenset(amounts), frozenset(dates))
    return conversations.ledger_facts_to_json(facts, [loan.contract_number for loan in summary.loans])


SCORE_COLUMNS = (
    "agent_id",
    "team_id",
    "channel",
    "category",
    "score",
    "severe",
    "items",
    "rubric_version",
    "content_hash",
    "ledger_facts",
    "conversation_at",
    "ticket_updated_at",
    "scored_at",
)


def _upsert_statement(dialect: str) -> Any:
    """INSERT … ON CONFLICT (ticket_id) DO UPDATE only where the fingerprint, the rubric or the
    ticket changed, RETURNING what was written; run with many rows at once (executemany)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(QaScore)
    changed = or_(
        QaScore.content_hash != statement.excluded.content_hash,
        QaScore.rubric_version != statement.excluded.rubric_version,
        QaScore.ticket_updated_at != statement.excluded.ticket_updated_at,
    )
    return statement.on_conflict_do_update(
        index_elements=["ticket_id"],
        set_={name: statement.excluded[name] for name in SCORE_COLUMNS},
        where=changed,
    ).returning(QaScore.id, QaScore.ticket_id, sort_by_parameter_order=True)


def score_tickets(
    session: Session,
    *,
    ticket_ids: Sequence[int],
    now: datetime,
    snapshots: dict[int, dict[str, Any]] | None = None,
) -> ScoreRun:
    """Score these tickets' conversations; a row changes only when what was scored or the rubric did.

    `snapshots` gives ledger facts taken now (at resolution); otherwise the facts stored with the
    previous score are reused, so a re-score judges the agent against what they saw.
    """
    run = ScoreRun()
    if not ticket_ids:
        return run
    stored = dict(
        session.execute(
            select(QaScore.ticket_id, QaScore.ledger_facts).where(QaScore.ticket_id.in_(ticket_ids))
        ).all()
    )
    facts_json = {tid: (snapshots or {}).get(tid) or stored.get(tid) for tid in ticket_ids}
    loaded = conversations.load(
        session,
        ticket_ids,
        ledger_facts={tid: conversations.ledger_facts_from_json(f) for tid, f in facts_json.items()},
        contract_numbers={tid: tuple((f or {}).get("contracts", ())) for tid, f in facts_json.items()},
    )
    weights, version = rubric_weights(), rubric_version()
    zero_on_severe = quality_policy().severe_zeroes_score
    rows, results = [], {}
    for item in loaded:
        result = rubric.score(item.conversation, weights, severe_zeroes_score=zero_on_severe)
        results[item.ticket.id] = (item.ticket, result)
        rows.append(
            {
                "ticket_id": item.ticket.id,
                "agent_id": item.ticket.owner_id,
                "team_id": item.ticket.team_id,
                "channel": item.ticket.channel,
                "category": item.ticket.category,
                "score": result.score,
                "severe": result.severe,
                "items": [
                    {"code": i.code, "result": i.result, "evidence": i.evidence, "weight": i.weight}
                    for i in result.items
                ],
                "rubric_version": version,
                "content_hash": item.content_hash(),
                "ledger_facts": facts_json.get(item.ticket.id),
                "conversation_at": item.ticket.resolved_at or item.ticket.updated_at,
                "ticket_updated_at": item.ticket.updated_at,
                "scored_at": now,
            }
        )
    run.read = len(rows)
    if not rows:
        return run
    dialect = session.get_bind().dialect.name
    written = [row for row in session.execute(_upsert_statement(dialect), rows).all() if row is not None]
    run.written = len(written)
    policy = quality_policy()
    wanted = []
    for score_id, ticket_id in written:
        ticket, result = results[ticket_id]
        run.severe += result.severe
        reason = sampling.review_reason(
            ticket_id=ticket_id,
            severe=result.severe,
            complaint=ticket.category in categorise.COMPLAINT_CATEGORIES or "complaint" in ticket.tags,
            score=result.score,
            low_score=policy.low_score,
            share=policy.sample_share,
        )
        if reason:
            wanted.append(ReviewEntry(ticket_id, score_id, ticket.owner_id, reason))
    run.reviews = open_reviews(session, wanted, now=now)
    return run


def score_on_resolution(session: Session, ticket: Ticket, at: datetime) -> None:
    """The desk's resolution hook: score the conversation with the ledger as it stands now."""
    snapshot = _ledger_snapshot(session, ticket.borrower_id, at)
    session.flush()
    score_tickets(session, ticket_ids=[ticket.id], now=at, snapshots={ticket.id: snapshot})


def _changed_tickets(rescore: bool, after_id: int, limit: int) -> Select[tuple[int]]:
    ended = Ticket.status.in_(ENDED)
    stale = or_(QaScore.id.is_(None), Ticket.updated_at > QaScore.ticket_updated_at)
    if rescore:
        stale = or_(stale, QaScore.rubric_version != rubric_version())
    return (
        select(Ticket.id)
        .outerjoin(QaScore, QaScore.ticket_id == Ticket.id)
        .where(ended, stale, Ticket.id > after_id)
        .order_by(Ticket.id)
        .limit(limit)
    )


def changed_ticket_ids(
    session: Session, *, rescore: bool = False, after: int = 0, limit: int = 1000
) -> list[int]:
    """Ids of ended tickets to score: no score yet, changed since, or (with `rescore`) scored under
    another rubric; ascending, from `after`."""
    return list(session.scalars(_changed_tickets(rescore, after, limit)))


def score_chunk(session: Session, *, ticket_ids: Sequence[int], now: datetime) -> ScoreRun:
    """Score one chunk of tickets, taking the ledger snapshot of those never scored before."""
    missing = set(
        session.scalars(select(Ticket.id).where(Ticket.id.in_(ticket_ids), Ticket.borrower_id.is_not(None)))
    ) - set(session.scalars(select(QaScore.ticket_id).where(QaScore.ticket_id.in_(ticket_ids))))
    snapshots = {}
    for ticket_id, borrower_id in session.execute(
        select(Ticket.id, Ticket.borrower_id).where(Ticket.id.in_(missing))
    ).all():
        snapshots[ticket_id] = _ledger_snapshot(session, borrower_id, now)
    return score_tickets(session, ticket_ids=ticket_ids, now=now, snapshots=snapshots)


def add_runs(total: ScoreRun, run: ScoreRun) -> ScoreRun:
    total.read += run.read
    total.written += run.written
    total.severe += run.severe
    for reason, count in run.reviews.items():
        total.reviews[reason] = total.reviews.get(reason, 0) + count
    return total


def score_changed(
    session: Session, *, now: datetime, rescore: bool = False, chunk: int = 1000, commit_chunks: bool = False
) -> ScoreRun:
    """Score every ended ticket without a score or changed since it was scored (and, with
    `rescore`, every one scored under another rubric). Idempotent: a second run writes nothing.

    `commit_chunks` commits after each chunk (the nightly job: resumable after a crash).
    """
    total = ScoreRun()
    after = 0
    while ids := changed_ticket_ids(session, rescore=rescore, after=after, limit=chunk):
        add_runs(total, score_chunk(session, ticket_ids=ids, now=now))
        after = ids[-1]
        if commit_chunks:
            session.commit()
    return total


# --- the review queue ----------------------------------------------------------------------------


def _insert_ignore(session: Session, table: Any, values: dict[str, Any]) -> Any:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).values(values).on_conflict_do_nothing()


def _team_leads(session: Session, team_id: int | None) -> list[int]:
    if team_id is not None:
        lead = session.scalar(select(Team.lead_user_id).where(Team.id == team_id))
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
    statement = (
        insert(QaReview).on_conflict_do_nothing().returning(QaReview.ticket_id, sort_by_parameter_order=True)
    )
    opened = {row[0] for row in session.execute(statement, values).all() if row is not None}
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
        select(Ticket.id, Ticket.number, Ticket.team_id).where(Ticket.id.in_(ids))
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


def review_low_csat(session: Session, *, ticket_id: int, csat: int, now: datetime) -> bool:
    """A low satisfaction score sends the conversation to review (feedback's answer hook)."""
    if csat > quality_policy().low_csat:
        return False
    score = session.execute(
        select(QaScore.id, QaScore.agent_id).where(QaScore.ticket_id == ticket_id)
    ).one_or_none()
    if score is None:
        run = score_tickets(session, ticket_ids=[ticket_id], now=now)
        if not run.read:
            return False
        score = session.execute(
            select(QaScore.id, QaScore.agent_id).where(QaScore.ticket_id == ticket_id)
        ).one()
    return open_review(
        session, ticket_id=ticket_id, score_id=score.id, agent_id=score.agent_id, reason="low_csat", now=now
    )


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
        select(QaReview, Ticket.number, User.display_name, QaScore.score, QaScore.severe, QaScore.items)
        .join(Ticket, Ticket.id == QaReview.ticket_id)
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


def require_reviewer(user: User) -> None:
    if user.role not in REVIEWERS:
        raise Forbidden("只有质检或组长可以复核", "Only QA and team leads review", code="role_forbidden")


def _review_on_answer(session: Session, survey: Any, now: datetime) -> None:
    if survey.csat is not None:
        review_low_csat(session, ticket_id=survey.ticket_id, csat=survey.csat, now=now)


desk_hooks.register_resolution_hook(score_on_resolution)
feedback.register_answer_hook(_review_on_answer)
