"""Activity events from channels: recorded once per (source, event_id) and judged by the rules on
the borrower's history as of the event's own time (docs/RISK.md "Events")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import Conflict, Unprocessable
from lenddesk.risk import rules
from lenddesk.risk.models import Alert, Event
from lenddesk.risk.service._common import (
    INSERTS,
    identity_of,
    insert_for,
    lock_profile_row,
    thresholds,
)


@dataclass(frozen=True)
class EventResult:
    event_id: int  # the stored row's id (the first one's, for a replay)
    created: bool
    alert_ids: list[int]


def _check(kind: str, region: str, amount_fen: int | None) -> str:
    if kind not in rules.EVENT_KINDS:
        raise Unprocessable(
            f"未知的事件类型：{kind}", f"Unknown event kind {kind!r}", code="unknown_event_kind"
        )
    province = rules.province_of(region)
    if province is None:
        raise Unprocessable(
            "地区代码无效（应为 6 位 GB/T 2260 行政区划代码）",
            "Invalid region: expected a 6-digit GB/T 2260 code of a known province",
            code="invalid_region",
        )
    if kind == "transfer" and (amount_fen is None or amount_fen <= 0):
        raise Unprocessable(
            "转账事件须有大于零的金额", "A transfer needs an amount above zero", code="amount_required"
        )
    if kind != "transfer" and amount_fen is not None:
        raise Unprocessable("只有转账事件带金额", "Only transfers carry an amount", code="amount_not_allowed")
    return province


# Intake of events is a hot path (every login and transfer of every borrower): Core statements on the
# tables, built once, reading only the columns the rules need (building a statement costs more than
# SQLite takes to run it). A replay is answered before any write, so it never waits for the lock.
_events, _alerts = Event.__table__, Alert.__table__
_RULE_COLUMNS = ("source", "event_id", "kind", "at", "province", "amount_fen", "success")
_STORED_EVENT = select(
    _events.c.id, _events.c.borrower_id, _events.c.kind, _events.c.at, _events.c.region, _events.c.amount_fen
).where(_events.c.source == bindparam("source"), _events.c.event_id == bindparam("event_id"))
_INSERT_EVENT = {
    dialect: insert_of(_events)
    .on_conflict_do_nothing(index_elements=["source", "event_id"])
    .returning(_events.c.id)
    for dialect, insert_of in INSERTS.items()
}
_NEARBY_EVENTS = select(*(_events.c[name] for name in _RULE_COLUMNS)).where(
    _events.c.borrower_id == bindparam("borrower_id"),
    _events.c.at >= bindparam("since"),
    _events.c.at < bindparam("until"),
)


def _insert_event(session: Session) -> Any:
    return _INSERT_EVENT[session.get_bind().dialect.name]


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _pure(row: Any) -> rules.Event:
    return rules.Event(
        event_id=row.event_id,
        source=row.source,
        kind=row.kind,
        at=_utc(row.at),
        province=row.province,
        amount_fen=row.amount_fen,
        success=row.success,
    )


def _replay(session: Session, source: str, event_id: str, payload: tuple[object, ...]) -> EventResult | None:
    """The stored event under this (source, event_id), as a replay, or None when there is none. A
    different payload under a used id is refused (409)."""
    stored = session.connection().execute(_STORED_EVENT, {"source": source, "event_id": event_id}).first()
    if stored is None:
        return None
    same = (stored.borrower_id, stored.kind, _utc(stored.at), stored.region, stored.amount_fen) == payload
    if not same:
        raise Conflict(
            "该事件编号已用于另一事件",
            "This event id was already used for another event",
            code="event_id_reused",
        )
    return EventResult(stored.id, False, [])


def record_event(
    session: Session,
    *,
    actor: audit.Actor,
    source: str,
    event_id: str,
    borrower_id: int,
    kind: str,
    at: datetime,
    region: str,
    amount_fen: int | None = None,
    device: str | None = None,
    success: bool = True,
    now: datetime,
) -> EventResult:
    """Record an event and raise the alerts it calls for. The same (source, event_id) again records
    nothing and raises nothing (a different payload under a used id is refused, 409). A person's
    event (an admin's) is audited; a channel's event row is its own record."""
    province = _check(kind, region, amount_fen)
    at = at.astimezone(UTC)
    payload = (borrower_id, kind, at, region, amount_fen)
    replay = _replay(session, source, event_id, payload)
    if replay is not None:
        return replay
    home_province = rules.province_of(identity_of(session, borrower_id)[0][:6])
    lock_profile_row(session, borrower_id)
    stored_id = (
        session.connection()
        .execute(
            _insert_event(session),
            {
                "source": source,
                "event_id": event_id,
                "borrower_id": borrower_id,
                "kind": kind,
                "at": at,
                "region": region,
                "province": province,
                "amount_fen": amount_fen,
                "device": device,
                "success": success,
                "received_at": now,
            },
        )
        .scalar()
    )
    if stored_id is None:  # the same id was recorded while this one waited for the lock
        replay = _replay(session, source, event_id, payload)
        assert replay is not None  # the conflict was on (source, event_id)
        return replay
    if actor.user_id is not None:
        audit.record(
            session,
            actor,
            "risk.event",
            ("risk_event", stored_id),
            None,
            {"source": source, "event_id": event_id, "kind": kind, "borrower_id": borrower_id},
        )
    event = rules.Event(event_id, source, kind, at, province, amount_fen, success)
    alert_ids = _judge(session, borrower_id, event, home_province=home_province, now=now)
    return EventResult(stored_id, True, alert_ids)


def _judge(
    session: Session, borrower_id: int, event: rules.Event, *, home_province: str | None, now: datetime
) -> list[int]:
    """Judge the event on the history as of its time; a late transfer also completes the windows of
    the transfers after it (each judged again on the history as of its own time, now complete). An
    event no rule can raise on (a login at home, a card binding) reads no history."""
    if not rules.may_raise(event, home_province):
        return []
    limits = thresholds()
    reach = max(limits.lookback, limits.window)
    nearby = session.connection().execute(
        _NEARBY_EVENTS,
        {"borrower_id": borrower_id, "since": event.at - reach, "until": event.at + limits.window},
    )
    history = [_pure(row) for row in nearby]
    to_judge = [event]
    if event.kind == "transfer":
        later = (e for e in history if e.kind == "transfer" and e.at > event.at)
        to_judge += sorted(later, key=lambda e: e.at)
    alert_ids = []
    for judged in to_judge:
        for found in rules.judge(judged, history, home_province=home_province, limits=limits):
            alert_id = raise_alert(
                session, borrower_id=borrower_id, rule=found.rule, evidence=found.evidence, now=now
            )
            if alert_id is not None:
                alert_ids.append(alert_id)
    return alert_ids


def raise_alert(
    session: Session, *, borrower_id: int, rule: str, evidence: dict[str, object], now: datetime
) -> int | None:
    """The id of a new open alert, or None when the borrower already has one open for the rule."""
    return session.execute(
        insert_for(session)(_alerts)
        .values(
            rule=rule,
            borrower_id=borrower_id,
            status="open",
            open_key=open_key(borrower_id, rule),
            evidence=evidence,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["open_key"])
        .returning(_alerts.c.id)
    ).scalar()


def open_key(borrower_id: int, rule: str) -> str:
    return f"{borrower_id}:{rule}"
