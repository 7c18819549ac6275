import time
from datetime import timedelta

import jwt
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core.db import utcnow
from lenddesk.core.models import AuditEntry, User
from tests.conftest import PASSWORD


def test_token_then_me(client: TestClient, as_role) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/me", headers=as_role("agent"))
    assert response.status_code == 200
    assert response.json()["role"] == "agent"


def test_wrong_password_is_401_in_both_languages(client: TestClient) -> None:
    response = client.post("/api/v1/auth/token", data={"username": "agent", "password": "nope"})
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "bad_credentials"
    assert body["message_zh"] and body["message_en"]


def test_lockout_after_repeated_failures(client: TestClient, session: Session) -> None:
    for _ in range(5):
        client.post("/api/v1/auth/token", data={"username": "qa", "password": "wrong"})
    response = client.post("/api/v1/auth/token", data={"username": "qa", "password": PASSWORD})
    assert response.status_code == 401
    assert response.json()["code"] == "bad_credentials"  # the client is not told the account exists
    user = session.scalar(select(User).where(User.username == "qa"))
    assert user is not None and user.locked_until is not None
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == str(user.id))).all()
    assert "auth.locked" in actions


def test_expired_token_is_refused(client: TestClient, session: Session) -> None:
    user = session.scalar(select(User).where(User.username == "agent"))
    assert user is not None
    from lenddesk.core.auth import issue_token

    token = issue_token(user, now=utcnow() - timedelta(hours=10), minutes=5)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


def test_forged_token_is_refused(client: TestClient) -> None:
    forged = jwt.encode({"sub": "1", "role": "admin", "exp": 9999999999}, "other-key", algorithm="HS256")
    response = client.get("/api/v1/users", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_role_is_enforced(client: TestClient, as_role) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/users", headers=as_role("agent")).status_code == 403
    assert client.get("/api/v1/users", headers=as_role("admin")).status_code == 200
    assert client.get("/api/v1/users").status_code == 401


def test_unknown_role_is_rejected(client: TestClient, as_role) -> None:  # type: ignore[no-untyped-def]
    body = {"username": "newbie", "password": "long-enough-1", "role": "overlord"}
    response = client.post("/api/v1/users", json=body, headers=as_role("admin"))
    assert response.status_code == 422
    assert response.json()["code"] == "unknown_role"


def test_user_changes_are_audited(client: TestClient, as_role, session: Session) -> None:  # type: ignore[no-untyped-def]
    body = {"username": "newbie", "password": "long-enough-1", "role": "agent"}
    created = client.post("/api/v1/users", json=body, headers=as_role("admin"))
    assert created.status_code == 201
    user_id = created.json()["id"]
    patched = client.patch(f"/api/v1/users/{user_id}", json={"role": "collector"}, headers=as_role("admin"))
    assert patched.json()["role"] == "collector"
    log = client.get(
        "/api/v1/audit", params={"entity_type": "user", "entity_id": user_id}, headers=as_role("compliance")
    ).json()
    assert [entry["action"] for entry in log] == ["user.update", "user.create"]
    assert log[0]["before"]["role"] == "agent" and log[0]["after"]["role"] == "collector"
    assert log[0]["actor_name"] == "admin"


def test_a_token_that_expires_while_in_use_is_refused_then(client: TestClient, as_role, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The token's signature is checked once per token (`auth._verified_claims`), its expiry on
    every request: a token used a moment ago is refused once its time is up."""
    from lenddesk.core import auth

    headers = as_role("agent")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    later = time.time() + 24 * 3600
    monkeypatch.setattr(auth.time, "time", lambda: later)
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


def test_a_token_signed_with_another_key_is_refused_even_after_its_twin_passed(
    client: TestClient, as_role
) -> None:  # type: ignore[no-untyped-def]
    """The check's memory is of a token *and* the key that verified it: the same claims signed with
    another key are still refused."""
    headers = as_role("agent")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    claims = jwt.decode(headers["Authorization"][7:], options={"verify_signature": False})
    forged = jwt.encode(claims, "another-key-of-32-bytes-or-more-000", algorithm="HS256")
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"
