"""The ledger API: admin set-up, search, 360 with masking, repayments, reversal, quotes, calculator."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from lenddesk.ledger.schedule import generate_schedule
from tests.ledger.conftest import DISBURSED, TODAY, repay
from tests.ledger.factories import id_number


def test_a_loan_created_through_the_api_has_its_schedule(book) -> None:  # type: ignore[no-untyped-def]
    loan = book["loan"]
    assert loan["contract_number"].startswith("HT") and loan["principal"] == "12000.00"
    assert len(loan["lines"]) == 12
    assert sum(Decimal(line["principal"]) for line in loan["lines"]) == Decimal("12000.00")
    assert {line["state"] for line in loan["lines"][:2]} == {"overdue"}


def test_only_admins_create_borrowers_and_loans(client: TestClient, as_role) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/ledger/borrowers",
        json={"name": "x", "id_number": "1", "mobile": "1"},
        headers=as_role("agent"),
    )
    assert response.status_code == 403


def test_search_then_360_masks_personal_data_by_role(client: TestClient, as_role, book, agent_ticket) -> None:  # type: ignore[no-untyped-def]
    agent = as_role("agent")
    hits = client.get("/api/v1/ledger/borrowers", params={"q": id_number(321)[-4:]}, headers=agent).json()
    assert [hit["contracts"] for hit in hits] == [[book["contract"]]]
    assert "*" in hits[0]["id_number"]
    view = client.get(f"/api/v1/ledger/borrowers/{book['borrower_id']}", headers=agent).json()
    assert view["id_number"] == id_number(321)[:3] + "*" * 11 + id_number(321)[-4:]
    assert view["mobile"] == "13912345678"
    emergency = next(c for c in view["contacts"] if c["relation"] == "emergency")
    assert emergency["mobile"] == "138****2222" and emergency["is_third_party"] is True
    assert view["loans"][0]["contract_number"] == book["contract"]
    assert Decimal(view["overdue"]) > 0
    full = client.get(f"/api/v1/ledger/borrowers/{book['borrower_id']}", headers=as_role("compliance")).json()
    assert full["id_number"] == id_number(321) and full["full_pii"] is True
    assert next(c for c in full["contacts"] if c["relation"] == "emergency")["mobile"] == "13811112222"


def test_a_repayment_is_idempotent_per_channel_reference(
    client: TestClient, as_role, book, collector_ticket
) -> None:  # type: ignore[no-untyped-def]
    collector = as_role("collector")
    first = repay(client, collector, book["contract"], "500.00", "2026112600001")
    assert first.status_code == 201, first.text
    assert first.json()["allocation"][0]["period"] == 1 and first.json()["posted_by"] == "collector"
    again = repay(client, collector, book["contract"], "500.00", "2026112600001")
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["id"] == first.json()["id"]
    loan = client.get(f"/api/v1/ledger/loans/{book['contract']}", headers=collector).json()
    assert [r["amount"] for r in loan["repayments"]] == ["500.00"]


@pytest.mark.parametrize(
    ("amount", "extra", "status", "code"),
    [
        ("-5.00", {}, 422, "amount_not_positive"),
        ("0", {}, 422, "amount_not_positive"),
        (12.5, {}, 422, "amount_not_string"),
        ("10.00", {"channel": "paypal"}, 422, "validation_error"),
        (
            "10.00",
            {"value_date": (DISBURSED - timedelta(days=1)).isoformat()},
            422,
            "date_before_disbursement",
        ),
        ("10.00", {"contract_number": "HT404"}, 404, "contract_not_found"),
    ],
)
def test_bad_repayments_get_clear_errors(
    client, as_role, book, agent_ticket, amount, extra, status, code
) -> None:  # type: ignore[no-untyped-def]
    body = {"contract_number": book["contract"], **extra}
    contract = body.pop("contract_number")
    response = repay(client, as_role("agent"), contract, amount, "BAD-1", **body)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert response.json()["message_zh"] and response.json()["message_en"]


def test_paying_the_overdue_amount_cures_the_loan_and_shows_in_the_bucket_history(
    client: TestClient, as_role, book, session, agent_ticket
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from lenddesk.ledger.models import Loan

    # What the close of business would have set.
    session.execute(update(Loan).values(status="overdue", days_past_due=14, bucket="M1"))
    session.commit()
    agent = as_role("agent")
    overdue = client.get(f"/api/v1/ledger/loans/{book['contract']}", headers=agent).json()["overdue"]
    assert repay(client, agent, book["contract"], overdue, "CURE-1").status_code == 201
    loan = client.get(f"/api/v1/ledger/loans/{book['contract']}", headers=agent).json()
    assert (loan["status"], loan["bucket"], loan["days_past_due"], loan["overdue"]) == (
        "current",
        "M0",
        0,
        "0.00",
    )
    assert loan["bucket_history"] == [
        {"business_date": TODAY.isoformat(), "from_bucket": "M1", "to_bucket": "M0", "days_past_due": 0}
    ]


def test_reversal_is_requested_with_a_reason_and_approved_by_a_team_lead(
    client: TestClient, as_role, book, agent_ticket
) -> None:  # type: ignore[no-untyped-def]
    agent, lead = as_role("agent"), as_role("team_lead")
    repayment = repay(client, agent, book["contract"], "300.00", "REV-1").json()
    path = f"/api/v1/ledger/repayments/{repayment['id']}/reversal"
    assert client.post(path, json={"reason": ""}, headers=agent).status_code == 422
    requested = client.post(path, json={"reason": "客户重复转账，原路退回"}, headers=agent)
    assert requested.json()["status"] == "reversal_requested"
    assert client.post(f"{path}/approve", headers=agent).status_code == 403
    approved = client.post(f"{path}/approve", headers=lead)
    assert approved.status_code == 200 and approved.json()["status"] == "reversed"
    loan = client.get(f"/api/v1/ledger/loans/{book['contract']}", headers=agent).json()
    assert all(line["paid"] == "0.00" for line in loan["lines"])
    audit = client.get(
        "/api/v1/audit", params={"action": "repayment.reverse"}, headers=as_role("compliance")
    ).json()
    assert audit and audit[0]["actor_name"] == "team_lead"


def test_settlement_quote_early_settlement_and_certificate(
    client: TestClient, as_role, book, agent_ticket
) -> None:  # type: ignore[no-untyped-def]
    agent = as_role("agent")
    quote = client.get(f"/api/v1/ledger/loans/{book['contract']}/settlement-quote", headers=agent)
    assert quote.status_code == 200, quote.text
    settlement = quote.json()["settlement"]
    assert Decimal(settlement["overdue"]) > 0 and Decimal(settlement["principal"]) > 0
    total = settlement["total"]
    assert (
        client.get(f"/api/v1/ledger/loans/{book['contract']}/certificate", headers=agent).status_code == 404
    )
    paid = repay(client, agent, book["contract"], total, "SETTLE-1", kind="early_full")
    assert paid.status_code == 201, paid.text
    certificate = client.get(f"/api/v1/ledger/loans/{book['contract']}/certificate", headers=agent).json()
    assert certificate["number"].startswith("JQ") and certificate["total_paid"] == total
    assert "*" in certificate["borrower_id_number"]
    again = repay(client, agent, book["contract"], "1.00", "SETTLE-2")
    assert again.status_code == 409 and again.json()["code"] == "loan_settled"


def test_partial_quote_through_the_api(client: TestClient, as_role, book, collector_ticket) -> None:  # type: ignore[no-untyped-def]
    response = client.get(
        f"/api/v1/ledger/loans/{book['contract']}/settlement-quote",
        params={"partial_principal": "3000.00"},
        headers=as_role("collector"),
    )
    assert response.status_code == 200, response.text
    partial = response.json()["partial"]
    assert partial["prepaid_principal"] == "3000.00" and len(partial["new_lines"]) == 10


def test_qa_may_read_but_not_post(client: TestClient, as_role, book) -> None:  # type: ignore[no-untyped-def]
    assert (
        client.get(f"/api/v1/ledger/borrowers/{book['borrower_id']}", headers=as_role("qa")).status_code
        == 200
    )
    assert repay(client, as_role("qa"), book["contract"], "1.00", "QA-1").status_code == 403


# --- the public calculator -------------------------------------------------------------------------

CALCULATOR = {
    "principal": "10000.00",
    "annual_rate": "0.18",
    "term": "12",
    "method": "equal_instalment",
    "start_date": "2026-01-15",
}


def test_the_calculator_schedule_needs_no_sign_in(client: TestClient) -> None:
    response = client.get("/api/v1/calculator/schedule", params=CALCULATOR)
    assert response.status_code == 200, response.text
    body = response.json()
    expected = generate_schedule(
        principal_fen=1_000_000,
        annual_rate=Decimal("0.18"),
        term=12,
        method="equal_instalment",
        start_date=date(2026, 1, 15),
        rounding="half_up",
    )
    assert body["lines"][0] == {
        "period": 1,
        "due_date": "2026-02-15",
        "principal": "766.80",
        "interest": "150.00",
        "total": "916.80",
        "remaining": "9233.20",
    }
    assert len(body["lines"]) == 12 and body["lines"][-1]["remaining"] == "0.00"
    assert Decimal(body["total_interest"]) * 100 == sum(line.interest_fen for line in expected)
    assert Decimal(body["total"]) == Decimal("10000.00") + Decimal(body["total_interest"])


@pytest.mark.parametrize("method", ["equal_principal", "interest_first", "bullet"])
def test_the_calculator_knows_every_method(client: TestClient, method: str) -> None:
    body = client.get("/api/v1/calculator/schedule", params={**CALCULATOR, "method": method}).json()
    assert sum(Decimal(line["principal"]) for line in body["lines"]) == Decimal("10000.00")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"principal": "-1"}, "principal_not_positive"),
        ({"principal": "abc"}, "amount_invalid"),
        ({"method": "balloon"}, "unknown_method"),
        ({"term": "0"}, "term_out_of_range"),
        ({"annual_rate": "2"}, "rate_out_of_range"),
        ({"start_date": "2026-02-30"}, "validation_error"),
    ],
)
def test_the_calculator_refuses_bad_input_clearly(
    client: TestClient, change: dict[str, str], code: str
) -> None:
    response = client.get("/api/v1/calculator/schedule", params={**CALCULATOR, **change})
    assert response.status_code == 422
    assert response.json()["code"] == code


def test_the_early_repayment_calculator(client: TestClient) -> None:
    params = {**CALCULATOR, "repay_on": "2026-05-01", "fee_percent": "1"}
    full = client.get("/api/v1/calculator/early-repayment", params=params).json()
    settlement = full["settlement"]
    assert full["paid_instalments"] == 3
    # 16 days of interest since 15 Apr on the principal not yet due, and a 1% fee on it.
    principal = Decimal(settlement["principal"])
    assert Decimal(settlement["accrued_interest"]) == (principal * Decimal("0.18") * 16 / 365).quantize(
        Decimal("0.01")
    )
    assert Decimal(settlement["fee"]) == (principal / 100).quantize(Decimal("0.01"))
    assert full["total"] == settlement["total"]
    partial = client.get(
        "/api/v1/calculator/early-repayment", params={**params, "partial_principal": "3000"}
    ).json()
    assert (
        partial["partial"]["prepaid_principal"] == "3000.00"
        and partial["total"] == partial["partial"]["total"]
    )
    assert len(partial["partial"]["new_lines"]) == 9
    late = client.get("/api/v1/calculator/early-repayment", params={**params, "repay_on": "2027-02-01"})
    assert late.status_code == 422 and late.json()["code"] == "date_after_maturity"
