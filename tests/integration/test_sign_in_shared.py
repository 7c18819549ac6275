"""Sign-in on PostgreSQL and Redis: exact failure counts and one throttle for every worker."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from lenddesk.app import create_app
from lenddesk.core import audit, auth, throttle
from lenddesk.core.db import make_engine, session_factory, upgrade_database, utcnow
from lenddesk.core.models import AuditEntry, SignInThrottle, User
from lenddesk.core.policy import get_policy
from tests.conftest import PASSWORD
from tests.core.sign_in_race import guesses_from_one_address_at_once, small_throttle, wrong_passwords_at_once
from tests.support.servers import RedisServer


def test_wrong_passwords_at_once_lock_the_account_on_postgres(pg_url: str) -> None:
    upgrade_database(pg_url)
    engine = make_engine(pg_url)
    with session_factory(engine)() as session:
        auth.create_user(
            session, actor=audit.Actor.system("tests"), username="qa", password=PASSWORD, role="qa"
        )
        session.commit()
    get_policy.cache_clear()
    app = create_app(engine=engine)
    assert wrong_passwords_at_once(app, "qa", callers=8) == [401] * 8
    with session_factory(engine)() as session:
        user = session.scalar(select(User).where(User.username == "qa"))
        assert user is not None and user.locked_until is not None and user.locked_until > utcnow()
        counted = session.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.entity_id == str(user.id),
                AuditEntry.action.in_(("auth.sign_in_failed", "auth.locked")),
            )
        )
        assert user.failed_attempts == 5 == counted
    engine.dispose()


def test_one_address_is_throttled_across_simultaneous_guesses_on_postgres(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    upgrade_database(pg_url)
    engine = make_engine(pg_url)
    with small_throttle(monkeypatch, tmp_path, attempts=5):
        codes = guesses_from_one_address_at_once(create_app(engine=engine), 11)
    # Each guess reserved its place in one atomic upsert before it was answered: exactly 5 were.
    assert codes.count(401) == 5 and codes.count(429) == 6
    with session_factory(engine)() as session:
        assert 5 <= session.scalar(select(func.sum(SignInThrottle.attempts))) <= 11
    engine.dispose()


def test_the_redis_throttle_is_shared_by_workers(redis_server: RedisServer) -> None:
    minutes = 15
    first_worker, second_worker = (throttle.RedisThrottle(redis_server.url, minutes) for _ in range(2))
    window = throttle.Window.at(utcnow(), minutes)
    address = f"192.0.2.{window.number % 200}"
    assert [first_worker.hit(None, address, window) for _ in range(3)] == [1, 2, 3]  # type: ignore[arg-type]
    assert second_worker.hit(None, address, window) == 4  # type: ignore[arg-type]
    second_worker.release(None, address, window)  # type: ignore[arg-type]
    assert first_worker.estimate(None, address, window) == 3  # type: ignore[arg-type]
    later = throttle.Window(window.number + 1, 0.5)
    assert first_worker.estimate(None, address, later) == 1.5  # type: ignore[arg-type]
