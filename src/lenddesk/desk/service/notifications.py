"""Notifications to staff: the desk's table, and `notify`, its only writer (any room calls it)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from lenddesk.desk.models import Notification


@dataclass(frozen=True)
class Notice:
    """One notification for one member of staff (kind: sla_breach, complaint_d3, qa_severe …)."""

    user_id: int
    kind: str
    body: str
    ticket_id: int | None = None


def notify(session: Session, notices: Iterable[Notice], *, now: datetime) -> int:
    """Write the notices (one INSERT for all); how many were written."""
    rows = [
        {"user_id": n.user_id, "ticket_id": n.ticket_id, "kind": n.kind, "body": n.body, "created_at": now}
        for n in notices
    ]
    if rows:
        session.execute(insert(Notification), rows)
    return len(rows)
