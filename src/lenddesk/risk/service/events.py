"""Activity events from channels: recorded once per (source, event_id) and judged by the rules on
the borrower's history as of the event's own time (docs/RISK.md "Events")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import Conflict, Unprocessable
from lenddesk.risk import rules
from lenddesk.risk.models import Alert, Event
from lenddesk.risk.service._common import identity_of, insert_for, lock_profile, thresholds


@dataclass(frozen=True)
class EventResult:
    event: Event
    created: bool
    alerts: list[Alert]


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


def _pure(event: Event) -> rules.Event:
    return rules.Event(
        event_id=event.event_id,
        source=event.source,
        kind=event.kind,
        at=event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC),
        province=event.province,
        amount_fen=event.amount_fen,
        success=event.success,
    )


def _same(
    event: Event, borrower_id: int, kind: str, at: datetime, region: str, amount_fen: int | None
) -> bool:
    stored_at = event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC)
    return (event.borrower_id, event.kind, stored_at, event.region, event.amount_fen) == (
        borrower_id,
        kind,
        at,
        region,
        amount_fen,
    )


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
    nothing and raises nothing (a different payload under a used id is refused, 409)."""
    province = _check(kind, region, amount_fen)
    at = at.astimezone(UTC)
    id_number, _mobile = identity_of(session, borrower_id)
    lock_profile(session, borrower_id)
    existing = session.scalar(select(Event).where(Event.source == source, Event.event_id == event_id))
    if existing is not None:
        if not _same(existing, borrower_id, kind, at, region, amount_fen):
            raise Conflict(
                "该事件编号已用于另一事件",
                "This event id was already used for another event",
                code="event_id_reused",
            )
        return EventResult(existing, False, [])
    event = Event(
        source=source,
        event_id=event_id,
        borrower_id=borrower_id,
        kind=kind,
        at=at,
        region=region,
        province=province,
        amount_fen=amount_fen,
        device=device,
        success=success,
        received_at=now,
    )
    session.add(event)
    session.flush()
    audit.record(
        session,
        actor,
        "risk.event",
        ("risk_event", event.id),
        None,
        {"source": source, "event_id": event_id, "kind": kind, "borrower_id": borrower_id},
    )
    alerts = _judge(session, event, home_province=rules.province_of(id_number[:6]), now=now)
    return EventResult(event, True, alerts)


def _judge(session: Session, event: Event, *, home_province: str | None, now: datetime) -> list[Alert]:
    """Judge the event on the history as of its time; a late transfer also completes the windows of
    the transfers after it (each judged again on the history as of its own time, now complete)."""
    limits = thresholds()
    reach = max(limits.lookback, limits.window)
    nearby = session.scalars(
        select(Event).where(
            Event.borrower_id == event.borrower_id,
            Event.at >= event.at - reach,
            Event.at < event.at + limits.window,
        )
    ).all()
    history = [_pure(e) for e in nearby]
    new = _pure(event)
    to_judge = [new]
    if event.kind == "transfer":
        to_judge += sorted((e for e in history if e.kind == "transfer" and e.at > new.at), key=lambda e: e.at)
    alerts = []
    for judged in to_judge:
        for found in rules.judge(judged, history, home_province=home_province, limits=limits):
            alert = raise_alert(
                session, borrower_id=event.borrower_id, rule=found.rule, evidence=found.evidence, now=now
            )
            if alert is not None:
                alerts.append(alert)
    return alerts


def raise_alert(
    session: Session, *, borrower_id: int, rule: str, evidence: dict[str, object], now: datetime
) -> Alert | None:
    """A new open alert, or None when the borrower already has one open for the rule."""
    inserted = session.execute(
        insert_for(session)(Alert)
        .values(
            rule=rule,
            borrower_id=borrower_id,
            status="open",
            open_key=open_key(borrower_id, rule),
            evidence=evidence,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["open_key"])
        .returning(Alert.id)
    ).scalar()
    if inserted is None:
        return None
    return session.get(Alert, inserted)


def open_key(borrower_id: int, rule: str) -> str:
    return f"{borrower_id}:{rule}"
