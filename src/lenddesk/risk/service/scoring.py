"""The early-warning score in the close of business: set-based SQL over borrower id ranges.

For business date D and each chunk of borrower ids:
1. the behaviour of every borrower with history comes from statements the owning rooms keep
   (ledger: repayment behaviour; collections: promises and hardship outcomes; negotiation: broken
   agreements and hardship cases), united and summed per borrower;
2. every borrower of the chunk gets a profile if it has none (by key, nothing computed);
3. one UPDATE sets the inputs from (1) (zeros without history), score and band in SQL (CASE
   expressions built from the same weights as the pure `risk/score.py`, its twin), keeping the band
   before — only on the profiles where an input, the score or the band changed;
4. a borrower who entered the high band gets an EARLY_WARNING_HIGH alert (at most one open);
5. borrowers without keyed ID/mobile hashes get them (everyone, once, after the key changes).
Each chunk commits with the run's progress, so a crash resumes after the last chunk done; a date
done is skipped.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.orm import aliased

from lenddesk.collections.service.behaviour import promise_behaviour
from lenddesk.core.db import UTCDateTime, utcnow
from lenddesk.core.policy import RiskPolicy, get_policy
from lenddesk.ledger.service.behaviour import (
    borrower_id_range,
    borrower_identities,
    borrower_ids_between,
    repayment_behaviour,
)
from lenddesk.negotiation.service.behaviour import negotiation_behaviour
from lenddesk.risk import rules
from lenddesk.risk.models import Alert, BorrowerKey, Profile, ScoreRun
from lenddesk.risk.score import Behaviour, Weights
from lenddesk.risk.service._common import borrower_hashes, insert_for, risk_key

FEATURES = Behaviour.names()


def behaviour_rows(*, as_of: date, policy: RiskPolicy, first_id: int, last_id: int) -> Select:
    """(borrower_id, *FEATURES) for the borrowers in [first_id, last_id] with any history."""
    since = as_of - timedelta(days=policy.score_lookback_days)
    hardship_since = as_of - timedelta(days=policy.hardship_lookback_days)
    ledger_rows = repayment_behaviour(
        as_of=as_of, lookback_days=policy.score_lookback_days, first_id=first_id, last_id=last_id
    ).subquery()
    promise_rows = promise_behaviour(
        as_of=as_of, since=since, hardship_since=hardship_since, first_id=first_id, last_id=last_id
    ).subquery()
    negotiation_rows = negotiation_behaviour(
        as_of=as_of, since=since, hardship_since=hardship_since, first_id=first_id, last_id=last_id
    ).subquery()

    def part(source: Any, present: dict[str, Any]) -> Select:
        return select(
            source.c.borrower_id.label("borrower_id"),
            *(cast(present.get(name, literal(0)), Integer).label(name) for name in FEATURES),
        )

    rows = union_all(
        part(
            ledger_rows, {n: ledger_rows.c[n] for n in ("worst_dpd", "late_instalments", "partial_payments")}
        ),
        part(promise_rows, {n: promise_rows.c[n] for n in ("broken_promises", "recent_hardship")}),
        part(negotiation_rows, {n: negotiation_rows.c[n] for n in ("broken_agreements", "recent_hardship")}),
    ).subquery()
    return select(
        rows.c.borrower_id,
        *(
            (func.max(rows.c[name]) if name == "worst_dpd" else func.sum(rows.c[name])).label(name)
            for name in FEATURES
        ),
    ).group_by(rows.c.borrower_id)


def _least(value: ColumnElement[Any], cap: int) -> ColumnElement[Any]:
    return case((value < cap, value), else_=literal(cap))


def score_sql(columns: Any, weights: Weights) -> ColumnElement[Any]:
    """The score of `score.score`, as one SQL expression over the feature columns."""
    dpd = case(
        *((columns.worst_dpd >= day, literal(points)) for day, points in reversed(weights.dpd_points)),
        else_=literal(0),
    )
    total = (
        dpd
        + _least(columns.late_instalments * weights.late_points, weights.late_cap)
        + _least(columns.partial_payments * weights.partial_points, weights.partial_cap)
        + _least(columns.broken_promises * weights.promise_points, weights.promise_cap)
        + _least(columns.broken_agreements * weights.agreement_points, weights.agreement_cap)
        + case((columns.recent_hardship > 0, literal(weights.hardship_points)), else_=literal(0))
    )
    return _least(total, 100)


def band_sql(score: ColumnElement[Any], weights: Weights) -> ColumnElement[Any]:
    return case(
        (score >= weights.high_from, literal("high")),
        (score >= weights.medium_from, literal("medium")),
        else_=literal("low"),
    )


def id_chunks(first: int, last: int, size: int) -> Iterator[tuple[int, int]]:
    low = first
    while low <= last:
        yield low, min(low + size - 1, last)
        low += size


def score_day(
    connection: Connection, business_date: date, policy: RiskPolicy | None = None
) -> dict[str, int]:
    """Score every borrower with history as of `business_date` (idempotent: a date done is skipped)."""
    policy = policy or get_policy().risk
    weights = Weights.of(policy)
    with connection.begin():
        run = connection.execute(
            select(ScoreRun.status, ScoreRun.last_borrower_id).where(ScoreRun.business_date == business_date)
        ).first()
        if run is not None and run.status == "done":
            return {"skipped": 1}
        if run is None:
            connection.execute(
                insert_for(connection)(ScoreRun)
                .values(business_date=business_date, status="running", last_borrower_id=0, counts={})
                .on_conflict_do_nothing(index_elements=["business_date"])
            )
        resume_after = run.last_borrower_id if run is not None else 0
        first, last = borrower_id_range(connection)
        key = risk_key()
        fingerprint = key_fingerprint(key)
        rekey = not _keys_made_with(connection, fingerprint)
    counts = {"scored": 0, "high": 0, "alerts": 0, "keys": 0}
    for low, high in id_chunks(max(first, resume_after + 1), last, policy.score_chunk_borrowers):
        with connection.begin():
            borrowers = _count(connection, borrower_ids_between(low, high))
            chunk = _score_chunk(connection, business_date, policy, weights, low, high, borrowers)
            chunk["keys"] = _refresh_keys(connection, key, low, high, everyone=rekey, borrowers=borrowers)
            for name, value in chunk.items():
                counts[name] += value
            connection.execute(
                update(ScoreRun).where(ScoreRun.business_date == business_date).values(last_borrower_id=high)
            )
    with connection.begin():
        connection.execute(
            update(ScoreRun)
            .where(ScoreRun.business_date == business_date)
            .values(status="done", counts={**counts, "key_fingerprint": fingerprint}, finished_at=utcnow())
        )
    return counts


def _count(connection: Connection, ids: Select) -> int:
    return int(connection.execute(select(func.count()).select_from(ids.subquery())).scalar_one())


def _score_chunk(
    connection: Connection,
    day: date,
    policy: RiskPolicy,
    weights: Weights,
    low: int,
    high: int,
    borrowers: int,
) -> dict[str, int]:
    rows = behaviour_rows(as_of=day, policy=policy, first_id=low, last_id=high).subquery()
    in_chunk = Profile.borrower_id.between(low, high)
    # Every borrower of the chunk has a profile (a cheap insert by key, nothing computed), so the
    # behaviour is computed once, in the UPDATE. A profile is one borrower's (unique, foreign key),
    # so as many profiles as borrowers in the range means none is missing: the usual day, on which
    # the insert's 20,000 key conflicts a chunk are not paid. Not NOT EXISTS: against a table never
    # analysed (the first close) PostgreSQL plans that as a nested loop re-scanning the rows this
    # very statement inserts, quadratic in the chunk.
    if _count(connection, select(Profile.borrower_id).where(in_chunk)) < borrowers:
        connection.execute(
            insert_for(connection)(Profile)
            # (WHERE TRUE: SQLite would read ON CONFLICT after a subquery as a join condition)
            .from_select(["borrower_id"], borrower_ids_between(low, high).where(true()))
            .on_conflict_do_nothing(index_elements=["borrower_id"])
        )
    # Inputs, score and band in one UPDATE, written only where something changed: most of a book
    # scores the same as yesterday, and a row not rewritten is most of the step's cost saved. A
    # profile without behaviour takes zeros.
    stored = aliased(Profile)
    inputs = (
        select(
            stored.borrower_id,
            stored.score.label("old_score"),
            stored.band.label("old_band"),
            stored.scored_on.label("old_scored_on"),
            *(stored_column.label(f"old_{name}") for name, stored_column in _stored_features(stored)),
            *(func.coalesce(rows.c[name], 0).label(name) for name in FEATURES),
        )
        .select_from(stored)
        .outerjoin(rows, rows.c.borrower_id == stored.borrower_id)
        .where(stored.borrower_id.between(low, high))
        .subquery()
    )
    score = score_sql(inputs.c, weights)
    band = band_sql(score, weights)
    changed = or_(
        inputs.c.old_scored_on.is_(None),
        inputs.c.old_score != score,
        inputs.c.old_band != band,
        *(inputs.c[f"old_{name}"] != inputs.c[name] for name in FEATURES),
    )
    rewritten = connection.execute(
        update(Profile)
        # The chunk's range on the target too: PostgreSQL otherwise reads every profile to join.
        .where(Profile.borrower_id == inputs.c.borrower_id, in_chunk, changed)
        .values(
            **{name: inputs.c[name] for name in FEATURES},
            previous_band=Profile.band,
            score=score,
            band=band,
            scored_on=day,
        )
        .returning(Profile.borrower_id, Profile.band, Profile.previous_band)
    ).all()
    # Only a rewritten profile can have entered the high band: the alerts read those, not the chunk.
    entering = [row.borrower_id for row in rewritten if row.band == "high" and row.previous_band != "high"]
    return {**_chunk_counts(connection, in_chunk), "alerts": _raise_alerts(connection, day, entering)}


ALERT_BATCH = 1_000  # ids per statement: far below SQLite's limit on bound parameters


def _raise_alerts(connection: Connection, day: date, borrower_ids: list[int]) -> int:
    """An EARLY_WARNING_HIGH alert for each of these borrowers without an open one; how many."""
    raised = 0
    for first in range(0, len(borrower_ids), ALERT_BATCH):
        entered = select(
            literal(rules.EARLY_WARNING_HIGH),
            Profile.borrower_id,
            literal("open"),
            cast(Profile.borrower_id, String) + literal(":" + rules.EARLY_WARNING_HIGH),
            _evidence_sql(connection, day),
            literal(utcnow(), UTCDateTime()),
        ).where(Profile.borrower_id.in_(borrower_ids[first : first + ALERT_BATCH]))
        raised += len(
            connection.execute(
                insert_for(connection)(Alert)
                .from_select(["rule", "borrower_id", "status", "open_key", "evidence", "created_at"], entered)
                .on_conflict_do_nothing(index_elements=["open_key"])
                .returning(Alert.id)
            ).all()
        )
    return raised


def _chunk_counts(connection: Connection, in_chunk: ColumnElement[bool]) -> dict[str, int]:
    high = func.coalesce(func.sum(case((Profile.band == "high", 1), else_=0)), 0)
    scored, high_count = connection.execute(select(func.count(), high).where(in_chunk)).one()
    return {"scored": int(scored), "high": int(high_count)}


def _stored_features(profile: Any) -> list[tuple[str, Any]]:
    return [(name, getattr(profile, name)) for name in FEATURES]


def _evidence_sql(connection: Connection, day: date) -> ColumnElement[Any]:
    """The alert's evidence: the score, its inputs and the business date, as a JSON object."""
    build = func.json_build_object if connection.dialect.name == "postgresql" else func.json_object
    pairs: list[Any] = [literal("business_date"), literal(day.isoformat()), literal("score"), Profile.score]
    for name in FEATURES:
        pairs += [literal(name), getattr(Profile, name)]
    return build(*pairs)


