"""Nothing public confirms a sign-in name: a locked account, an unknown name and a wrong password
read alike to the client, on the API and the login page; the audit trail keeps them apart."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core.models import AuditEntry, User
from tests.conftest import PASSWORD


def _token_answer(app: FastAPI, address: str, username: str, password: str) -> tuple[int, dict]:
    with TestClient(app, client=(address, 50000)) as client:
        response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
        return response.status_code, response.json()


def _page_answer(app: FastAPI, address: str, username: str, password: str) -> tuple[int, str]:
    with TestClient(app, client=(address, 50000)) as client:
        response = client.post("/login", data={"username": username, "password": password, "next": "/"})
        alert = response.text.split('role="alert"', 1)[-1].split("</", 1)[0]
        return response.status_code, alert


def _lock(app: FastAPI, username: str) -> None:
    for n in range(5):
        _token_answer(app, f"10.1.0.{n + 1}", username, f"wrong-{n}")


def test_locked_unknown_and_wrong_read_alike_on_the_api(app: FastAPI, session: Session) -> None:
    _lock(app, "team_lead")
    locked_right = _token_answer(app, "10.2.0.1", "team_lead", PASSWORD)
    locked_wrong = _token_answer(app, "10.2.0.2", "team_lead", "another-guess")
    unknown = _token_answer(app, "10.2.0.3", "no_such_lead", "another-guess")
    wrong = _token_answer(app, "10.2.0.4", "agent", "another-guess")
    assert locked_right == locked_wrong == unknown == wrong
    assert wrong[0] == 401 and wrong[1]["code"] == "bad_credentials"
    assert wrong[1]["message_zh"] and wrong[1]["message_en"]
    lead = session.scalar(select(User).where(User.username == "team_lead"))
    assert lead is not None
    actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == str(lead.id))))
    assert {"auth.locked", "auth.refused_locked"} <= actions  # kept apart internally
    unknown_rows = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_id == "no_such_lead")
    ).all()
    assert unknown_rows == ["auth.refused_bad_credentials"]


def test_locked_unknown_and_wrong_read_alike_on_the_login_page(app: FastAPI) -> None:
    _lock(app, "collector")
    answers = {
        _page_answer(app, "10.3.0.1", "collector", PASSWORD),
        _page_answer(app, "10.3.0.2", "no_such_collector", "guess-1"),
        _page_answer(app, "10.3.0.3", "agent", "guess-2"),
    }
    assert len(answers) == 1
    status, alert = answers.pop()
    assert status == 401 and "用户名或密码错误" in alert and "锁定" not in alert
