"""The risk write paths under simultaneous callers, for SQLite and PostgreSQL alike
(tests/risk/test_races.py and tests/integration/test_risk_races_postgres.py).

Each scenario gets a migrated database URL with one user per role (named after the role)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.db import make_engine, session_factory
from lenddesk.core.models import User
from lenddesk.risk import service
from lenddesk.risk.models import Alert, BlacklistEntry, Event
from tests.desk.races import only_refusals, run_together
from tests.risk.conftest import NOW, make_book

CHANNEL = audit.Actor.system("channel:bank")


def _prepare(url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    book = make_book(engine)
    factory = session_factory(engine)
    with factory() as session:
        actors = {
            role: audit.Actor.of(session.scalar(select(User).where(User.username == role)))
            for role in ("team_lead", "compliance", "admin")
        }
    return factory, book, actors


def _post(
    borrower_id: int, event_id: str, kind: str, at: datetime, region: str, amount_fen: int | None = None
):  # type: ignore[no-untyped-def]
    def call(session: Session) -> bool:
        return service.record_event(
            session, actor=CHANNEL, source="bank", event_id=event_id, borrower_id=borrower_id, kind=kind,
            at=at, region=region, amount_fen=amount_fen, now=NOW,
        ).created  # fmt: skip

    return call


def the_same_event_at_once_makes_one_event_and_one_alert(url: str) -> None:
    """Eight copies of one login from a new province at once: one event, one open alert."""
    factory, book, _ = _prepare(url)
    call = _post(book.borrower, "dup-1", "login", NOW - timedelta(hours=1), "310115")
    outcome = run_together(factory, [call] * 8)
    assert not outcome.errors, outcome.errors
    assert sorted(outcome.results) == [False] * 7 + [True]
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 1
        assert session.scalar(select(func.count()).where(Alert.status != "closed")) == 1


def transfers_at_once_cannot_miss_each_other(url: str) -> None:
    """Six different large transfers within the hour, posted at once: every one recorded, and the
    window is seen whole (one open LARGE_TRANSFERS alert, not none)."""
    factory, book, _ = _prepare(url)
    calls = [
        _post(book.borrower, f"tr-{n}", "transfer", NOW - timedelta(minutes=n), "110105", 600_000)
        for n in range(6)
    ]
    outcome = run_together(factory, calls)
    assert not outcome.errors, outcome.errors
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 6
        rules = session.scalars(select(Alert.rule).where(Alert.status != "closed")).all()
        assert rules == ["LARGE_TRANSFERS"]


def two_approvals_at_once_approve_once(url: str) -> None:
    """A pending listing approved by two approvers at once: listed once, the other refused (409)."""
    factory, _book, actors = _prepare(url)
    with factory() as session:
        entry = service.request_listing(
            session, actor=actors["team_lead"], kind="mobile", value="13912345678", reason="欺诈", now=NOW
        ).id
        session.commit()

    def approve_as(role: str):  # type: ignore[no-untyped-def]
        return lambda session: service.approve(session, actor=actors[role], entry_id=entry, now=NOW).status

    outcome = run_together(factory, [approve_as("compliance"), approve_as("admin")])
    only_refusals(outcome, "not_pending")
    assert outcome.results == ["listed"] and len(outcome.errors) == 1
    with factory() as session:
        stored = session.get(BlacklistEntry, entry)
        assert (
            stored is not None and stored.status == "listed" and stored.approved_by in ("compliance", "admin")
        )


def the_same_request_at_once_makes_one_entry(url: str) -> None:
    """Four requests to list the same number at once: one pending entry, three refused (409)."""
    factory, _book, actors = _prepare(url)

    def request(session: Session) -> int:
        return service.request_listing(
            session,
            actor=actors["team_lead"],
            kind="id_number",
            value="44010619900307001X",
            reason="欺诈",
            now=NOW,
        ).id

    outcome = run_together(factory, [request] * 4)
    only_refusals(outcome, "already_requested")
    assert len(outcome.results) == 1
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(BlacklistEntry)) == 1


def one_alert_handled_at_once_makes_one_ticket_and_one_close(url: str) -> None:
    """Two people open a ticket for one alert at once, then close it at once: one ticket, one close."""
    factory, book, actors = _prepare(url)
    with factory() as session:
        service.record_event(
            session, actor=CHANNEL, source="bank", event_id="nr-1", borrower_id=book.borrower, kind="login",
            at=NOW, region="440106", now=NOW,
        )  # fmt: skip
        session.commit()
        alert_id = session.scalar(select(Alert.id))

    def ticket(role: str):  # type: ignore[no-untyped-def]
        return lambda session: (
            service.open_alert_ticket(session, actor=actors[role], alert_id=alert_id, now=NOW).ticket_number
        )

    outcome = run_together(factory, [ticket("team_lead"), ticket("compliance")])
    only_refusals(outcome, "alert_has_ticket")
    assert len(outcome.results) == 1

    def close(role: str):  # type: ignore[no-untyped-def]
        return lambda session: (
            service.close_alert(
                session, actor=actors[role], alert_id=alert_id, disposition="monitor", now=NOW
            ).status
        )

    outcome = run_together(factory, [close("team_lead"), close("compliance")])
    only_refusals(outcome, "alert_closed")
    assert outcome.results == ["closed"]
    with factory() as session:
        from lenddesk.desk.models import Ticket

        assert session.scalar(select(func.count()).select_from(Ticket)) == 1


SCENARIOS = [
    one_alert_handled_at_once_makes_one_ticket_and_one_close,
    the_same_event_at_once_makes_one_event_and_one_alert,
    transfers_at_once_cannot_miss_each_other,
    two_approvals_at_once_approve_once,
    the_same_request_at_once_makes_one_entry,
]
