"""Scheduled work of the collections room: the daily plan in the close of business, and the release
of the contact day's automated messages through the guard into the desk's outbox."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from lenddesk.collections import service
from lenddesk.collections.service.plan import judge_promises, plan_day
from lenddesk.ledger import after_close


def promises_step(connection: Connection, business_date: date) -> dict[str, int]:
    """The close-of-business step before the plan and the score, which both read its verdicts:
    promises to pay kept or broken by `business_date` (idempotent)."""
    with connection.begin():
        return {"judged": judge_promises(connection, business_date)}


def plan_step(connection: Connection, business_date: date) -> dict[str, int]:
    """The close-of-business step: plan the contact day after `business_date` (idempotent)."""
    return plan_day(connection, business_date, judge=False)


after_close.register(
    "collections.promises", promises_step, order=150, label="promises kept or broken 承诺履约判定"
)
after_close.register("collections", plan_step, order=200, label="collections daily plan 催收日计划")


def release(session: Session, *, now: datetime, limit: int = 5000) -> dict[str, int]:
    """During the contact day (every few minutes): lift holds whose complaint closed, then send the
    scheduled messages whose time has come, each through the guard."""
    lifted = service.release_closed_holds(session, now=now)
    counts = service.release_due(session, now=now, limit=limit)
    return {"sent": counts.sent, "blocked": counts.blocked, "expired": counts.expired, "holds_lifted": lifted}