def key_fingerprint(key: str) -> str:
    """Names the key the stored hashes were made with, without revealing it."""
    return hmac.new(key.encode(), b"lenddesk-risk-key-fingerprint", hashlib.sha256).hexdigest()[:16]


def _keys_made_with(connection: Connection, fingerprint: str) -> bool:
    """Whether the last finished run stored its keys with this key (so only new borrowers need one)."""
    counts = connection.execute(
        select(ScoreRun.counts)
        .where(ScoreRun.status == "done")
        .order_by(ScoreRun.business_date.desc())
        .limit(1)
    ).scalar()
    return isinstance(counts, dict) and counts.get("key_fingerprint") == fingerprint


def _refresh_keys(
    connection: Connection, key: str, low: int, high: int, *, everyone: bool, borrowers: int
) -> int:
    """Store the keyed hashes of the chunk's borrowers who have none, or of everyone in the chunk
    after the key changed. ID numbers and mobiles are never edited in place, so a stored hash stays
    right while the key does; a future edit path must call `refresh_borrower_key`."""
    if (
        not everyone
        and _count(
            connection, select(BorrowerKey.borrower_id).where(BorrowerKey.borrower_id.between(low, high))
        )
        == borrowers
    ):
        return 0  # one key a borrower (primary key, foreign key): none is missing
    identities = borrower_identities(first_id=low, last_id=high).subquery()
    stored = aliased(BorrowerKey)
    wanted = select(identities).outerjoin(stored, stored.borrower_id == identities.c.borrower_id)
    if not everyone:
        wanted = wanted.where(stored.borrower_id.is_(None))
    changed = [
        dict(zip(("borrower_id", "id_hash", "mobile_hash"), (row.borrower_id, *hashes), strict=True))
        for row in connection.execute(wanted)
        for hashes in [borrower_hashes(row.id_number, row.mobile, key)]
    ]
    if changed:
        statement = insert_for(connection)(BorrowerKey)
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["borrower_id"],
                set_={"id_hash": statement.excluded.id_hash, "mobile_hash": statement.excluded.mobile_hash},
            ),
            changed,
        )
    return len(changed)
