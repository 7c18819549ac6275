"""Concurrent sign-ins against one app, shared by the SQLite and the PostgreSQL tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lenddesk.core.policy import get_policy
from lenddesk.core.settings import get_settings


def wrong_passwords_at_once(app: FastAPI, username: str, callers: int) -> list[int]:
    """`callers` threads send a wrong password for `username` at the same moment; their statuses."""
    barrier = threading.Barrier(callers)

    def attempt(index: int) -> int:
        # One client per thread, each from its own address so only the account rules apply.
        with TestClient(app, client=(f"10.0.0.{index + 1}", 50000)) as client:
            barrier.wait()
            response = client.post(
                "/api/v1/auth/token", data={"username": username, "password": f"wrong-guess-{index}"}
            )
            return response.status_code

    with ThreadPoolExecutor(max_workers=callers) as pool:
        return list(pool.map(attempt, range(callers)))


def guesses_from_one_address_at_once(app: FastAPI, callers: int) -> list[int]:
    """`callers` threads from one address each guess a password for a different username at once."""
    barrier = threading.Barrier(callers)

    def guess(index: int) -> int:
        with TestClient(app, client=("203.0.113.5", 1000 + index)) as client:
            barrier.wait()
            data = {"username": f"sprayed{index}", "password": "Spring2026!"}
            return client.post("/api/v1/auth/token", data=data).status_code

    with ThreadPoolExecutor(max_workers=callers) as pool:
        return list(pool.map(guess, range(callers)))


@contextmanager
def small_throttle(monkeypatch: pytest.MonkeyPatch, directory: Path, attempts: int) -> Iterator[None]:
    """A policy with a low per-address limit, so a race stays within the connection pool."""
    policy = directory / "policy.toml"
    policy.write_text(f"[auth]\nthrottle_attempts = {attempts}\n")
    with monkeypatch.context() as patch:
        patch.setenv("LENDDESK_POLICY_FILE", str(policy))
        get_settings.cache_clear()
        get_policy.cache_clear()
        try:
            assert get_policy().auth.throttle_attempts == attempts
            yield
        finally:
            get_settings.cache_clear()
            get_policy.cache_clear()
