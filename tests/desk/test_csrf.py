"""Cross-site request forgery against the desk console: the finding of issue 9 on /desk/agent-status."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from lenddesk.desk.models import Agent
from tests.conftest import PASSWORD
from tests.desk.conftest import user_id


@pytest.fixture
def agent_browser(app: FastAPI) -> Iterator[TestClient]:
    """Signed in through the login form, but sending only what a browser sends by itself."""
    with TestClient(app) as browser:
        assert browser.post("/login", data={"username": "agent", "password": PASSWORD}).status_code == 200
        yield browser


def _status(session: Session) -> str:
    session.expire_all()
    agent = session.get(Agent, user_id(session, "agent"))
    assert agent is not None
    return agent.status


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example", "Referer": "https://evil.example/page"},
        {"Referer": "https://evil.example/page"},
        {"Origin": "null"},
    ],
    ids=["origin-and-referer", "referer-only", "opaque-origin"],
)
def test_a_form_post_from_another_site_is_refused(
    agent_browser: TestClient, desk_data: dict[str, int], session: Session, headers: dict[str, str]
) -> None:
    before = _status(session)
    page = agent_browser.get("/desk").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    # Even with the right token (say it leaked), a foreign origin is refused.
    response = agent_browser.post(
        "/desk/agent-status", data={"status": "away", "csrf_token": token.group(1)}, headers=headers
    )
    assert response.status_code == 403
    assert "其他网站" in response.text
    assert _status(session) == before


def test_a_form_post_without_the_token_is_refused(
    agent_browser: TestClient, desk_data: dict[str, int], session: Session
) -> None:
    before = _status(session)
    response = agent_browser.post("/desk/agent-status", data={"status": "away"})
    assert response.status_code == 403 and "刷新页面" in response.text
    forged = agent_browser.post("/desk/agent-status", data={"status": "away", "csrf_token": "guessed"})
    assert forged.status_code == 403
    assert _status(session) == before


def test_the_token_rendered_in_the_form_is_accepted(
    agent_browser: TestClient, desk_data: dict[str, int], session: Session
) -> None:
    page = agent_browser.get("/desk").text
    form = re.search(r'<form class="agent-status".*?</form>', page, re.DOTALL)
    assert form is not None
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.group(0))
    assert token is not None
    response = agent_browser.post(
        "/desk/agent-status",
        data={"status": "away", "csrf_token": token.group(1)},
        headers={"Origin": "http://testserver", "Referer": "http://testserver/desk"},
    )
    assert response.status_code == 200 and "坐席状态已改为「离开」" in response.text
    assert _status(session) == "away"


def test_every_post_form_on_the_queue_and_ticket_pages_carries_the_token(
    agent_browser: TestClient, desk_data: dict[str, int], inbound: Callable[..., Any]
) -> None:
    number = inbound("请问我这个月还多少钱？").json()["ticket_number"]
    for path in ("/desk", f"/desk/tickets/{number}"):
        html = agent_browser.get(path).text
        forms = re.findall(r'<form[^>]*method="post"[^>]*>(.*?)</form>', html, re.DOTALL)
        assert len(forms) >= (5 if "tickets" in path else 1), path
        assert all('name="csrf_token"' in form for form in forms), path
