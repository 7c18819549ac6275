"""Event intake stays cheap: the statements an event costs are pinned here, so a change that adds a
round trip under SQLite's single write gate (or a lock wait on PostgreSQL) shows up as a failing test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.db import session_factory
from lenddesk.core.errors import Conflict
from lenddesk.core.models import AuditEntry, User
from lenddesk.risk import service
from lenddesk.risk.models import Alert, Event
from tests.risk.conftest import BEIJING, GUANGZHOU, NOW, Book

CHANNEL = audit.Actor.system("channel:bank")
Post = Callable[..., tuple[int, service.EventResult]]


@pytest.fixture
def post(engine: Engine, book: Book) -> Iterator[Post]:
    """`post(event_id, kind, region, amount_fen=None, at=NOW)` → (statements other than BEGIN and
    COMMIT, the result) of one event in its own transaction."""
    statements: list[str] = []

    def listen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    factory = session_factory(engine)

    def call(event_id: str, kind: str, region: str, amount_fen: int | None = None, at=NOW):  # type: ignore[no-untyped-def]
        statements.clear()
        with factory() as session:
            result = service.record_event(
                session, actor=CHANNEL, source="bank", event_id=event_id, borrower_id=book.borrower,
                kind=kind, at=at, region=region, amount_fen=amount_fen, now=NOW,
            )  # fmt: skip
            session.commit()
        counted = [s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))]
        return len(counted), result

    yield call
    event.remove(engine, "before_cursor_execute", listen)


def test_a_login_at_home_costs_four_statements_and_reads_no_history(post: Post) -> None:
    """Is it a replay, whose ID number, lock the profile, insert: no rule can fire on a login from
    the home province, so the borrower's history is not read."""
    post("warm-up", "login", BEIJING)
    statements, result = post("home-1", "login", BEIJING)
    assert (statements, result.created, result.alert_ids) == (4, True, [])


def test_a_transfer_reads_its_window_once(post: Post) -> None:
    post("warm-up", "login", BEIJING)
    for n in range(2):
        statements, result = post(f"tr-{n}", "transfer", BEIJING, 600_000, NOW - timedelta(minutes=n))
        assert (statements, result.alert_ids) == (5, [])
    statements, result = post("tr-2", "transfer", BEIJING, 600_000, NOW - timedelta(minutes=2))
    assert statements == 6 and len(result.alert_ids) == 1  # + the alert's insert


def test_a_replay_costs_one_read_and_takes_no_lock(post: Post, session: Session) -> None:
    _, first = post("nr-1", "login", GUANGZHOU)
    assert len(first.alert_ids) == 1
    statements, replay = post("nr-1", "login", GUANGZHOU)
    assert (statements, replay.created, replay.event_id, replay.alert_ids) == (1, False, first.event_id, [])
    with pytest.raises(Conflict):
        post("nr-1", "login", BEIJING)
    assert session.scalar(select(func.count()).select_from(Event)) == 1
    assert session.scalar(select(func.count()).select_from(Alert)) == 1


def test_a_channels_event_is_its_own_record_and_an_admins_is_audited(
    post: Post, engine: Engine, book: Book, session: Session
) -> None:
    post("by-channel", "login", BEIJING)
    assert session.scalar(select(func.count()).where(AuditEntry.action == "risk.event")) == 0
    with session_factory(engine)() as own:
        user = own.scalar(select(User).where(User.username == "admin"))
        assert user is not None
        admin = audit.Actor.of(user)
        service.record_event(
            own, actor=admin, source="console", event_id="by-admin", borrower_id=book.borrower,
            kind="login", at=NOW, region=BEIJING, now=NOW,
        )  # fmt: skip
        own.commit()
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "risk.event")).all()
    assert [(e.actor_name, e.after["event_id"]) for e in entries] == [("admin", "by-admin")]
