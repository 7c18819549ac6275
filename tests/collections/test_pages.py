"""The collections console: the worklist, the account page (the guard's verdict before sending, a
blocked attempt shown with its reason), the compliance page's text checker and the report."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from lenddesk.collections.models import Contact, Outcome
from tests.collections.conftest import Book, session_of
from tests.conftest import PASSWORD, carry_csrf


@pytest.fixture
def browser(app: FastAPI):  # type: ignore[no-untyped-def]
    def sign_in(role: str) -> TestClient:
        client = TestClient(app)
        response = client.post("/login", data={"username": role, "password": PASSWORD, "next": "/"})
        assert response.status_code in (200, 303)
        return carry_csrf(client)

    return sign_in


def test_the_collector_works_an_account_from_the_worklist(browser, book: Book, engine: Engine) -> None:
    collector = browser("collector")
    # The worklist of the console is "today's"; this book's plan is for 2026-12-01, so the account
    # page is opened directly (the worklist page itself is checked below for its empty state).
    page = collector.get(f"/collections/accounts/{book.overdue_borrower}")
    assert page.status_code == 200
    assert "还款倾向分" in page.text and "按期还款期数" in page.text
    preview = collector.post(
        f"/collections/accounts/{book.overdue_borrower}/contact",
        data={
            "action": "preview",
            "channel": "call_script",
            "recipient": "self",
            "text": "你这个老赖，再不还就坐牢",
        },
    )
    assert preview.status_code == 200
    assert (
        "合规检查未通过" in preview.text and "INSULT" in preview.text and "FALSE_CONSEQUENCE" in preview.text
    )
    with session_of(engine) as session:
        assert (
            session.scalar(select(Contact.id).where(Contact.source == "agent")) is None
        )  # a preview sends nothing
    blocked = collector.post(
        f"/collections/accounts/{book.overdue_borrower}/contact",
        data={
            "action": "send",
            "channel": "call_script",
            "recipient": "self",
            "text": "你这个老赖，再不还就坐牢",
        },
    )
    assert blocked.status_code == 422 and "已拦截" in blocked.text
    outcome = collector.post(
        f"/collections/accounts/{book.overdue_borrower}/outcome",
        data={"kind": "promise_to_pay", "promise_amount": "200.00", "promise_date": "2099-01-01"},
    )
    assert outcome.status_code == 422  # beyond 30 days: refused, shown on the page
    with session_of(engine) as session:
        assert session.scalars(select(Contact.status).where(Contact.source == "agent")).all() == ["blocked"]
        assert session.scalar(select(Outcome.id)) is None
    assert collector.get("/collections").status_code == 200


def test_a_collector_cannot_open_an_account_not_theirs(browser, book: Book) -> None:
    assert browser("collector").get(f"/collections/accounts/{book.current_borrower}").status_code == 403


def test_compliance_checks_a_text_and_sees_blocked_attempts(browser, book: Book) -> None:
    lead = browser("team_lead")
    lead.post(
        f"/collections/accounts/{book.overdue_borrower}/contact",
        data={"action": "send", "channel": "sms", "recipient": "self", "text": "我们是法院的"},
    )
    compliance = browser("compliance")
    page = compliance.get("/collections/compliance")
    assert page.status_code == 200 and "FALSE_AUTHORITY" in page.text and "team_lead" in page.text
    checked = compliance.post(
        "/collections/compliance/check", data={"text": "请转告他尽快还款", "recipient": "third_party"}
    )
    assert "THIRD_PARTY_DISCLOSURE" in checked.text
    clean = compliance.post(
        "/collections/compliance/check", data={"text": "您好，请您方便时回电。", "recipient": "self"}
    )
    assert "未发现违规内容" in clean.text
    assert browser("collector").get("/collections/compliance").status_code == 403


def test_the_report_page_draws_the_chart(browser, book: Book) -> None:
    page = browser("qa").get("/collections/report")
    assert page.status_code == 200 and "<svg" in page.text and "95%" in page.text
