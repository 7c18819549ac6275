"""Promise figures for reports: the collections room's read interface over its own outcomes.

A promise counts in the period its promised date falls in. It is judged once kept or broken (the
close judges it: `plan._judge_promises`). A promise superseded by a later promise of the same
borrower, made on or before its date, is left out: the borrower renegotiated, and the later one
is judged instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import String, and_, case, cast, exists, func, select
from sqlalchemy.orm import Session, aliased

from lenddesk.collections.models import Contact, Outcome

GROUPINGS = ("month", "collector")
# Outcomes that reached the borrower (the strategy report's right-party contacts).
RIGHT_PARTY_KINDS = ("right_party", "promise_to_pay", "dispute", "hardship", "refused")


@dataclass(frozen=True)
class PromiseFigures:
    key: str  # YYYY-MM of the promised date, or the collector's user id
    label: str
    made: int
    judged: int
    kept: int
    promised_fen: int  # of the judged promises
    paid_up_to_promise_fen: int  # Σ min(paid by the date, promised), judged promises


def promise_figures(
    session: Session,
    *,
    first: date,
    last: date,
    by: str = "month",
    collector_id: int | None = None,
    collector_ids: Sequence[int] | None = None,
) -> list[PromiseFigures]:
    """`collector_id` one collector's promises; `collector_ids` a team's."""
    later = aliased(Outcome)
    superseded = exists().where(
        later.borrower_id == Outcome.borrower_id,
        later.kind == "promise_to_pay",
        later.id > Outcome.id,
        later.promised_on <= Outcome.promise_date,
    )
    judged = Outcome.promise_status.in_(("kept", "broken"))
    key = (
        func.substr(cast(Outcome.promise_date, String), 1, 7)
        if by == "month"
        else cast(Outcome.actor_id, String)
    )
    label = key if by == "month" else func.max(Outcome.actor_name)
    query = (
        select(
            key.label("key"),
            label.label("label"),
            func.count(),
            func.sum(case((judged, 1), else_=0)),
            func.sum(case((Outcome.promise_status == "kept", 1), else_=0)),
            func.sum(case((judged, Outcome.promise_amount_fen), else_=0)),
            func.sum(
                case(
                    (
                        and_(judged, Outcome.paid_fen < Outcome.promise_amount_fen),
                        Outcome.paid_fen,
                    ),
                    (judged, Outcome.promise_amount_fen),
                    else_=0,
                )
            ),
        )
        .where(
            Outcome.kind == "promise_to_pay",
            Outcome.promise_date >= first,
            Outcome.promise_date <= last,
            ~superseded,
        )
        .group_by(key)
        .order_by(key)
    )
    query = _of_collectors(query, collector_id, collector_ids)
    return [
        PromiseFigures(
            str(k or ""), str(lbl or k or ""), int(m), int(j or 0), int(kp or 0), int(p or 0), int(c or 0)
        )
        for k, lbl, m, j, kp, p, c in session.execute(query)
    ]


@dataclass(frozen=True)
class CollectorFigures:
    collector_id: int
    name: str
    contacts: int  # contacts sent by the collector (blocked attempts not counted)
    right_party: int  # outcomes reaching the borrower
    promises: int  # promises made
    judged: int
    kept: int
    recovered_fen: int  # paid against the collector's judged promises, up to what was promised


def _of_collectors(query: Any, collector_id: int | None, collector_ids: Sequence[int] | None) -> Any:
    if collector_id is not None:
        query = query.where(Outcome.actor_id == collector_id)
    if collector_ids is not None:
        query = query.where(Outcome.actor_id.in_(list(collector_ids)))
    return query


def collector_figures(
    session: Session,
    *,
    first: date,
    last: date,
    collector_id: int | None = None,
    collector_ids: Sequence[int] | None = None,
) -> list[CollectorFigures]:
    """Per collector over [first, last] (contact and promise dates, borrower-local / business dates)."""
    contacts = dict(
        session.execute(
            select(Contact.actor_id, func.count())
            .where(
                Contact.status == "sent",
                Contact.actor_id.is_not(None),
                Contact.local_date >= first,
                Contact.local_date <= last,
            )
            .group_by(Contact.actor_id)
        ).all()
    )
    judged = Outcome.promise_status.in_(("kept", "broken"))
    capped = case(
        (Outcome.paid_fen < Outcome.promise_amount_fen, Outcome.paid_fen), else_=Outcome.promise_amount_fen
    )
    outcomes = session.execute(
        select(
            Outcome.actor_id,
            func.max(Outcome.actor_name),
            func.sum(case((Outcome.kind.in_(RIGHT_PARTY_KINDS), 1), else_=0)),
            func.sum(case((Outcome.kind == "promise_to_pay", 1), else_=0)),
            func.sum(case((judged, 1), else_=0)),
            func.sum(case((Outcome.promise_status == "kept", 1), else_=0)),
            func.sum(case((judged, capped), else_=0)),
        )
        .where(Outcome.actor_id.is_not(None), Outcome.promised_on >= first, Outcome.promised_on <= last)
        .group_by(Outcome.actor_id)
    ).all()
    by_id = {row[0]: row for row in outcomes}
    ids = sorted(set(contacts) | set(by_id))
    if collector_id is not None:
        ids = [i for i in ids if i == collector_id]
    if collector_ids is not None:
        ids = [i for i in ids if i in set(collector_ids)]
    result = []
    for actor in ids:
        row = by_id.get(actor)
        result.append(
            CollectorFigures(
                collector_id=actor,
                name=str(row[1]) if row else "",
                contacts=int(contacts.get(actor, 0)),
                right_party=int(row[2] or 0) if row else 0,
                promises=int(row[3] or 0) if row else 0,
                judged=int(row[4] or 0) if row else 0,
                kept=int(row[5] or 0) if row else 0,
                recovered_fen=int(row[6] or 0) if row else 0,
            )
        )
    return result


PROMISE_STATES = ("kept", "broken", "open")


@dataclass(frozen=True)
class PromiseBehind:
    outcome_id: int
    borrower_id: int
    collector: str
    promised_on: date
    promise_date: date
    promised_fen: int
    paid_fen: int
    status: str


def promises_behind(
    session: Session,
    *,
    first: date,
    last: date,
    status: str | None = None,
    collector_id: int | None = None,
    collector_ids: Sequence[int] | None = None,
    limit: int = 200,
) -> list[PromiseBehind]:
    """The promises counted in a promise figure (same period and supersession rule), by status."""
    later = aliased(Outcome)
    superseded = exists().where(
        later.borrower_id == Outcome.borrower_id,
        later.kind == "promise_to_pay",
        later.id > Outcome.id,
        later.promised_on <= Outcome.promise_date,
    )
    query = select(
        Outcome.id,
        Outcome.borrower_id,
        Outcome.actor_name,
        Outcome.promised_on,
        Outcome.promise_date,
        Outcome.promise_amount_fen,
        Outcome.paid_fen,
        Outcome.promise_status,
    ).where(
        Outcome.kind == "promise_to_pay",
        Outcome.promise_date >= first,
        Outcome.promise_date <= last,
        ~superseded,
    )
    if status is not None:
        query = query.where(Outcome.promise_status == status)
    query = _of_collectors(query, collector_id, collector_ids).order_by(Outcome.promise_date, Outcome.id)
    return [
        PromiseBehind(i, b, a or "", on, due, int(p or 0), int(paid or 0), st or "")
        for i, b, a, on, due, p, paid, st in session.execute(query.limit(limit))
    ]
