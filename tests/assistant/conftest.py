"""Assistant fixtures: the desk's teams, borrower and pinned clock, and a chat helper."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lenddesk.assistant import tokens
from lenddesk.core.roles import ROLES
from tests.desk.conftest import Clock, borrower, channel_keys, clock, desk_data, inbound

__all__ = [
    "badge_of",
    "borrower",
    "channel_keys",
    "chat",
    "clock",
    "desk_data",
    "inbound",
    "new_session_id",
    "token_headers",
]


def badge_of(username: str) -> str:
    """The staff number (工号) of a test user: the template database's users get LD + id."""
    return f"LD{ROLES.index(username) + 1:06d}"


def new_session_id() -> str:
    """A new chat session's token (the service layer also takes it as a session's public id)."""
    return secrets.token_urlsafe(32)


def token_headers(token: str) -> dict[str, str]:
    return {tokens.HEADER: token}


@pytest.fixture
def chat(client: TestClient, clock: Clock, desk_data: dict[str, int]) -> Callable[..., Any]:
    """`chat(text, session_id=None)` → the JSON answer (asserting 200); one session per test by default.

    `session_id`: the session's token; `chat.token` is the default session's, `chat.session_id` its
    public id (the one the desk and the database know)."""
    default = new_session_id()

    def send(text: str, session_id: str | None = None) -> dict[str, Any]:
        response = client.post(
            "/api/v1/assistant/messages", json={"text": text}, headers=token_headers(session_id or default)
        )
        assert response.status_code == 200, response.text
        return response.json()

    send.token = default  # type: ignore[attr-defined]
    send.session_id = tokens.public_id_of(default)  # type: ignore[attr-defined]
    return send
