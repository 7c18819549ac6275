"""Values an attacker or a fuzzer sends: each is refused with a 4xx in both languages, never a 500.

These are the inputs schemathesis found against the demo (ids and offsets past 64 bits, an unpaired
surrogate in the knowledge check), plus money amounts past anything a loan can hold.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.core.models import AuditEntry
from lenddesk.desk.models import Ticket
from tests.desk.conftest import BorrowerFacts

PAST_64_BITS = [2**63, 2**64 + 1, 1939 * 10**30]
LARGEST_ID = 2**63 - 1


def assert_refused_naming(response, field: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["message_zh"] and field in body["message_en"]


@pytest.mark.parametrize("offset", PAST_64_BITS)
def test_an_audit_offset_past_64_bits_is_refused(client: TestClient, as_role, offset: int) -> None:
    response = client.get("/api/v1/audit", params={"offset": offset}, headers=as_role("compliance"))
    assert_refused_naming(response, "offset")


def test_the_largest_audit_offset_is_an_empty_page(client: TestClient, as_role) -> None:
    response = client.get("/api/v1/audit", params={"offset": LARGEST_ID}, headers=as_role("compliance"))
    assert response.status_code == 200 and response.json() == []


@pytest.mark.parametrize("follow_up_id", PAST_64_BITS)
def test_a_follow_up_id_past_64_bits_is_refused(client: TestClient, as_role, follow_up_id: int) -> None:
    response = client.post(f"/api/v1/desk/follow-ups/{follow_up_id}/done", headers=as_role("agent"))
    assert_refused_naming(response, "follow_up_id")


@pytest.mark.parametrize("repayment_id", PAST_64_BITS)
def test_a_repayment_id_past_64_bits_is_refused(client: TestClient, as_role, repayment_id: int) -> None:
    response = client.post(
        f"/api/v1/ledger/repayments/{repayment_id}/reversal",
        json={"reason": "重复入账"},
        headers=as_role("agent"),
    )
    assert_refused_naming(response, "repayment_id")


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/desk/follow-ups/{LARGEST_ID}/done",
        f"/api/v1/ledger/repayments/{LARGEST_ID}/reversal",
    ],
)
def test_the_largest_id_is_simply_not_found(client: TestClient, as_role, path: str) -> None:
    response = client.post(path, json={"reason": "重复入账"}, headers=as_role("agent"))
    assert response.status_code == 404, response.text
    assert response.json()["message_zh"] and response.json()["message_en"]


@pytest.mark.parametrize("field", ["name", "id_last6", "contract_number", "phone"])
def test_an_unpaired_surrogate_in_the_knowledge_check_is_refused_and_not_counted(
    client: TestClient, as_role, inbound, desk_data, borrower: BorrowerFacts, session: Session, field: str
) -> None:
    number = inbound("请问我这个月还多少钱？", sender="13700000000").json()["ticket_number"]
    fields = {"name": "张伟", "id_last6": "011232", "contract_number": borrower.contract_number}
    fields[field] = "\\ud800" * (6 if field == "id_last6" else 1)
    raw = "{" + ", ".join(f'"{key}": "{value}"' for key, value in fields.items()) + "}"
    response = client.post(
        f"/api/v1/desk/tickets/{number}/verify/knowledge",
        content=raw.encode("utf-8"),
        headers={**as_role("agent"), "Content-Type": "application/json"},
    )
    assert_refused_naming(response, field)
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    assert ticket is not None and ticket.knowledge_failures == 0 and ticket.verification_level == "none"


@pytest.mark.parametrize("id_last6", ["０１１２３２", "01123２"])
def test_a_full_width_id_tail_in_the_knowledge_check_is_read_as_digits(
    client: TestClient, as_role, inbound, desk_data, borrower: BorrowerFacts, id_last6: str
) -> None:
    number = inbound("请问我这个月还多少钱？", sender="13700000000").json()["ticket_number"]
    body = {"name": "张伟", "id_last6": id_last6, "contract_number": borrower.contract_number}
    response = client.post(
        f"/api/v1/desk/tickets/{number}/verify/knowledge", json=body, headers=as_role("agent")
    )
    assert response.status_code == 200, response.text
    assert response.json()["verified"] is True


@pytest.mark.parametrize("id_last6", ["\ufffd" * 6, "〇一一二三二", "01123张"])
def test_a_non_digit_id_tail_in_the_knowledge_check_is_refused_not_a_crash(
    client: TestClient, as_role, inbound, desk_data, borrower: BorrowerFacts, id_last6: str
) -> None:
    number = inbound("请问我这个月还多少钱？", sender="13700000000").json()["ticket_number"]
    body = {"name": "张伟", "id_last6": id_last6, "contract_number": borrower.contract_number}
    response = client.post(
        f"/api/v1/desk/tickets/{number}/verify/knowledge", json=body, headers=as_role("agent")
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "verification_input" and response.json()["message_en"]


@pytest.mark.parametrize(
    "form",
    [
        b"name=%ED%A0%80&id_last6=011232&contract_number=HT20260105001",
        b"name=%E5%BC%A0%E4%BC%9F&id_last6=%ED%A0%80%ED%A0%80&contract_number=HT20260105001",
        b"name=%FF%FE&id_last6=011232&phone=%ED%B2%80",
    ],
)
def test_undecodable_bytes_in_the_console_knowledge_form_are_an_answer_not_a_crash(
    app, inbound, desk_data, borrower: BorrowerFacts, session: Session, form: bytes
) -> None:
    from tests.conftest import PASSWORD

    number = inbound("请问我这个月还多少钱？", sender="13700000000").json()["ticket_number"]
    with TestClient(app) as browser:
        browser.post("/login", data={"username": "agent", "password": PASSWORD, "next": "/"})
        response = browser.post(
            f"/desk/tickets/{number}/verify/knowledge",
            content=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code < 500
    assert "身份核验通过" not in response.text
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    assert ticket is not None and ticket.verification_level == "none"


@pytest.mark.parametrize("amount", ["9" * 40, "100000000000000.00", "¥99,999,999,999,999,999.99"])
def test_a_repayment_amount_past_any_loan_is_refused_and_nothing_is_written(
    client: TestClient, as_role, borrower: BorrowerFacts, session: Session, amount: str
) -> None:
    agent = as_role("agent")
    audit_rows = session.scalar(select(func.count()).select_from(AuditEntry))
    response = client.post(
        "/api/v1/ledger/repayments",
        json={
            "contract_number": borrower.contract_number,
            "channel": "bank_transfer",
            "external_reference": "REF-HUGE",
            "amount": amount,
            "value_date": "2026-11-24",
        },
        headers=agent,
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "amount_too_large"
    assert "金额" in response.json()["message_zh"] and "amount" in response.json()["message_en"].lower()
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audit_rows


@pytest.mark.parametrize("borrower_id", [2**63, 10**40])
def test_a_body_id_past_64_bits_is_refused(client: TestClient, as_role, borrower_id: int) -> None:
    response = client.post(
        "/api/v1/ledger/loans",
        json={
            "borrower_id": borrower_id,
            "product_code": "P12",
            "principal": "1000.00",
            "disbursed_on": "2026-11-05",
        },
        headers=as_role("admin"),
    )
    assert response.status_code == 422, response.text
    assert response.json()["message_zh"] and response.json()["message_en"]


CALCULATOR_TERMS = {"principal": "10000.00", "annual_rate": "0.18", "term": 360, "method": "equal_instalment"}


@pytest.mark.parametrize("start_date", ["9999-12-31", "9990-06-30", "0001-01-01"])
def test_a_calculator_date_no_loan_can_have_is_refused(client: TestClient, start_date: str) -> None:
    response = client.get(
        "/api/v1/calculator/schedule", params={**CALCULATOR_TERMS, "start_date": start_date}
    )
    assert_refused_naming(response, "start_date")


def test_the_calculator_takes_the_latest_date(client: TestClient) -> None:
    response = client.get(
        "/api/v1/calculator/schedule", params={**CALCULATOR_TERMS, "start_date": "2199-12-31"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["lines"][-1]["due_date"] == "2229-12-31"
