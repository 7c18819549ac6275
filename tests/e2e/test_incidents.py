"""Emergency mode in the browser: a team lead declares an outage for one product, every page shows
the banner, a reminder to a borrower of that product is blocked (EMERGENCY_HOLD), resolving is
refused while the checklist is open, then the checklist is finished and the incident resolved."""

from __future__ import annotations

import time

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.ledger.factories import id_number

PRODUCT = "E2E-INCIDENT"


def _wait_until_up(client: httpx.Client) -> None:
    """The live server may still be importing on a loaded machine (its fixture waits 30 s at most)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            client.get("/healthz")
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _borrower_of_a_new_product(base_url: str) -> int:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        _wait_until_up(client)
        token = client.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        product = client.post(
            "/api/v1/ledger/products",
            json={
                "code": PRODUCT,
                "name": "应急测试产品",
                "annual_rate": "0.18",
                "term": 12,
                "method": "equal_instalment",
            },
            headers=headers,
        )
        assert product.status_code == 201, product.text
        borrower = client.post(
            "/api/v1/ledger/borrowers",
            json={"name": "欧阳应急", "id_number": id_number(921, birth="19900101"), "mobile": "13755559210"},
            headers=headers,
        )
        assert borrower.status_code == 201, borrower.text
        borrower_id = int(borrower.json()["id"])
        loan = client.post(
            "/api/v1/ledger/loans",
            json={
                "borrower_id": borrower_id,
                "product_code": PRODUCT,
                "principal": "6000.00",
                "disbursed_on": "2026-11-01",
            },
            headers=headers,
        )
        assert loan.status_code == 201, loan.text
        return borrower_id


def test_declare_an_outage_see_the_banner_and_the_hold_then_resolve(
    live_server: str, sign_in, page: Page
) -> None:  # type: ignore[no-untyped-def]
    borrower_id = _borrower_of_a_new_product(live_server)
    sign_in("team_lead")
    page.goto(f"{live_server}/incidents")
    form = page.get_by_test_id("declare")
    form.get_by_label("类型").select_option("outage")
    form.get_by_label("标题").fill("还款通道故障（E2E）")
    form.get_by_label("对外公告").fill("部分还款渠道暂时无法使用，我们正在抢修，期间不会产生罚息。")
    form.get_by_label("影响产品").fill(PRODUCT)
    form.get_by_role("button", name="宣布").click()
    expect(page.get_by_test_id("incident-status")).to_have_text("进行中")
    expect(page.get_by_test_id("incident-banner")).to_contain_text("还款通道故障（E2E）")
    incident_url = page.url

    # A reminder to the borrower of the product in scope is blocked and recorded.
    page.goto(f"{live_server}/collections/accounts/{borrower_id}")
    expect(page.get_by_test_id("incident-banner")).to_be_visible()
    contact = page.get_by_test_id("contact-form")
    contact.get_by_label("渠道").select_option("sms")
    contact.get_by_label("内容 / 话术").fill("您好，您的借款本期应还款项即将到期，请按时通过银行转账还款。")
    contact.get_by_role("button", name="发送 / 拨打").click()
    expect(page.get_by_test_id("contact-history")).to_contain_text("EMERGENCY_HOLD")

    # The public status page (no sign-in needed) carries the notice.
    page.goto(f"{live_server}/status")
    expect(page.get_by_role("heading", name="系统故障：还款通道故障（E2E）")).to_be_visible()

    page.goto(incident_url)
    page.get_by_label("总结").fill("尝试提前解除")
    page.get_by_role("button", name="解除应急事件").click()
    expect(page.get_by_test_id("error")).to_contain_text("必做项未完成")
    for _ in range(5):
        pending = page.get_by_test_id("checklist").get_by_role("button", name="完成")
        if pending.count() == 0:
            break
        pending.first.click()
        expect(page.get_by_test_id("flash")).to_contain_text("检查项已完成")
    expect(page.get_by_test_id("checklist").get_by_role("button", name="完成")).to_have_count(0)
    page.get_by_label("总结").fill("通道已恢复，已核减故障期间罚息。")
    page.get_by_role("button", name="解除应急事件").click()
    expect(page.get_by_test_id("incident-status")).to_have_text("已解除")
    expect(page.get_by_test_id("incident-banner")).to_have_count(0)
