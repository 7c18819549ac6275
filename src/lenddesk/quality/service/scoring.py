"""Automatic QA of stored conversations.

A score is an upsert on the ticket (`ON CONFLICT (ticket_id) DO UPDATE … WHERE` the fingerprint
changed), so two runs may overlap.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Select, String, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lenddesk.core import bulk
from lenddesk.core.calendar import business_date
from lenddesk.core.db import UTCDateTime
from lenddesk.desk import categorise
from lenddesk.desk import hooks as desk_hooks
from lenddesk.desk import service as desk
from lenddesk.feedback import service as feedback
from lenddesk.ledger import service as ledger
from lenddesk.quality import conversations, rubric, sampling
from lenddesk.quality.models import QaScore
from lenddesk.quality.service.policy import ENDED, quality_policy, rubric_version, rubric_weights
from lenddesk.quality.service.reviews import ReviewEntry, open_review, open_reviews

# The desk's tickets as a row source (its read interface): quality joins its scores with them.
_TICKETS = desk.ticket_rows()

# --- automatic QA of stored conversations --------------------------------------------------------


@dataclass
class ScoreRun:
    """What one QA run did: conversations read, scores written (new or changed), reviews opened."""

    read: int = 0
    written: int = 0
    severe: int = 0
    reviews: dict[str, int] = field(default_factory=dict)


def _one_of(session: Session, column: Any, ticket_ids: Sequence[int]) -> Any:
    """`column IN (ticket_ids)` with the ids in one parameter (`bulk.one_of`): a chunk's thousand
    ids rendered one by one made a statement PostgreSQL's driver parsed anew each time."""
    return bulk.one_of(column, ticket_ids, session.get_bind().dialect)


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


# A stored score is replaced only when one of these changed: what was scored, the rubric, the ticket.
_CHANGED = ("content_hash", "rubric_version", "ticket_updated_at")


