"""Every state-changing route of the app (API and console, every room), called as every role, answers
as the role matrix in tests/support/role_matrix.py says — and docs/SECURITY.md shows that matrix."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.core.test_routes import _calls, api_routes
from tests.support import role_matrix

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
SECURITY_DOC = Path(__file__).resolve().parents[2] / "docs" / "SECURITY.md"
START, END = "<!-- role-matrix:start -->", "<!-- role-matrix:end -->"
ROLE_REFUSED_ZH = "无权执行此操作"  # core.auth.require_roles' message


def state_changing_routes(app: FastAPI) -> dict[str, APIRoute]:
    return {
        f"{method} {path}": route
        for path, route in api_routes(app)
        for method in sorted(route.methods & STATE_CHANGING)
    }


def declared_access(route: APIRoute) -> tuple[frozenset[str], bool]:
    calls = list(_calls(route.dependant))
    declared = frozenset().union(*(getattr(call, "allowed_roles", frozenset()) for call in calls))
    return declared, any(getattr(call, "is_public", False) for call in calls)


def test_every_state_changing_route_is_in_the_matrix(app: FastAPI) -> None:
    routes = state_changing_routes(app)
    missing = []
    for key, route in routes.items():
        if key not in role_matrix.MATRIX:
            declared, public = declared_access(route)
            who = "PUBLIC" if public else f"roles({', '.join(repr(r) for r in sorted(declared - {'admin'}))})"
            missing.append(f'    "{key}": {who},')
    assert not missing, (
        "state-changing routes missing from the role matrix; add them to tests/support/role_matrix.py "
        "(then run scripts/role_matrix.py to update docs/SECURITY.md):\n" + "\n".join(missing)
    )
    stale = sorted(set(role_matrix.MATRIX) - set(routes))
    assert not stale, f"the role matrix names routes the app no longer has: {stale}"


def test_each_route_declares_the_roles_of_the_matrix(app: FastAPI) -> None:
    mismatched = []
    for key, route in state_changing_routes(app).items():
        expected = role_matrix.MATRIX.get(key)
        if expected is None:
            continue  # reported by the test above
        declared, public = declared_access(route)
        if (declared, public) != (expected.roles, expected.public):
            mismatched.append(
                f"{key}: declares {sorted(declared)}{' public' if public else ''}, "
                f"matrix says {sorted(expected.roles)}{' public' if expected.public else ''}"
            )
    assert not mismatched, "\n".join(mismatched)


def _fill(path: str) -> str:
    parts = []
    for part in path.split("/"):
        if part == "{number}":
            parts.append("T20261124-999999")
        elif part.startswith("{"):
            parts.append("999999")
        else:
            parts.append(part)
    return "/".join(parts)


def _refused_for_role(key: str, response) -> bool:  # type: ignore[no-untyped-def]
    if response.status_code != 403:
        return False
    if key.split(" ", 1)[1].startswith("/api/"):
        return response.json().get("code") == "role_forbidden"
    return ROLE_REFUSED_ZH in response.text


SIGN_OUT_ROUTES = {"POST /logout", "POST /api/v1/auth/logout"}


@pytest.mark.parametrize("role", role_matrix.STAFF_ROLES)
def test_each_role_is_let_through_or_refused_as_the_matrix_says(
    app: FastAPI, client: TestClient, as_role, role: str
) -> None:
    """Signed in with a bearer token (which the console accepts too); the body is empty, so a route a
    role may call answers 404/422/409 and never the role refusal, and one it may not call answers 403."""
    wrong = []
    # Signing out revokes the caller's tokens, so those routes go last.
    for key in sorted(state_changing_routes(app), key=lambda key: key in SIGN_OUT_ROUTES):
        access = role_matrix.MATRIX.get(key)
        if access is None:
            continue  # reported by test_every_state_changing_route_is_in_the_matrix
        method, path = key.split(" ", 1)
        is_form = not path.startswith("/api/") or path == "/api/v1/auth/token"
        response = client.request(
            method,
            _fill(path),
            headers=as_role(role),
            follow_redirects=False,
            **({"data": {}} if is_form else {"json": {}}),
        )
        allowed = access.public or role in access.roles
        refused = _refused_for_role(key, response)
        if response.status_code == 401 or response.status_code >= 500 or refused == allowed:
            wrong.append(
                f"{key} as {role}: {response.status_code} (matrix: {'allowed' if allowed else 'refused'})"
            )
        if path == "/logout":
            client.cookies.clear()
    assert not wrong, "\n".join(wrong)


def test_the_security_doc_shows_the_matrix() -> None:
    text = SECURITY_DOC.read_text(encoding="utf-8")
    assert "## Role matrix" in text and START in text and END in text, (
        "docs/SECURITY.md needs its role matrix"
    )
    shown = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert shown == role_matrix.markdown_table().strip(), (
        "docs/SECURITY.md's role matrix is out of date: run .venv/bin/python scripts/role_matrix.py"
    )


def test_a_channel_key_opens_only_the_routes_the_matrix_gives_channels(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lenddesk.core.settings import get_settings

    monkeypatch.setattr(get_settings(), "channel_keys", {"chat": "chat-key-for-the-matrix"})
    wrong = []
    # Signing out revokes the caller's tokens, so those routes go last.
    for key in sorted(state_changing_routes(app), key=lambda key: key in SIGN_OUT_ROUTES):
        access = role_matrix.MATRIX.get(key)
        method, path = key.split(" ", 1)
        if access is None or access.public or not path.startswith("/api/"):
            continue
        response = client.request(
            method, _fill(path), headers={"X-LendDesk-Key": "chat-key-for-the-matrix"}, json={}
        )
        allowed = "channel" in access.roles
        if (response.status_code in (401, 403)) == allowed or response.status_code >= 500:
            wrong.append(f"{key} with a channel key: {response.status_code}")
    assert not wrong, "\n".join(wrong)
