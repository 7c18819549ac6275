"""Shared fixtures: a migrated SQLite database per test (copied from a template), the app, sign-in.

Posting console forms from a test: sign in through `/login`, then `carry_csrf(client)` makes the
client send the session's CSRF token and the same-site Origin, as the console's own forms do.
API calls with `as_role(...)` (Bearer tokens) need nothing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("LENDDESK_SECRET_KEY", "test-secret-key-that-is-long-enough-for-hs256")
os.environ.setdefault("LENDDESK_OTP_KEY", "test-otp-key-a-different-secret-for-code-hashes")
os.environ.setdefault("LENDDESK_CHANNELS_KEY", "test-channels-key-distinct-from-the-token-key")
os.environ.setdefault("LENDDESK_RISK_KEY", "test-risk-key-for-blacklist-hashes-not-the-token-key")

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.datastructures import State

from lenddesk.app import create_app
from lenddesk.core import audit, auth
from lenddesk.core.db import make_engine, session_factory, upgrade_database
from lenddesk.core.policy import get_policy
from lenddesk.core.roles import ROLES

PASSWORD = "correct-horse-1"

# CI replays the same examples on every run (`.ci/run` sets HYPOTHESIS_PROFILE=ci), so a red run is
# a change's fault and not a new draw; `make test` on a workstation keeps drawing new examples.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database with one user per role, named after the role."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    upgrade_database(url)
    engine = make_engine(url)
    with session_factory(engine)() as session:
        for role in ROLES:
            auth.create_user(
                session, actor=audit.Actor.system("tests"), username=role, password=PASSWORD, role=role
            )
        session.commit()
    engine.dispose()
    return path


@pytest.fixture
def db_url(template_db: Path, tmp_path: Path) -> str:
    path = tmp_path / "lenddesk.db"
    shutil.copy(template_db, path)
    return f"sqlite:///{path}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


@pytest.fixture(scope="session")
def built_app() -> FastAPI:
    """One app per test process: FastAPI builds an app's ~290 route dependants on its first
    requests (pydantic adapters, about a second), which every test's fresh app used to pay again."""
    return create_app(database_url="sqlite://")


@pytest.fixture
def app(engine: Engine, built_app: FastAPI) -> FastAPI:
    """The app on this test's database, with nothing left by an earlier test: fresh state (clocks,
    engine) and no dependency overrides. Tests that need their own app call `create_app`."""
    get_policy.cache_clear()
    built_app.state = State()
    built_app.state.engine = engine
    built_app.state.session_factory = session_factory(engine)
    built_app.dependency_overrides.clear()
    return built_app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def carry_csrf(client: TestClient) -> TestClient:
    """Let a client signed in through the console's login form post like the console's own pages.

    Console forms carry the session's CSRF token (`{{ csrf_field() }}`) and browsers send the
    page's Origin; call this once after `client.post("/login", ...)` and every later request of
    the client sends both (the token as the `X-CSRF-Token` header, which forms accept too):

        browser = TestClient(app)
        browser.post("/login", data={"username": "agent", "password": PASSWORD})
        carry_csrf(browser).post("/desk/agent-status", data={"status": "away"})
    """
    session_token = client.cookies.get(auth.SESSION_COOKIE)
    assert session_token, "sign in through /login before carry_csrf"
    client.headers["Origin"] = str(client.base_url).rstrip("/")
    client.headers["X-CSRF-Token"] = auth.csrf_token_for(session_token)
    return client


def token_for(client: TestClient, role: str, password: str = PASSWORD) -> str:
    response = client.post("/api/v1/auth/token", data={"username": role, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture
def as_role(client: TestClient):  # type: ignore[no-untyped-def]
    """`as_role("agent")` gives the Authorization headers of the demo user of that role."""
    cache: dict[str, dict[str, str]] = {}

    def headers(role: str) -> dict[str, str]:
        if role not in cache:
            cache[role] = {"Authorization": f"Bearer {token_for(client, role)}"}
        return cache[role]

    return headers
