"""A team lead opens a borrower's collections page, asks the guard about a threatening text (the
verdict names the codes, nothing is sent), then about a polite one; compliance checks a text."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.ledger.factories import id_number


def _borrower(base_url: str) -> int:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        token = client.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD}).json()
        borrower = client.post(
            "/api/v1/ledger/borrowers",
            json={"name": "司马光明", "id_number": id_number(778, birth="19900101"), "mobile": "13755557777"},
            headers={"Authorization": f"Bearer {token['access_token']}"},
        )
        assert borrower.status_code == 201, borrower.text
        return int(borrower.json()["id"])


def test_the_guard_verdict_shows_before_sending(live_server: str, sign_in, page: Page) -> None:  # type: ignore[no-untyped-def]
    borrower_id = _borrower(live_server)
    sign_in("team_lead")
    page.goto(f"{live_server}/collections/accounts/{borrower_id}")
    expect(page.get_by_role("heading", name="联系借款人")).to_be_visible()
    page.get_by_label("内容 / 话术").fill("再不还钱就让你坐 牢，通知你单位领导")
    page.get_by_role("button", name="合规检查").click()
    verdict = page.get_by_test_id("verdict")
    expect(verdict).to_contain_text("FALSE_CONSEQUENCE")
    expect(verdict).to_contain_text("不能发送")
    expect(page.get_by_test_id("contact-history")).to_contain_text("暂无联系记录")
    page.get_by_label("内容 / 话术").fill("您好，您的借款已逾期，请尽快通过支付宝或银行转账还款。")
    page.get_by_role("button", name="合规检查").click()
    expect(page.get_by_test_id("verdict")).not_to_contain_text("FALSE_")


def test_compliance_checks_a_text(live_server: str, sign_in, page: Page) -> None:  # type: ignore[no-untyped-def]
    sign_in("compliance")
    page.goto(f"{live_server}/collections/compliance")
    page.get_by_label("文本").fill("我們是工安，ｎｍｓｌ")
    page.get_by_role("button", name="检查").click()
    result = page.get_by_test_id("check-result")
    expect(result).to_contain_text("FALSE_AUTHORITY")
    expect(result).to_contain_text("INSULT")
