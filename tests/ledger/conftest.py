"""Ledger fixtures: a book made through the API (product, borrower with a contact, loan)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from lenddesk.core.calendar import business_date
from lenddesk.core.db import utcnow
from lenddesk.ledger.models import Borrower
from tests.ledger.factories import id_number

TODAY = business_date(utcnow())
DISBURSED = TODAY - timedelta(days=75)  # two instalments already due


@pytest.fixture
def book(client: TestClient, as_role):  # type: ignore[no-untyped-def]
    """A product, a borrower with an emergency contact, and a loan — all made through the API."""
    admin = as_role("admin")
    product = client.post(
        "/api/v1/ledger/products",
        json={
            "code": "XJD12",
            "name": "现金贷",
            "annual_rate": "0.18",
            "term": 12,
            "method": "equal_instalment",
        },
        headers=admin,
    )
    assert product.status_code == 201, product.text
    borrower = client.post(
        "/api/v1/ledger/borrowers",
        json={
            "name": "陈静",
            "id_number": id_number(321),
            "mobile": "13912345678",
            "address": "上海市浦东新区世纪大道 100 号",
            "contacts": [{"relation": "emergency", "name": "陈父", "mobile": "13811112222"}],
        },
        headers=admin,
    )
    assert borrower.status_code == 201, borrower.text
    loan = client.post(
        "/api/v1/ledger/loans",
        json={
            "borrower_id": borrower.json()["id"],
            "product_code": "XJD12",
            "principal": "12000.00",
            "disbursed_on": DISBURSED.isoformat(),
        },
        headers=admin,
    )
    assert loan.status_code == 201, loan.text
    return {
        "borrower_id": borrower.json()["id"],
        "contract": loan.json()["contract_number"],
        "loan": loan.json(),
    }


def repay(client: TestClient, headers, contract: str, amount: str, reference: str, **extra):  # type: ignore[no-untyped-def]
    body = {
        "contract_number": contract,
        "channel": "alipay",
        "external_reference": reference,
        "amount": amount,
        "value_date": TODAY.isoformat(),
        **extra,
    }
    return client.post("/api/v1/ledger/repayments", json=body, headers=headers)


def open_ticket(client: TestClient, as_role, sender: str, owner: str) -> str:  # type: ignore[no-untyped-def]
    """A ticket from `sender`, claimed by user `owner`, who verifies the borrower registered with that
    phone (name, ID tail, phone): verification, not the sender's number, links the ticket."""
    inbound = client.post(
        "/api/v1/desk/inbound",
        json={
            "channel": "phone",
            "channel_message_id": f"{sender}-{owner}",
            "sender": sender,
            "text": "查询还款",
        },
        headers=as_role("admin"),
    )
    assert inbound.status_code in (200, 201), inbound.text
    number = inbound.json()["ticket_number"]
    claimed = client.post(f"/api/v1/desk/tickets/{number}/claim", headers=as_role(owner))
    assert claimed.status_code == 200, claimed.text
    with client.app.state.session_factory() as session:
        holder = session.execute(
            select(Borrower.name, Borrower.id_number).where(Borrower.mobile == sender)
        ).first()
    if holder is not None:
        knowledge = {"name": holder.name, "id_last6": holder.id_number[-6:], "phone": sender}
        verified = client.post(
            f"/api/v1/desk/tickets/{number}/verify/knowledge", json=knowledge, headers=as_role(owner)
        )
        assert verified.status_code == 200 and verified.json()["verified"], verified.text
    return number


@pytest.fixture
def agent_ticket(client: TestClient, as_role, book) -> str:  # type: ignore[no-untyped-def]
    """A ticket of the book's borrower (phone 13912345678) that the agent owns."""
    return open_ticket(client, as_role, "13912345678", "agent")


@pytest.fixture
def collector_ticket(client: TestClient, as_role, book) -> str:  # type: ignore[no-untyped-def]
    """A ticket of the book's borrower that the collector owns."""
    return open_ticket(client, as_role, "13912345678", "collector")
