"""Emergency mode under simultaneous callers, for SQLite and PostgreSQL alike
(tests/incidents/test_races.py and tests/integration/test_incidents_races_postgres.py).

The promise: a release (or an agent's contact) racing a declaration sends nothing after the
declaration commits. Two scenarios force each order with events; a third lets everything go at once
and checks that each release is all-or-nothing and every scheduled message is accounted for.

Each scenario gets a migrated database URL with one user per role (named after the role)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from lenddesk.collections import service as collections
from lenddesk.collections.models import Contact
from lenddesk.core.db import make_engine, session_factory
from lenddesk.desk.models import OutboxMessage
from lenddesk.incidents import service
from lenddesk.incidents.models import ChecklistItem, Delivery, Incident, Update
from tests.desk.races import only_refusals, run_together
from tests.incidents.conftest import NOW, OUTAGE_NOTICE, POLITE, actor_of, make_book

HOLD_SECONDS = 0.6  # how long the first transaction stays open after its work


def _prepare(url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    book = make_book(engine)
    return session_factory(engine), book


def _declare(session: Session) -> int:
    return service.declare(
        session,
        actor=actor_of(session, "team_lead"),
        kind="outage",
        title="支付通道故障",
        public_notice=OUTAGE_NOTICE,
        pause_outbound=True,
        products=None,
        now=NOW,
    ).id


def _in_thread(
    factory: sessionmaker[Session], work: Callable[[Session], Any], found: dict[str, Any], key: str
):  # type: ignore[no-untyped-def]
    def run() -> None:
        try:
            with factory() as session:
                found[key] = work(session)
        except BaseException as exc:  # reported by the scenario
            found[f"{key}_error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _scheduled(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).where(Contact.status == "scheduled")) or 0


def a_release_after_an_uncommitted_declaration_waits_and_sends_nothing(url: str) -> None:
    """The declaration has locked and written but not committed; a release starting now must wait
    for it and then hold every message (on PostgreSQL a plain read would miss the incident)."""
    factory, _book = _prepare(url)
    scheduled = _scheduled(factory)
    assert scheduled
    declared = threading.Event()
    found: dict[str, Any] = {}

    def declare(session: Session) -> None:
        _declare(session)
        declared.set()
        time.sleep(HOLD_SECONDS)
        session.commit()

    def release(session: Session) -> collections.ReleaseCounts:
        declared.wait(10)
        counts = collections.release_due(session, now=NOW, limit=1000)
        session.commit()
        return counts

    threads = [_in_thread(factory, declare, found, "declare"), _in_thread(factory, release, found, "release")]
    for thread in threads:
        thread.join(60)
    assert not [k for k in found if k.endswith("_error")], found
    assert (found["release"].sent, found["release"].blocked) == (0, scheduled)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        codes = session.scalars(select(Contact.codes).where(Contact.status == "blocked")).all()
        assert len(codes) == scheduled and all(c == ["EMERGENCY_HOLD"] for c in codes)


def a_declaration_waits_for_a_release_in_flight(url: str) -> None:
    """A release has checked and queued its messages but not committed; a declaration starting now
    waits until the release commits, so those messages were committed before the declaration."""
    factory, _book = _prepare(url)
    scheduled = _scheduled(factory)
    released = threading.Event()
    found: dict[str, Any] = {}

    def release(session: Session) -> tuple[int, float]:
        counts = collections.release_due(session, now=NOW, limit=1000)
        released.set()
        time.sleep(HOLD_SECONDS)
        committing = time.monotonic()
        session.commit()
        return counts.sent, committing

    def declare(session: Session) -> float:
        released.wait(10)
        _declare(session)
        locked = time.monotonic()
        session.commit()
        return locked

    threads = [_in_thread(factory, release, found, "release"), _in_thread(factory, declare, found, "declare")]
    for thread in threads:
        thread.join(60)
    assert not [k for k in found if k.endswith("_error")], found
    sent, committing = found["release"]
    assert sent == scheduled  # the release came first: it saw no incident
    assert found["declare"] >= committing, "the declaration went ahead while the release was uncommitted"
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == scheduled
        assert session.scalar(select(func.count()).select_from(Incident)) == 1
        # … and the declaration withdrew them from the outbox before any channel took them.
        assert session.scalar(select(func.count()).where(OutboxMessage.status == "queued")) == 0
        assert session.scalar(select(func.count()).where(Contact.status == "sent")) == 0


def releases_contacts_and_declarations_at_once_stay_consistent(url: str) -> None:
    """Releases, agents' contacts and two declarations at once: each release is all sent or all held,
    every scheduled message ends sent or blocked, the outbox holds exactly the sent ones, and each
    incident has its whole checklist."""
    factory, book = _prepare(url)
    scheduled = _scheduled(factory)

    def release(session: Session) -> tuple[int, int]:
        counts = collections.release_due(session, now=NOW, limit=1000)
        return counts.sent, counts.blocked

    def contact(session: Session) -> str:
        return collections.send_contact(
            session, actor=actor_of(session, "team_lead"), borrower_id=book.borrower_b, recipient="self",
            channel="call_script", text=POLITE, now=NOW,
        ).contact.status  # fmt: skip

    outcome = run_together(factory, [release, release, contact, contact, _declare, _declare])
    assert not outcome.errors, outcome.errors
    releases = [r for r in outcome.results if isinstance(r, tuple)]
    assert all(sent == 0 or blocked == 0 for sent, blocked in releases)
    with factory() as session:
        plan = session.execute(
            select(Contact.status, func.count()).where(Contact.source != "agent").group_by(Contact.status)
        ).all()
        assert sum(count for _, count in plan) == scheduled
        assert {status for status, _ in plan} <= {"sent", "blocked"}
        sent = session.scalar(
            select(func.count()).where(Contact.status == "sent", Contact.channel != "call_script")
        )
        queued = session.scalar(select(func.count()).where(OutboxMessage.status == "queued"))
        assert queued == sent == 0  # whatever went out before a declaration was withdrawn by it
        assert session.scalar(select(func.count()).select_from(Incident)) == 2
        steps = session.scalar(select(func.count()).select_from(ChecklistItem))
        assert steps == 2 * 5


def retried_updates_at_once_send_once(url: str) -> None:
    """One update posted four times at once with the same reference: one update, one message per
    borrower in scope."""
    factory, _book = _prepare(url)
    with factory() as session:
        incident_id = _declare(session)
        session.commit()

    def publish(session: Session) -> int:
        return service.publish_update(
            session, actor=actor_of(session, "compliance"), incident_id=incident_id,
            text="支付通道已恢复，感谢您的耐心。", broadcast=True, reference="r-1", now=NOW,
        ).id  # fmt: skip

    outcome = run_together(factory, [publish] * 4)
    assert not outcome.errors, outcome.errors
    assert len(set(outcome.results)) == 1
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Update)) == 1
        assert session.scalar(select(func.count()).select_from(Delivery)) == 3
        assert session.scalar(select(func.count()).where(OutboxMessage.kind == "incident")) == 3


def ticks_and_a_resolution_at_once_lose_nothing(url: str) -> None:
    """Every checklist item ticked while two resolutions race: each tick is kept, and a resolution
    succeeds only with the required items done (else 409); at most one succeeds."""
    factory, _book = _prepare(url)
    with factory() as session:
        incident_id = _declare(session)
        codes = [item.code for item in service.checklist(session, incident_id)]
        session.commit()

    def tick(code: str):  # type: ignore[no-untyped-def]
        def call(session: Session) -> str:
            service.complete_item(
                session, actor=actor_of(session, "team_lead"), incident_id=incident_id, code=code, now=NOW
            )
            return code

        return call

    def resolve(session: Session) -> str:
        return service.resolve(
            session, actor=actor_of(session, "compliance"), incident_id=incident_id, summary="完成", now=NOW
        ).status

    outcome = run_together(factory, [tick(code) for code in codes] + [resolve, resolve])
    only_refusals(outcome, "checklist_open", "incident_resolved")
    with factory() as session:
        items = session.scalars(select(ChecklistItem).where(ChecklistItem.incident_id == incident_id)).all()
        incident = session.get(Incident, incident_id)
        assert incident is not None
        resolved = outcome.results.count("resolved")
        assert resolved <= 1
        if incident.status == "resolved":
            assert resolved == 1
            assert all(item.done for item in items if item.required)
    # ticks that came after a resolution were refused (409); none was lost before it
    assert set(outcome.results) - {"resolved"} <= set(codes)


SCENARIOS = [
    a_release_after_an_uncommitted_declaration_waits_and_sends_nothing,
    a_declaration_waits_for_a_release_in_flight,
    releases_contacts_and_declarations_at_once_stay_consistent,
    retried_updates_at_once_send_once,
    ticks_and_a_resolution_at_once_lose_nothing,
]
