"""Sign-in under attack: atomic failure counts, growing lockouts, throttling per address, revocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lenddesk.app import create_app
from lenddesk.core import auth, throttle
from lenddesk.core.db import session_factory, utcnow
from lenddesk.core.errors import ConfigurationError
from lenddesk.core.models import AuditEntry, User
from lenddesk.core.policy import get_policy, load_policy
from tests.conftest import PASSWORD, carry_csrf, token_for
from tests.core.sign_in_race import guesses_from_one_address_at_once, small_throttle, wrong_passwords_at_once


def _user(session: Session, username: str) -> User:
    session.expire_all()
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


def _failures_audited(session: Session, user: User) -> int:
    return session.scalar(
        select(func.count(AuditEntry.id)).where(
            AuditEntry.entity_type == "user",
            AuditEntry.entity_id == str(user.id),
            AuditEntry.action.in_(("auth.sign_in_failed", "auth.locked")),
        )
    )


def test_wrong_passwords_sent_at_once_lock_the_account_and_are_counted_exactly(
    app: FastAPI, session: Session
) -> None:
    statuses = wrong_passwords_at_once(app, "qa", callers=8)
    assert statuses == [401] * 8
    user = _user(session, "qa")
    assert user.locked_until is not None and user.locked_until > utcnow()
    # Five wrong passwords were checked and counted; the rest met a locked account.
    assert user.failed_attempts == 5 == _failures_audited(session, user)


def _attempt(engine: Engine, username: str, password: str, now: datetime, address: str = "10.1.1.1") -> str:
    with session_factory(engine)() as session:
        result = auth.sign_in(session, username=username, password=password, address=address, now=now)
        session.commit()
        return "ok" if result.user is not None else result.reason


def _lock_minutes(engine: Engine, username: str, now: datetime) -> float:
    with session_factory(engine)() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None and user.locked_until is not None
        return (user.locked_until - now).total_seconds() / 60


def test_each_lock_after_the_first_comes_after_one_guess_and_lasts_twice_as_long(engine: Engine) -> None:
    now = utcnow()
    outcomes = [_attempt(engine, "agent", f"guess-{i}", now) for i in range(5)]
    assert outcomes == ["bad_credentials"] * 4 + ["locked"]
    assert _lock_minutes(engine, "agent", now) == 15
    # While locked even the right password is refused, and nothing is counted.
    assert _attempt(engine, "agent", PASSWORD, now + timedelta(minutes=14)) == "locked"
    minutes = []
    for _ in range(4):
        now += timedelta(minutes=24 * 60)  # the lock has ended: one guess, and it locks again
        assert _attempt(engine, "agent", "another-guess", now) == "locked"
        minutes.append(_lock_minutes(engine, "agent", now))
    assert minutes == [30, 60, 120, 240]


def test_the_lock_is_capped_and_a_right_password_after_it_clears_the_count(engine: Engine) -> None:
    get_policy.cache_clear()
    now = utcnow()
    for i in range(12):  # 15 × 2⁷ minutes would pass a day
        now += timedelta(days=2)
        _attempt(engine, "qa", f"guess-{i}", now)
    assert _lock_minutes(engine, "qa", now) == get_policy().auth.lockout_max_minutes == 24 * 60
    now += timedelta(days=2)
    assert _attempt(engine, "qa", PASSWORD, now) == "ok"
    assert _attempt(engine, "qa", "one-wrong", now) == "bad_credentials"


def test_an_admin_unlocks_an_account_and_it_is_audited(
    client: TestClient,
    as_role,
    session: Session,  # type: ignore[no-untyped-def]
) -> None:
    for i in range(5):
        client.post("/api/v1/auth/token", data={"username": "collector", "password": f"nope-{i}"})
    collector = _user(session, "collector")
    listed = {u["username"]: u for u in client.get("/api/v1/users", headers=as_role("admin")).json()}
    assert listed["collector"]["locked_until"] is not None
    assert client.post(f"/api/v1/users/{collector.id}/unlock", headers=as_role("agent")).status_code == 403
    response = client.post(f"/api/v1/users/{collector.id}/unlock", headers=as_role("admin"))
    assert response.status_code == 200 and response.json()["locked_until"] is None
    assert (
        client.post("/api/v1/auth/token", data={"username": "collector", "password": PASSWORD}).status_code
        == 200
    )
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "user.unlock"))
    assert entry is not None and entry.actor_name == "admin" and entry.before["failed_attempts"] == 5


def test_one_address_is_throttled_after_the_limit_and_others_are_not(app: FastAPI, session: Session) -> None:
    limit = get_policy().auth.throttle_attempts
    with (
        TestClient(app, client=("203.0.113.9", 4000)) as attacker,
        TestClient(app, client=("198.51.100.7", 4000)) as office,
    ):
        # A password spray: a different account each time, so no lockout helps.
        codes = [
            attacker.post(
                "/api/v1/auth/token", data={"username": f"nobody{i}", "password": "Spring2026!"}
            ).status_code
            for i in range(limit + 3)
        ]
        assert codes == [401] * limit + [429] * 3
        refused = attacker.post("/api/v1/auth/token", data={"username": "agent", "password": PASSWORD})
        assert refused.status_code == 429 and refused.json()["code"] == "too_many_sign_ins"
        assert refused.json()["message_zh"] and refused.json()["message_en"]
        assert (
            office.post("/api/v1/auth/token", data={"username": "agent", "password": PASSWORD}).status_code
            == 200
        )
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.action == "auth.refused_throttled")
    ).all()
    assert len(actions) == 4


def test_simultaneous_guesses_from_one_address_get_at_most_the_limit_of_answers(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with small_throttle(monkeypatch, tmp_path, attempts=5):
        codes = guesses_from_one_address_at_once(create_app(engine=engine), 11)
    assert codes.count(401) == 5 and codes.count(429) == 6


def test_successful_sign_ins_do_not_use_up_an_offices_allowance(app: FastAPI) -> None:
    limit = get_policy().auth.throttle_attempts
    with TestClient(app, client=("198.51.100.7", 4000)) as office:
        for _ in range(limit + 5):
            response = office.post("/api/v1/auth/token", data={"username": "agent", "password": PASSWORD})
            assert response.status_code == 200


def test_the_throttle_estimate_slides_over_the_previous_window() -> None:
    start = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    window = throttle.Window.at(start + timedelta(minutes=5), 15)
    assert window.elapsed == pytest.approx(5 / 15)
    assert window.estimate(previous=12, current=3) == pytest.approx(12 * 10 / 15 + 3)


def test_signing_out_revokes_the_token(client: TestClient) -> None:
    token = token_for(client, "agent")
    other_device = token_for(client, "agent")
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/auth/logout", headers=bearer).status_code == 204
    for used in (token, other_device):
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {used}"})
        assert response.status_code == 401 and response.json()["code"] == "token_revoked"
    assert (
        client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {token_for(client, 'agent')}"}
        ).status_code
        == 200
    )


def test_console_sign_out_revokes_the_session_cookie(app: FastAPI) -> None:
    with TestClient(app) as browser:
        browser.post("/login", data={"username": "agent", "password": PASSWORD})
        stolen = browser.cookies.get(auth.SESSION_COOKIE)
        carry_csrf(browser).post("/logout")
        with TestClient(app, cookies={auth.SESSION_COOKIE: stolen}) as thief:
            response = thief.get("/", follow_redirects=False)
            assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_changing_ones_password_needs_the_current_one_and_revokes_old_tokens(
    client: TestClient, session: Session
) -> None:
    old = {"Authorization": f"Bearer {token_for(client, 'team_lead')}"}
    wrong = client.post(
        "/api/v1/auth/password",
        json={"current_password": "not-it-at-all", "new_password": "a-new-long-password"},
        headers=old,
    )
    assert wrong.status_code == 403 and wrong.json()["code"] == "wrong_current_password"
    assert _user(session, "team_lead").failed_attempts == 1  # a stolen session is no guessing oracle
    short = client.post(
        "/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": "short-9ch"}, headers=old
    )
    assert short.status_code == 422 and short.json()["code"] == "password_too_short"
    changed = client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "a-new-long-password"},
        headers=old,
    )
    assert changed.status_code == 200
    assert client.get("/api/v1/me", headers=old).json()["code"] == "token_revoked"
    new = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert client.get("/api/v1/me", headers=new).status_code == 200
    assert (
        client.post("/api/v1/auth/token", data={"username": "team_lead", "password": PASSWORD}).status_code
        == 401
    )
    assert token_for(client, "team_lead", "a-new-long-password")
    assert "auth.password_changed" in session.scalars(select(AuditEntry.action)).all()


def test_an_admin_resets_a_password_and_the_users_tokens_end(
    client: TestClient, as_role, session: Session
) -> None:  # type: ignore[no-untyped-def]
    agent_headers = {"Authorization": f"Bearer {token_for(client, 'agent')}"}
    agent = _user(session, "agent")
    body = {"new_password": "reset-by-the-admin"}
    assert (
        client.post(f"/api/v1/users/{agent.id}/password", json=body, headers=agent_headers).status_code == 403
    )
    assert (
        client.post(f"/api/v1/users/{agent.id}/password", json=body, headers=as_role("admin")).status_code
        == 200
    )
    assert client.get("/api/v1/me", headers=agent_headers).status_code == 401
    assert token_for(client, "agent", "reset-by-the-admin")
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "user.password_reset"))
    assert (
        entry is not None and entry.actor_name == "admin" and entry.after is None
    )  # no password in the trail


@pytest.mark.parametrize(
    "password_json",
    [
        '"short-pw1"',
        '"\\ud800-surrogate-password"',
        '"' + "x" * 257 + '"',
        '"long-enough-name"',
        "12345678901",
    ],
    ids=["short", "surrogate", "long", "same-as-username", "number"],
)
def test_hostile_new_passwords_are_refused_with_4xx(client: TestClient, as_role, password_json: str) -> None:  # type: ignore[no-untyped-def]
    body = f'{{"username": "long-enough-name", "password": {password_json}, "role": "agent"}}'
    headers = {**as_role("admin"), "Content-Type": "application/json"}
    response = client.post("/api/v1/users", content=body.encode(), headers=headers)
    assert response.status_code == 422, response.text
    assert {"code", "message_zh", "message_en"} <= response.json().keys()


@pytest.mark.parametrize("user_id", ["0", str(2**64 + 7), "-1"])
def test_user_ids_past_64_bits_are_422(client: TestClient, as_role, user_id: str) -> None:  # type: ignore[no-untyped-def]
    assert client.post(f"/api/v1/users/{user_id}/unlock", headers=as_role("admin")).status_code == 422


def test_a_surrogate_password_at_sign_in_is_just_wrong(client: TestClient) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    response = client.post("/api/v1/auth/token", content=b"username=agent&password=%ED%A0%80", headers=form)
    assert response.status_code == 401


def test_the_password_minimum_cannot_be_set_below_eight(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("[auth]\npassword_min_length = 6\n")
    with pytest.raises(ConfigurationError, match=r"auth\.password_min_length"):
        load_policy(policy)
    assert load_policy(None).auth.password_min_length == 10


@given(failures=st.integers(min_value=0, max_value=10**6))
def test_lockouts_never_shrink_and_never_pass_the_cap(failures: int) -> None:
    policy = get_policy().auth
    minutes = auth.lockout_minutes(failures)
    assert policy.lockout_minutes <= minutes <= policy.lockout_max_minutes
    assert auth.lockout_minutes(failures + 1) >= minutes


@given(
    moment=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    minutes=st.integers(min_value=1, max_value=24 * 60),
    previous=st.integers(min_value=0, max_value=10**6),
    current=st.integers(min_value=0, max_value=10**6),
)
def test_the_sliding_estimate_lies_between_the_current_window_and_both_windows(
    moment: datetime, minutes: int, previous: int, current: int
) -> None:
    window = throttle.Window.at(moment, minutes)
    assert 0 <= window.elapsed < 1
    assert current <= window.estimate(previous, current) <= previous + current
