"""Recoveries, refunds and waivers over the API and on the loan page (roles, four eyes, errors)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from lenddesk.core import audit, auth
from lenddesk.ledger.models import Loan, ScheduleLine
from tests.conftest import PASSWORD
from tests.ledger.conftest import TODAY, repay


@pytest.fixture
def lead2(client: TestClient, session: Session) -> dict[str, str]:
    auth.create_user(
        session, actor=audit.Actor.system("test"), username="lead2", password=PASSWORD, role="team_lead"
    )
    session.commit()
    token = client.post("/api/v1/auth/token", data={"username": "lead2", "password": PASSWORD}).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def with_late_charges(session: Session, contract: str) -> None:
    """What the close of business would have charged on the overdue first instalment."""
    loan_id = session.query(Loan.id).filter(Loan.contract_number == contract).scalar()
    session.execute(
        update(ScheduleLine)
        .where(ScheduleLine.loan_id == loan_id, ScheduleLine.period == 1)
        .values(penalty_fen=2_500, late_fee_fen=3_000)
    )
    session.commit()


def test_a_credit_refund_over_the_api_needs_two_people(
    client: TestClient, as_role, book, lead2, agent_ticket
) -> None:  # type: ignore[no-untyped-def]
    contract = book["contract"]
    loan = client.get(f"/api/v1/ledger/loans/{contract}", headers=as_role("team_lead")).json()
    owed = sum(float(line["outstanding"]) for line in loan["lines"][:3])
    assert repay(client, as_role("agent"), contract, f"{owed + 300:.2f}", "OVER-1").status_code == 201
    body = {"amount": "200.00", "reference": "RF-1", "reason": "客户多还"}
    requested = client.post(f"/api/v1/ledger/loans/{contract}/refunds", json=body, headers=as_role("agent"))
    assert requested.status_code == 201, requested.text
    assert (
        client.post(
            f"/api/v1/ledger/loans/{contract}/refunds", json=body, headers=as_role("agent")
        ).status_code
        == 200
    )
    refund_id = requested.json()["id"]
    assert (
        client.post(f"/api/v1/ledger/refunds/{refund_id}/approve", headers=as_role("agent")).status_code
        == 403
    )
    assert (
        client.post(f"/api/v1/ledger/refunds/{refund_id}/approve", headers=as_role("qa")).status_code == 403
    )
    approved = client.post(f"/api/v1/ledger/refunds/{refund_id}/approve", headers=lead2)
    assert approved.status_code == 200 and approved.json()["status"] == "paid"
    again = client.post(f"/api/v1/ledger/refunds/{refund_id}/approve", headers=as_role("team_lead"))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    loan = client.get(f"/api/v1/ledger/loans/{contract}", headers=as_role("team_lead")).json()
    assert loan["credit_balance"] == "100.00"
    assert [(r["reference"], r["status"]) for r in loan["refunds"]] == [("RF-1", "paid")]
    too_much = client.post(
        f"/api/v1/ledger/loans/{contract}/refunds",
        json={"amount": "100.01", "reference": "RF-2", "reason": "再退"},
        headers=as_role("agent"),
    )
    assert too_much.status_code == 409 and too_much.json()["code"] == "refund_exceeds_credit"
    assert too_much.json()["message_zh"] and too_much.json()["message_en"]


def test_waivers_over_the_api_small_at_once_large_after_approval(
    client: TestClient, as_role, book, session: Session, lead2, agent_ticket
) -> None:  # type: ignore[no-untyped-def]
    contract = book["contract"]
    with_late_charges(session, contract)
    url = f"/api/v1/ledger/loans/{contract}/waivers"
    small = client.post(
        url, json={"component": "late_fee", "amount": "30.00", "reason": "首次逾期"}, headers=as_role("agent")
    )
    assert small.status_code == 201 and small.json()["status"] == "applied"
    large = client.post(
        url, json={"component": "interest", "amount": "150.00", "reason": "协商"}, headers=as_role("agent")
    )
    assert large.status_code == 201 and large.json()["status"] == "requested"
    waiver_id = large.json()["id"]
    assert (
        client.post(f"/api/v1/ledger/waivers/{waiver_id}/approve", headers=as_role("agent")).status_code
        == 403
    )
    approved = client.post(f"/api/v1/ledger/waivers/{waiver_id}/approve", headers=lead2)
    assert approved.status_code == 200 and approved.json()["approved_by"] == "lead2"
    loan = client.get(f"/api/v1/ledger/loans/{contract}", headers=as_role("team_lead")).json()
    assert loan["lines"][0]["waived"] == "180.00"
    assert [w["status"] for w in loan["waivers"]] == ["applied", "applied"]
    over = client.post(
        url, json={"component": "late_fee", "amount": "0.01", "reason": "再减"}, headers=as_role("agent")
    )
    assert over.status_code == 422 and over.json()["code"] == "waiver_exceeds_owed"
    bad = client.post(
        url, json={"component": "principal", "amount": "1.00", "reason": "x"}, headers=as_role("agent")
    )
    assert bad.status_code == 422


def test_recoveries_over_the_api(
    client: TestClient, as_role, book, session: Session, collector_ticket
) -> None:  # type: ignore[no-untyped-def]
    body = {
        "contract_number": book["contract"],
        "channel": "bank_transfer",
        "external_reference": "WO-1",
        "amount": "500.00",
        "value_date": TODAY.isoformat(),
    }
    not_written_off = client.post("/api/v1/ledger/recoveries", json=body, headers=as_role("collector"))
    assert not_written_off.status_code == 409 and not_written_off.json()["code"] == "loan_not_written_off"
    session.execute(
        update(Loan)
        .where(Loan.contract_number == book["contract"])
        .values(status="written_off", written_off_on=TODAY)
    )
    session.commit()
    assert client.post("/api/v1/ledger/recoveries", json=body, headers=as_role("agent")).status_code == 403
    posted = client.post("/api/v1/ledger/recoveries", json=body, headers=as_role("collector"))
    assert posted.status_code == 201, posted.text
    assert (
        client.post("/api/v1/ledger/recoveries", json=body, headers=as_role("collector")).status_code == 200
    )
    summary = client.get("/api/v1/ledger/recoveries/summary", headers=as_role("team_lead")).json()
    assert summary == {
        "written_off_loans": 1,
        "loans_with_recoveries": 1,
        "recoveries": 1,
        "recovered": "500.00",
    }
    loan = client.get(f"/api/v1/ledger/loans/{book['contract']}", headers=as_role("team_lead")).json()
    assert (loan["status"], loan["recovered"], loan["repayments"]) == ("written_off", "500.00", [])


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/ledger/refunds/{big}/approve",
        "/api/v1/ledger/waivers/{big}/approve",
        "/api/v1/ledger/refunds/0/approve",
    ],
)
def test_ids_past_64_bits_are_a_clear_422(client: TestClient, as_role, path: str) -> None:  # type: ignore[no-untyped-def]
    response = client.post(path.format(big=2**64), headers=as_role("team_lead"))
    assert response.status_code == 422 and response.json()["code"] == "validation_error"


def test_huge_amounts_are_refused_not_overflowed(client: TestClient, as_role, book, session: Session) -> None:  # type: ignore[no-untyped-def]
    with_late_charges(session, book["contract"])
    response = client.post(
        f"/api/v1/ledger/loans/{book['contract']}/waivers",
        json={"component": "penalty", "amount": str(2**70), "reason": "x"},
        headers=as_role("team_lead"),
    )
    assert response.status_code == 422 and response.json()["code"] == "amount_too_large"


def test_the_loan_page_waives_and_a_lead_approves_in_the_console(
    client: TestClient, as_role, book, session: Session, agent_ticket: str, lead2
) -> None:  # type: ignore[no-untyped-def]
    contract = book["contract"]
    with_late_charges(session, contract)
    page = client.get(f"/loans/{contract}", headers=as_role("agent"))
    assert 'data-testid="waiver-form"' in page.text and 'data-testid="refund-form"' not in page.text
    form = {"component": "interest", "amount": "150.00", "reason": "协商还款", "ticket": agent_ticket}
    sent = client.post(
        f"/loans/{contract}/waivers", data=form, headers=as_role("agent"), follow_redirects=False
    )
    assert sent.status_code == 303 and f"ticket={agent_ticket}" in sent.headers["location"]
    shown = client.get(sent.headers["location"], headers=as_role("agent"))
    assert "已提交审批" in shown.text and "待审批" in shown.text
    refused = client.post(
        f"/loans/{contract}/waivers", data={**form, "amount": "99999.00"}, headers=as_role("agent")
    )
    assert refused.status_code == 422 and "减免金额超过应还利息" in refused.text
    waiver_id = client.get(f"/api/v1/ledger/loans/{contract}", headers=lead2).json()["waivers"][0]["id"]
    lead_page = client.get(f"/loans/{contract}", headers=lead2).text
    assert f"/waivers/{waiver_id}/approve" in lead_page
    done = client.post(
        f"/loans/{contract}/waivers/{waiver_id}/approve", headers=lead2, follow_redirects=False
    )
    assert done.status_code == 303
    assert "减免已生效" in client.get(done.headers["location"], headers=lead2).text
    assert (
        client.post(f"/loans/{contract}/waivers/{waiver_id}/approve", headers=as_role("agent")).status_code
        == 403
    )
