"""Assistant fixtures: the desk's teams, borrower and pinned clock, and a chat helper."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lenddesk.core.roles import ROLES
from tests.desk.conftest import Clock, borrower, channel_keys, clock, desk_data, inbound

__all__ = ["badge_of", "borrower", "channel_keys", "chat", "clock", "desk_data", "inbound", "new_session_id"]


def badge_of(username: str) -> str:
    """The staff number (工号) of a test user: the template database's users get LD + id."""
    return f"LD{ROLES.index(username) + 1:06d}"


def new_session_id() -> str:
    return secrets.token_urlsafe(18)


@pytest.fixture
def chat(client: TestClient, clock: Clock, desk_data: dict[str, int]) -> Callable[..., Any]:
    """`chat(text, session_id=None)` → the JSON answer (asserting 200); one session per test by default."""
    default = new_session_id()

    def send(text: str, session_id: str | None = None) -> dict[str, Any]:
        response = client.post(
            "/api/v1/assistant/messages", json={"session_id": session_id or default, "text": text}
        )
        assert response.status_code == 200, response.text
        return response.json()

    send.session_id = default  # type: ignore[attr-defined]
    return send
