"""Console pages of the ledger: search, borrower 360, loan page, the public calculator."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.ledger.conftest import repay
from tests.ledger.factories import id_number


def test_search_page_finds_a_borrower_and_masks_the_id_number(client: TestClient, as_role, book) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/borrowers", params={"q": "陈静"}, headers=as_role("agent"))
    assert page.status_code == 200
    assert "陈静" in page.text and book["contract"] in page.text
    assert id_number(321) not in page.text and id_number(321)[-4:] in page.text


def test_borrower_page_masks_by_role(client: TestClient, as_role, book, agent_ticket) -> None:  # type: ignore[no-untyped-def]
    agent_page = client.get(f"/borrowers/{book['borrower_id']}", headers=as_role("agent")).text
    assert "138****2222" in agent_page and "13811112222" not in agent_page
    assert id_number(321) not in agent_page
    compliance_page = client.get(f"/borrowers/{book['borrower_id']}", headers=as_role("compliance")).text
    assert "13811112222" in compliance_page and id_number(321) in compliance_page


def test_loan_page_shows_the_schedule_and_repayments(client: TestClient, as_role, book, agent_ticket) -> None:  # type: ignore[no-untyped-def]
    agent = as_role("agent")
    assert repay(client, agent, book["contract"], "250.00", "PAGE-1").status_code == 201
    page = client.get(f"/loans/{book['contract']}", headers=agent)
    assert page.status_code == 200
    assert page.text.count("<tr>") >= 12 + 1
    assert "PAGE-1" in page.text and "250.00" in page.text and "逾期" in page.text
    assert "一次结清" in page.text


def test_pages_for_unknown_records_say_so(client: TestClient, as_role) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/loans/HT0000", headers=as_role("agent"))
    assert page.status_code == 404 and "合同不存在" in page.text
    assert client.get("/borrowers/999", headers=as_role("agent")).status_code == 404


def test_pages_need_sign_in_and_the_right_role(client: TestClient, as_role) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/borrowers", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_the_calculator_page_is_public_and_computes_a_schedule(client: TestClient) -> None:
    empty = client.get("/calculator")
    assert empty.status_code == 200 and "贷款计算器" in empty.text
    page = client.get(
        "/calculator",
        params={
            "principal": "10000.00",
            "annual_rate": "0.18",
            "term": "12",
            "method": "equal_instalment",
            "start_date": "2026-01-15",
            "repay_on": "2026-05-01",
            "partial": "3000",
            "fee_percent": "1",
        },
    )
    assert page.status_code == 200
    assert "916.80" in page.text and "1,001.60" in page.text  # monthly payment, total interest
    assert "3,090.48" in page.text  # partial prepayment: 3,000.00 + 30.00 fee + 60.48 interest


def test_the_calculator_page_shows_bad_input_as_a_message(client: TestClient) -> None:
    for params, message in [
        ({"principal": "-1"}, "本金必须大于 0"),
        ({"term": "12.5"}, "期数须为整数"),
        ({"annual_rate": "abc"}, "年利率须为数字"),
        ({"start_date": "2026-02-30"}, "放款日须为 YYYY-MM-DD"),
    ]:
        base = {"principal": "100", "annual_rate": "0.18", "term": "12", "start_date": "2026-01-15"}
        page = client.get("/calculator", params={**base, **params})
        assert page.status_code == 200 and 'role="alert"' in page.text and message in page.text, params


def test_nav_shows_the_ledger_pages_to_agents(client: TestClient, as_role) -> None:  # type: ignore[no-untyped-def]
    home = client.get("/", headers=as_role("agent")).text
    assert 'href="/borrowers"' in home and 'href="/calculator"' in home


def home_figures(html: str) -> dict[str, str]:
    import re

    pattern = r'<span class="value">([^<]+)</span><span class="label">([^<]+)</span>'
    return {label: value for value, label in re.findall(pattern, html)}


def test_home_shows_the_portfolio_to_collectors_not_to_agents(
    client: TestClient, as_role, book, engine
) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from lenddesk.ledger.cob import run_cob
    from tests.ledger.conftest import DISBURSED

    run_cob(engine, DISBURSED + timedelta(days=40))  # the first instalment is ~10 days overdue
    figures = home_figures(client.get("/", headers=as_role("collector")).text)
    assert figures["在贷笔数"] == "1"
    assert figures["逾期笔数（100.0%）"] == "1"
    assert figures["逾期分档"] == "M1 1"
    assert figures["逾期剩余本金"] == "¥12,000.00"
    assert "在贷笔数" not in home_figures(client.get("/", headers=as_role("agent")).text)
