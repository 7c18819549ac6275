"""The 应急 console pages: declare by form, a refusal re-rendered in Chinese, readers who may not act,
the public /status page."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, carry_csrf
from tests.incidents.conftest import OUTAGE_NOTICE, Book


def _browser(app: FastAPI, role: str) -> TestClient:
    client = TestClient(app)
    client.post("/login", data={"username": role, "password": PASSWORD})
    return carry_csrf(client)


FORM = {"kind": "outage", "title": "短信通道故障", "public_notice": OUTAGE_NOTICE, "pause_outbound": "on"}


def test_a_lead_declares_by_form_and_ticks_the_checklist(pinned_app: FastAPI, book: Book) -> None:
    lead = _browser(pinned_app, "team_lead")
    declared = lead.post(
        "/incidents", data={**FORM, "products": f"{book.product_a}，{book.product_b}"}, follow_redirects=False
    )
    assert declared.status_code == 303
    page = lead.get(declared.headers["location"])
    assert "短信通道故障" in page.text and 'data-testid="incident-banner"' in page.text
    assert f"{book.product_a}、{book.product_b}" in page.text
    ticked = lead.post(f"{declared.headers['location']}/checklist/assess_scope", follow_redirects=True)
    assert "检查项已完成" in ticked.text
    refused = lead.post(f"{declared.headers['location']}/resolve", data={"summary": "好了"})
    assert refused.status_code == 409 and "必做项未完成" in refused.text


def test_a_refused_declaration_keeps_the_form_and_says_why(pinned_app: FastAPI, book: Book) -> None:
    lead = _browser(pinned_app, "compliance")
    page = lead.post("/incidents", data={**FORM, "products": "NOPE"})
    assert page.status_code == 422
    assert "未知的产品代码：NOPE" in page.text and "短信通道故障" in page.text


def test_an_agent_reads_but_may_not_declare(pinned_app: FastAPI, book: Book) -> None:
    agent = _browser(pinned_app, "agent")
    assert agent.get("/incidents").status_code == 200
    assert 'data-testid="declare"' not in agent.get("/incidents").text
    assert agent.post("/incidents", data=FORM).status_code == 403


def test_the_status_page_needs_no_sign_in(pinned_app: FastAPI) -> None:
    page = TestClient(pinned_app).get("/status")
    assert page.status_code == 200 and "所有服务运行正常" in page.text
