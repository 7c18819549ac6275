"""Desk intake on PostgreSQL: the per-day ticket counter upsert and idempotent intake."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from lenddesk.core import audit
from lenddesk.core.db import make_engine, session_factory, upgrade_database
from lenddesk.desk import service
from lenddesk.desk.models import Ticket

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def test_intake_numbers_tickets_and_ignores_duplicates_on_postgres(pg_url: str) -> None:
    upgrade_database(pg_url)
    engine = make_engine(pg_url)
    actor = audit.Actor.system("test")
    with session_factory(engine)() as session:
        numbers = [
            service.intake(
                session,
                channel="chat",
                channel_message_id=message_id,
                sender=sender,
                text="请问还款日是哪天",
                received_at=NOW,
                now=NOW,
                actor=actor,
            ).ticket_number
            for message_id, sender in (("a", "13900000001"), ("b", "13900000002"), ("a", "13900000001"))
        ]
        session.commit()
        assert numbers == ["T20261124-000001", "T20261124-000002", "T20261124-000001"]
        assert session.scalar(select(func.count(Ticket.id))) == 2
    engine.dispose()
