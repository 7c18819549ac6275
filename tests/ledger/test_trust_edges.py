"""Issue 17 "Trust at the edges", findings 1, 3 and 4: a loan an agent may not open takes no write
from them; a console error page shows the loan only to who may open it (and is audited as a read);
borrower search masks what the role does not need in clear."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.core.models import AuditEntry
from lenddesk.ledger.models import Waiver
from tests.ledger.factories import id_number

REFUSAL_ZH = "只能通过您负责的工单查看该借款人"


def audit_rows(session: Session, action: str) -> list[dict]:  # type: ignore[type-arg]
    session.expire_all()
    return list(session.scalars(select(AuditEntry.after).where(AuditEntry.action == action)))


def test_an_agent_who_may_not_open_a_loan_may_not_waive_on_it(
    client: TestClient, as_role, book, session: Session
) -> None:  # type: ignore[no-untyped-def]
    contract = book["contract"]
    read = client.get(f"/api/v1/ledger/loans/{contract}", headers=as_role("agent"))
    assert read.status_code == 403 and read.json()["code"] == "no_case_for_borrower"
    write = client.post(
        f"/api/v1/ledger/loans/{contract}/waivers",
        json={"component": "interest", "amount": "10.00", "reason": "协商"},
        headers=as_role("agent"),
    )
    assert write.status_code == 403, write.text
    assert write.json()["code"] == "no_case_for_borrower" and write.json()["message_en"]
    assert session.scalar(select(func.count(Waiver.id))) == 0


def test_a_refused_console_form_does_not_show_the_loan_to_an_agent_without_a_ticket(
    client: TestClient, as_role, book, session: Session
) -> None:  # type: ignore[no-untyped-def]
    answer = client.post(f"/loans/{book['contract']}/refunds", data={"amount": "x"}, headers=as_role("agent"))
    assert answer.status_code == 403
    assert REFUSAL_ZH in answer.text
    for secret in ("陈静", "13912345678", "还款计划", "结清金额", book["contract"]):
        assert secret not in answer.text, secret
    assert audit_rows(session, "borrower.open") == []


def test_a_refused_console_form_re_renders_the_loan_for_its_ticket_holder_and_audits_the_read(
    client: TestClient, as_role, book, session: Session, agent_ticket: str
) -> None:  # type: ignore[no-untyped-def]
    answer = client.post(
        f"/loans/{book['contract']}/refunds",
        data={"amount": "x", "ticket": agent_ticket},
        headers=as_role("agent"),
    )
    assert answer.status_code == 422
    assert "陈静" in answer.text and "金额" in answer.text
    opened = audit_rows(session, "borrower.open")
    assert [(o["surface"], o["page"], o["case"]) for o in opened] == [("console", "loan", agent_ticket)]
    assert audit_rows(session, "borrower.write") == []  # the refused write was rolled back


def test_borrower_search_masks_contact_details_for_agents_and_collectors(
    client: TestClient, as_role, book, session: Session
) -> None:  # type: ignore[no-untyped-def]
    from lenddesk.ledger.models import Borrower

    session.query(Borrower).filter(Borrower.id == book["borrower_id"]).update(
        {"email": "chen.jing@example.com"}
    )
    session.commit()
    for role in ("agent", "collector"):
        (hit,) = client.get("/api/v1/ledger/borrowers", params={"q": "HT"}, headers=as_role(role)).json()
        assert hit["mobile"] == "139****5678", role
        assert hit["email"] == "c***@example.com", role
        assert hit["id_number"] != id_number(321) and hit["id_number"].endswith(id_number(321)[-4:])
        page = client.get("/borrowers", params={"q": "HT"}, headers=as_role(role)).text
        assert "13912345678" not in page and "chen.jing@" not in page and "139****5678" in page
    (lead,) = client.get("/api/v1/ledger/borrowers", params={"q": "HT"}, headers=as_role("team_lead")).json()
    assert lead["mobile"] == "13912345678" and lead["id_number"] != id_number(321)
    (full,) = client.get("/api/v1/ledger/borrowers", params={"q": "HT"}, headers=as_role("compliance")).json()
    assert (full["mobile"], full["email"], full["id_number"]) == (
        "13912345678",
        "chen.jing@example.com",
        id_number(321),
    )


CALCULATOR_FORM = {
    "principal": "10000.00",
    "annual_rate": "0.18",
    "term": "12",
    "method": "equal_instalment",
    "start_date": "2026-01-15",
}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("start_date", "9999-06-01", "放款日须在 1900-01-01 至 2199-12-31 之间"),
        ("annual_rate", "NaN", "年利率须为有限的数字"),
        ("annual_rate", "1e-400", "年利率最多保留 10 位小数"),
        ("term", "Infinity", "期数须为有限的数字"),
    ],
)
def test_the_calculator_page_shows_hostile_values_as_a_message(
    client: TestClient, field: str, value: str, message: str
) -> None:
    """Issue 17, finding 10: these answered 500."""
    page = client.get("/calculator", params={**CALCULATOR_FORM, field: value})
    assert page.status_code == 200 and message in page.text


def test_the_calculator_api_refuses_a_rate_too_fine_to_compute(client: TestClient) -> None:
    response = client.get("/api/v1/calculator/schedule", params={**CALCULATOR_FORM, "annual_rate": "1e-400"})
    assert response.status_code == 422 and response.json()["code"] == "rate_too_precise"
    assert response.json()["message_en"] == "The annual rate has at most 10 decimal places"
