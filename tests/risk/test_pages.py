"""The risk console: 风险预警 (acknowledge, open a ticket, close) and 黑名单 (request, approval by a
second person, removal, a check posted rather than put in a URL)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from lenddesk.core.db import session_factory
from lenddesk.risk.models import Alert, BlacklistEntry
from tests.conftest import PASSWORD, carry_csrf
from tests.risk.conftest import CHANNEL_KEY, SHANGHAI_REGION, Book, event


def signed_in(app: FastAPI, role: str) -> TestClient:
    browser = TestClient(app)
    browser.post("/login", data={"username": role, "password": PASSWORD})
    return carry_csrf(browser)


def test_an_alert_is_acknowledged_ticketed_and_closed_from_the_console(
    pinned_app: FastAPI, book: Book, engine: Engine
) -> None:
    channel = TestClient(pinned_app)
    body = event(book.borrower, "c1", "login", "2026-12-01T09:00:00+08:00", SHANGHAI_REGION)
    channel.post("/api/v1/risk/events", json=body, headers={"X-LendDesk-Key": CHANNEL_KEY})
    browser = signed_in(pinned_app, "compliance")
    page = browser.get("/risk/alerts")
    assert page.status_code == 200 and "异地登录（新省份）" in page.text and "上海" in page.text
    with session_factory(engine)() as session:
        alert_id = session.scalar(select(Alert.id))
    for action in ("acknowledge", "ticket"):
        done = browser.post(f"/risk/alerts/{alert_id}/{action}", follow_redirects=False)
        assert done.status_code == 303, done.text
    refused = browser.post(f"/risk/alerts/{alert_id}/acknowledge")
    assert refused.status_code == 409 and "不能确认" in refused.text
    closed = browser.post(
        f"/risk/alerts/{alert_id}/close", data={"disposition": "false_positive", "note": "本人出差"}
    )
    assert closed.status_code == 200 and "预警已关闭" in closed.text
    with session_factory(engine)() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        assert (alert.status, alert.disposition, alert.note) == ("closed", "false_positive", "本人出差")
        assert alert.ticket_number is not None
    assert signed_in(pinned_app, "agent").get("/risk/alerts").status_code == 403


def test_the_blacklist_console_keeps_four_eyes_and_checks_by_post(
    pinned_app: FastAPI, engine: Engine
) -> None:
    lead = signed_in(pinned_app, "team_lead")
    asked = lead.post(
        "/risk/blacklist", data={"kind": "mobile", "value": "139 1234 5678", "reason": "团伙欺诈"}
    )
    assert asked.status_code == 200 and "待另一位审批人审批" in asked.text
    assert "13912345678" not in asked.text
    with session_factory(engine)() as session:
        entry = session.scalar(select(BlacklistEntry))
        assert entry is not None and entry.status == "pending"
    assert lead.post(f"/risk/blacklist/{entry.id}/approve").status_code == 403  # not an approver
    compliance = signed_in(pinned_app, "compliance")
    approved = compliance.post(f"/risk/blacklist/{entry.id}/approve")
    assert approved.status_code == 200 and "已列入" in approved.text
    agent = signed_in(pinned_app, "agent")
    checked = agent.post("/risk/blacklist/check", data={"kind": "mobile", "value": "+8613912345678"})
    assert 'data-testid="check-result">已在黑名单中' in checked.text
    removal = compliance.post(f"/risk/blacklist/{entry.id}/remove", data={"reason": "误报"})
    assert "待审批移出" in removal.text
    own = compliance.post(f"/risk/blacklist/{entry.id}/approve")
    assert own.status_code == 403 and "另一人" in own.text
    kept = signed_in(pinned_app, "admin").post(
        f"/risk/blacklist/{entry.id}/reject", data={"note": "申诉不成立"}
    )
    assert kept.status_code == 200 and "已驳回申请" in kept.text
    with session_factory(engine)() as session:
        assert session.get(BlacklistEntry, entry.id).status == "listed"  # type: ignore[union-attr]
    bad = lead.post("/risk/blacklist", data={"kind": "id_number", "value": "12345", "reason": "x"})
    assert bad.status_code == 422 and "身份证号码无效" in bad.text


def test_a_blacklisted_borrower_is_flagged_on_the_360(pinned_app: FastAPI, book: Book) -> None:
    lead, compliance = signed_in(pinned_app, "team_lead"), signed_in(pinned_app, "compliance")
    assert 'data-testid="blacklisted"' not in compliance.get(f"/borrowers/{book.borrower}").text
    lead.post("/risk/blacklist", data={"kind": "id_number", "value": book.id_number, "reason": "冒名"})
    compliance.post("/risk/blacklist/1/approve")
    page = compliance.get(f"/borrowers/{book.borrower}")
    assert 'data-testid="blacklisted"' in page.text
    assert 'data-testid="blacklisted"' not in compliance.get(f"/borrowers/{book.other}").text


def test_an_id_past_64_bits_is_refused_not_a_crash(pinned_app: FastAPI) -> None:
    compliance = signed_in(pinned_app, "compliance")
    for path in ("/risk/alerts/{}/acknowledge", "/risk/blacklist/{}/approve"):
        response = compliance.post(path.format(2**64))
        assert response.status_code == 422
