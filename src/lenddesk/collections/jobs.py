"""Scheduled work of the collections room: the daily plan in the close of business, and the release
of the contact day's automated messages through the guard into the desk's outbox."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection

from lenddesk.collections.service.plan import plan_day
from lenddesk.ledger import after_close


def plan_step(connection: Connection, business_date: date) -> dict[str, int]:
    """The close-of-business step: plan the contact day after `business_date` (idempotent)."""
    return plan_day(connection, business_date)


after_close.register("collections", plan_step, order=200)
