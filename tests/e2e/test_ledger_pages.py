"""An agent finds a borrower, opens the 360 page and a loan's schedule; anyone uses the calculator."""

from __future__ import annotations

from datetime import timedelta

import httpx
from playwright.sync_api import Page, expect

from lenddesk.core.calendar import business_date
from lenddesk.core.db import utcnow
from tests.conftest import PASSWORD
from tests.ledger.factories import id_number


def _make_loan(base_url: str) -> str:
    """A borrower and a loan created through the API as admin (the live database has only users)."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        token = client.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        product = client.post(
            "/api/v1/ledger/products",
            json={
                "code": "E2E12",
                "name": "随借随还",
                "annual_rate": "0.18",
                "term": 12,
                "method": "equal_instalment",
            },
            headers=headers,
        )
        assert product.status_code in (201, 409), product.text
        borrower = client.post(
            "/api/v1/ledger/borrowers",
            json={
                "name": "欧阳明远",
                "id_number": id_number(777, birth="19880808"),
                "mobile": "13755556666",
                "contacts": [{"relation": "spouse", "name": "林小雨", "mobile": "13677778888"}],
            },
            headers=headers,
        )
        assert borrower.status_code == 201, borrower.text
        disbursed = business_date(utcnow()) - timedelta(days=75)
        loan = client.post(
            "/api/v1/ledger/loans",
            json={
                "borrower_id": borrower.json()["id"],
                "product_code": "E2E12",
                "principal": "12000.00",
                "disbursed_on": disbursed.isoformat(),
            },
            headers=headers,
        )
        assert loan.status_code == 201, loan.text
        return loan.json()["contract_number"]


def _agent_ticket(base_url: str, sender: str) -> str:
    """A call from the borrower's phone, claimed by the agent, who verifies the caller (name, ID tail
    and phone): only verification links a ticket to a borrower."""
    with httpx.Client(base_url=base_url, timeout=10) as client:

        def headers(username: str) -> dict[str, str]:
            token = client.post(
                "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
            ).json()
            return {"Authorization": f"Bearer {token['access_token']}"}

        inbound = client.post(
            "/api/v1/desk/inbound",
            json={
                "channel": "phone",
                "channel_message_id": f"e2e-{sender}",
                "sender": sender,
                "text": "查询还款",
            },
            headers=headers("admin"),
        )
        assert inbound.status_code in (200, 201), inbound.text
        number = inbound.json()["ticket_number"]
        agent = headers("agent")
        claimed = client.post(f"/api/v1/desk/tickets/{number}/claim", headers=agent)
        assert claimed.status_code == 200, claimed.text
        knowledge = {"name": "欧阳明远", "id_last6": id_number(777, birth="19880808")[-6:], "phone": sender}
        verified = client.post(
            f"/api/v1/desk/tickets/{number}/verify/knowledge", json=knowledge, headers=agent
        )
        assert verified.status_code == 200 and verified.json()["verified"], verified.text
        return number


def test_agent_searches_a_borrower_and_opens_the_360_and_the_schedule(sign_in, live_server: str) -> None:  # type: ignore[no-untyped-def]
    contract = _make_loan(live_server)
    page: Page = sign_in("agent")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="借款人").click()
    page.get_by_label("查询").fill("欧阳明")
    page.get_by_role("button", name="查询").click()
    results = page.get_by_test_id("borrower-results")
    expect(results).to_contain_text(contract)
    results.get_by_role("link", name="欧阳明远").click()
    # Without a ticket of theirs an agent may not open the borrower.
    expect(page.get_by_text("只能通过您负责的工单查看该借款人")).to_be_visible()
    number = _agent_ticket(live_server, "13755556666")
    page.goto(f"{live_server}/desk/tickets/{number}")
    page.get_by_test_id("open-360").click()
    expect(page.get_by_role("heading", name="欧阳明远")).to_be_visible()
    expect(page.get_by_test_id("via-ticket")).to_contain_text(number)
    expect(page.get_by_test_id("id-number")).to_contain_text("***")
    expect(page.get_by_test_id("contacts")).to_contain_text("136****8888")
    page.get_by_test_id("loans").get_by_role("link", name=contract).click()
    schedule = page.get_by_test_id("schedule")
    expect(schedule.locator("tbody tr")).to_have_count(12)
    expect(schedule.locator("tbody tr").first).to_contain_text("逾期")
    expect(page.get_by_test_id("settlement-quote")).to_contain_text("结清金额")


def test_the_calculator_page_computes_a_schedule_without_sign_in(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/calculator")
    page.get_by_label("本金（元）").fill("10000.00")
    page.get_by_label("年利率").fill("0.18")
    page.get_by_label("期数").fill("12")
    page.get_by_label("还款方式").select_option("equal_instalment")
    page.get_by_label("放款日").fill("2026-01-15")
    page.get_by_role("button", name="计算").click()
    expect(page.get_by_test_id("total-interest")).to_have_text("¥1,001.60")
    rows = page.get_by_test_id("calculator-schedule").locator("tbody tr")
    expect(rows).to_have_count(12)
    expect(rows.first).to_contain_text("916.80")