def _upsert_statement(dialect: str) -> Any:
    """INSERT … ON CONFLICT (ticket_id) DO UPDATE only where the fingerprint, the rubric or the
    ticket changed, RETURNING what was written; run with many rows at once (executemany).

    The rows come back unordered: asking for them in parameter order made SQLAlchemy send an upsert
    (whose RETURNING may skip rows) one row per statement, a round trip per conversation. Each row
    names its ticket, and `_upsert` puts them back in parameter order."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(QaScore)
    changed = or_(*(QaScore.__table__.c[name] != statement.excluded[name] for name in _CHANGED))
    return statement.on_conflict_do_update(
        index_elements=["ticket_id"],
        set_={name: statement.excluded[name] for name in SCORE_COLUMNS},
        where=changed,
    ).returning(QaScore.id, QaScore.ticket_id)


_UPSERTS = {dialect: _upsert_statement(dialect) for dialect in ("postgresql", "sqlite")}


def _document_upsert_statement() -> Any:
    """PostgreSQL: the same upsert with the rows in one JSON document, read back by
    `json_to_recordset` (as `core.bulk` writes). Its text is the same for any number of rows:
    psycopg parses a statement's text in Python and caches short ones only, and a thousand rows'
    placeholders were parsed anew per chunk."""
    table = QaScore.__table__
    names = ["ticket_id", *SCORE_COLUMNS]

    def declared(name: str) -> str:  # JSON columns travel as their serialised text
        column_type = table.c[name].type
        if isinstance(column_type, String | JSON):
            return f"{name} TEXT"
        return f"{name} {column_type.compile(dialect=postgresql.dialect())}"

    values = ", ".join(
        f"CAST(v.{name} AS JSON)" if isinstance(table.c[name].type, JSON) else f"v.{name}" for name in names
    )
    records = f"json_to_recordset(CAST(:rows AS JSON)) AS v({', '.join(declared(name) for name in names)})"
    changed = " OR ".join(f"{table.name}.{name} != excluded.{name}" for name in _CHANGED)
    return text(
        f"INSERT INTO {table.name} ({', '.join(names)}) SELECT {values} FROM {records} "
        f"ON CONFLICT (ticket_id) DO UPDATE SET {', '.join(f'{n} = excluded.{n}' for n in SCORE_COLUMNS)} "
        f"WHERE {changed} RETURNING id, ticket_id"
    )


_DOCUMENT_UPSERT = _document_upsert_statement()


def _document(rows: list[dict[str, Any]]) -> str:
    """The rows as one JSON document, each value as SQLAlchemy binds it: JSON columns serialised as
    their own text (None as JSON null, the JSON type's default), timestamps in UTC."""
    table = QaScore.__table__
    json_columns = [name for name in SCORE_COLUMNS if isinstance(table.c[name].type, JSON)]
    times = {
        name: column.type for name in SCORE_COLUMNS if isinstance((column := table.c[name]).type, UTCDateTime)
    }
    bound = []
    for row in rows:
        values = dict(row)
        for name in json_columns:
            values[name] = json.dumps(row[name])
        for name, column_type in times.items():
            values[name] = column_type.process_bind_param(row[name], None).isoformat()
        bound.append(values)
    return json.dumps(bound, ensure_ascii=False)


def _upsert(session: Session, rows: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """The upsert of a chunk's scores, a few multi-row statements; (score id, ticket id) of the rows
    written, in the order of `rows`. On the session's connection, as Core: through the ORM's bulk
    path it cost as much Python again (no ORM object is built either way). The session's pending
    changes are flushed first, as `Session.execute` would."""
    if session.autoflush:
        session.flush()
    connection = session.connection()
    position = {row["ticket_id"]: index for index, row in enumerate(rows)}
    if connection.dialect.name == "postgresql":
        written = connection.execute(_DOCUMENT_UPSERT, {"rows": _document(rows)}).all()
    else:
        written = connection.execute(_UPSERTS[connection.dialect.name], rows).all()
    return sorted(((score_id, ticket_id) for score_id, ticket_id in written), key=lambda w: position[w[1]])


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
            select(QaScore.ticket_id, QaScore.ledger_facts).where(
                _one_of(session, QaScore.ticket_id, ticket_ids)
            )
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
    if "BANNED_LANGUAGE" in weights or "PRIVACY" in weights:
        rubric.check_language(item.conversation for item in loaded)
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
    written = _upsert(session, rows)
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


def score_on_resolution(session: Session, ticket: desk_hooks.ResolvedTicket, at: datetime) -> None:
    """The desk's resolution hook: score the conversation with the ledger as it stands now."""
    snapshot = _ledger_snapshot(session, ticket.borrower_id, at)
    session.flush()
    score_tickets(session, ticket_ids=[ticket.id], now=at, snapshots={ticket.id: snapshot})


def _changed_tickets(rescore: bool, after_id: int, limit: int) -> Select[tuple[int]]:
    ended = _TICKETS.c.status.in_(ENDED)
    stale = or_(QaScore.id.is_(None), _TICKETS.c.updated_at > QaScore.ticket_updated_at)
    if rescore:
        stale = or_(stale, QaScore.rubric_version != rubric_version())
    return (
        select(_TICKETS.c.id)
        .outerjoin(QaScore, QaScore.ticket_id == _TICKETS.c.id)
        .where(ended, stale, _TICKETS.c.id > after_id)
        .order_by(_TICKETS.c.id)
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
        session.scalars(
            select(_TICKETS.c.id).where(
                _one_of(session, _TICKETS.c.id, ticket_ids), _TICKETS.c.borrower_id.is_not(None)
            )
        )
    ) - set(session.scalars(select(QaScore.ticket_id).where(_one_of(session, QaScore.ticket_id, ticket_ids))))
    snapshots = {}
    for ticket_id, borrower_id in session.execute(
        select(_TICKETS.c.id, _TICKETS.c.borrower_id).where(_one_of(session, _TICKETS.c.id, sorted(missing)))
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


def score_changed(session: Session, *, now: datetime, rescore: bool = False, chunk: int = 1000) -> ScoreRun:
    """Score every ended ticket without a score or changed since it was scored (and, with
    `rescore`, every one scored under another rubric). Idempotent: a second run writes nothing.
    Commits nothing: the request, or the nightly job (`jobs.score_changed`, one commit per chunk)
    does."""
    total = ScoreRun()
    after = 0
    while ids := changed_ticket_ids(session, rescore=rescore, after=after, limit=chunk):
        add_runs(total, score_chunk(session, ticket_ids=ids, now=now))
        after = ids[-1]
    return total


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


def _review_on_answer(session: Session, survey: Any, now: datetime) -> None:
    if survey.csat is not None:
        review_low_csat(session, ticket_id=survey.ticket_id, csat=survey.csat, now=now)


desk_hooks.register_resolution_hook(score_on_resolution)
feedback.register_answer_hook(_review_on_answer)
