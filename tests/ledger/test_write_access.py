"""One access rule for reads and writes (issue 17, finding 1): every state-changing ledger route, API
and console, lets an agent or a collector write only through a case of theirs — the same grant that
opens the loan (`?ticket=` / the form's `ticket`, their own ticket linked to the borrower, a
collector's worklist) — and records the write with that case. Team leads and up need none.

The matrix: every ledger write route × every role the role matrix lets call it × without and with a
grant. The routes come from the app, so a new ledger write route fails here until it is listed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.models import AuditEntry, User
from lenddesk.ledger import service
from lenddesk.ledger.models import Repayment
from tests.core.test_role_matrix import state_changing_routes
from tests.ledger.conftest import TODAY, open_ticket
from tests.support import role_matrix

REFUSAL_ZH = "只能通过您负责的工单查看该借款人"
BORROWER_MOBILE, BORROWER_NAME = "13912345678", "陈静"
SOMEONE = audit.Actor(user_id=None, name="someone", role="agent")  # asks what approvers decide on
ADMIN_ONLY = {
    "POST /api/v1/ledger/borrowers",
    "POST /api/v1/ledger/borrowers/{borrower_id}/contacts",
    "POST /api/v1/ledger/products",
    "POST /api/v1/ledger/loans",
    "POST /api/v1/ledger/repayment-batches",  # a bank's file: an admin or a channel key, never a case
}
_serial = count(1)


@dataclass
class Book:
    session: Session
    contract: str
    borrower_id: int

    def repayment(self, *, reversal_requested: bool = False) -> int:
        result = service.post_repayment(
            self.session,
            actor=audit.Actor(user_id=None, name="team_lead", role="team_lead"),
            contract_number=self.contract,
            channel="alipay",
            external_reference=f"MX-{next(_serial)}",
            amount_fen=100,
            value_date=TODAY,
            today=TODAY,
        )
        if reversal_requested:
            service.request_reversal(
                self.session, actor=SOMEONE, repayment_id=result.repayment.id, reason="重复入账"
            )
        self.session.commit()
        return result.repayment.id

    def refund(self) -> int:
        refund, _ = service.request_refund(
            self.session,
            actor=SOMEONE,
            contract_number=self.contract,
            amount_fen=100,
            reference=f"MX-{next(_serial)}",
            reason="多还",
        )
        self.session.commit()
        return refund.id

    def waiver(self) -> int:
        waiver = service.request_waiver(
            self.session,
            actor=SOMEONE,
            contract_number=self.contract,
            component="interest",
            amount_fen=10_001,  # past the single-person limit: held for an approver
            reason="协商",
            today=TODAY,
        )
        self.session.commit()
        return waiver.id


Call = tuple[str, dict[str, Any]]  # url (with any ?ticket=), request keywords
CALLS: dict[str, Callable[[Book, str], Call]] = {
    "POST /api/v1/ledger/repayments": lambda b, q: (
        f"/api/v1/ledger/repayments{q}",
        {"json": {"contract_number": b.contract, "channel": "alipay",
                  "external_reference": f"MX-{next(_serial)}", "amount": "1.00",
                  "value_date": TODAY.isoformat()}},
    ),
    "POST /api/v1/ledger/repayments/{repayment_id}/reversal": lambda b, q: (
        f"/api/v1/ledger/repayments/{b.repayment()}/reversal{q}", {"json": {"reason": "重复入账"}},
    ),
    "POST /api/v1/ledger/repayments/{repayment_id}/reversal/approve": lambda b, q: (
        f"/api/v1/ledger/repayments/{b.repayment(reversal_requested=True)}/reversal/approve{q}", {},
    ),
    "POST /api/v1/ledger/repayments/{repayment_id}/reversal/reject": lambda b, q: (
        f"/api/v1/ledger/repayments/{b.repayment(reversal_requested=True)}/reversal/reject{q}",
        {"json": {"note": "不冲正"}},
    ),
    "POST /api/v1/ledger/recoveries": lambda b, q: (
        f"/api/v1/ledger/recoveries{q}",
        {"json": {"contract_number": b.contract, "channel": "bank_transfer",
                  "external_reference": f"MX-{next(_serial)}", "amount": "1.00",
                  "value_date": TODAY.isoformat()}},
    ),
    "POST /api/v1/ledger/loans/{contract_number}/refunds": lambda b, q: (
        f"/api/v1/ledger/loans/{b.contract}/refunds{q}",
        {"json": {"amount": "1.00", "reference": f"MX-{next(_serial)}", "reason": "多还"}},
    ),
    "POST /api/v1/ledger/refunds/{refund_id}/approve": lambda b, q: (
        f"/api/v1/ledger/refunds/{b.refund()}/approve{q}", {},
    ),
    "POST /api/v1/ledger/refunds/{refund_id}/reject": lambda b, q: (
        f"/api/v1/ledger/refunds/{b.refund()}/reject{q}", {"json": {"note": "不退"}},
    ),
    "POST /api/v1/ledger/loans/{contract_number}/waivers": lambda b, q: (
        f"/api/v1/ledger/loans/{b.contract}/waivers{q}",
        {"json": {"component": "interest", "amount": "1.00", "reason": "协商"}},
    ),
    "POST /api/v1/ledger/waivers/{waiver_id}/approve": lambda b, q: (
        f"/api/v1/ledger/waivers/{b.waiver()}/approve{q}", {},
    ),
    "POST /api/v1/ledger/waivers/{waiver_id}/reject": lambda b, q: (
        f"/api/v1/ledger/waivers/{b.waiver()}/reject{q}", {"json": {"note": "不减"}},
    ),
    "POST /loans/{contract_number}/recoveries": lambda b, t: (
        f"/loans/{b.contract}/recoveries",
        {"data": {"channel": "bank_transfer", "external_reference": f"MX-{next(_serial)}",
                  "amount": "1.00", "ticket": t}},
    ),
    "POST /loans/{contract_number}/refunds": lambda b, t: (
        f"/loans/{b.contract}/refunds",
        {"data": {"amount": "1.00", "reference": f"MX-{next(_serial)}", "reason": "多还", "ticket": t}},
    ),
    "POST /loans/{contract_number}/refunds/{refund_id}/{decision}": lambda b, t: (
        f"/loans/{b.contract}/refunds/{b.refund()}/reject", {"data": {"note": "不退", "ticket": t}},
    ),
    "POST /loans/{contract_number}/waivers": lambda b, t: (
        f"/loans/{b.contract}/waivers",
        {"data": {"component": "interest", "amount": "1.00", "reason": "协商", "ticket": t}},
    ),
    "POST /loans/{contract_number}/waivers/{waiver_id}/{decision}": lambda b, t: (
        f"/loans/{b.contract}/waivers/{b.waiver()}/reject", {"data": {"note": "不减", "ticket": t}},
    ),
}  # fmt: skip


def ledger_write_routes(app: FastAPI) -> set[str]:
    return {
        key
        for key in state_changing_routes(app)
        if key.split(" ", 1)[1].startswith(("/api/v1/ledger/", "/loans/")) and key not in ADMIN_ONLY
    }


def test_every_ledger_write_route_is_in_the_access_matrix(app: FastAPI) -> None:
    assert ledger_write_routes(app) == set(CALLS), (
        "list each new ledger write route in CALLS (and gate it with service.open_loan_for_write)"
    )


def writes_recorded(session: Session, borrower_id: int) -> list[dict[str, Any]]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEntry.after).where(
                AuditEntry.action == "borrower.write", AuditEntry.entity_id == str(borrower_id)
            )
        )
    )


def _refused_for_want_of_a_case(response, console: bool) -> bool:  # type: ignore[no-untyped-def]
    if response.status_code != 403:
        return False
    if console:
        return REFUSAL_ZH in response.text
    return response.json()["code"] == "no_case_for_borrower"


def _request(client: TestClient, headers: dict[str, str], route: str, book: Book, ticket: str | None):  # type: ignore[no-untyped-def]
    console = not route.split(" ", 1)[1].startswith("/api/")
    where = ticket or "" if console else (f"?ticket={ticket}" if ticket else "")
    url, keywords = CALLS[route](book, where)
    return client.post(url, headers=headers, follow_redirects=False, **keywords), console


def given_ticket(client: TestClient, as_role, session: Session, role: str, ticket: str | None) -> str:  # type: ignore[no-untyped-def]
    """The borrower's ticket, now owned by `role` (one ticket per borrower: it is handed over)."""
    if ticket is None:
        return open_ticket(client, as_role, BORROWER_MOBILE, role)
    owner_id = session.scalar(select(User.id).where(User.username == role))
    handed = client.post(
        f"/api/v1/desk/tickets/{ticket}/assign", json={"owner_id": owner_id}, headers=as_role("team_lead")
    )
    assert handed.status_code == 200, handed.text
    return ticket


@pytest.mark.parametrize("route", sorted(CALLS))
def test_a_ledger_write_needs_the_same_grant_as_a_read(
    client: TestClient, as_role, book, session: Session, route: str
) -> None:  # type: ignore[no-untyped-def]
    ledger = Book(session, book["contract"], book["borrower_id"])
    if "refund" in route:  # a credit balance to ask a refund of (it pays the interest due too)
        service.post_repayment(
            session,
            actor=audit.Actor(user_id=None, name="team_lead", role="team_lead"),
            contract_number=ledger.contract,
            channel="alipay",
            external_reference="MX-CREDIT",
            amount_fen=1_500_000,
            value_date=TODAY,
            today=TODAY,
        )
        session.commit()
    allowed = sorted(role_matrix.MATRIX[route].roles)
    wrong = []
    for role in allowed:  # without a case of theirs
        response, console = _request(client, as_role(role), route, ledger, None)
        case_bound = role in ("agent", "collector")
        if response.status_code >= 500 or _refused_for_want_of_a_case(response, console) != case_bound:
            wrong.append(f"{role} without a grant: {response.status_code} {response.text[:200]}")
        if case_bound and (BORROWER_MOBILE in response.text or BORROWER_NAME in response.text):
            wrong.append(f"{role} without a grant was shown the borrower")
    assert writes_recorded(session, ledger.borrower_id) == [
        after for after in writes_recorded(session, ledger.borrower_id) if "case" not in after
    ]
    ticket = None
    for role in [r for r in allowed if r in ("agent", "collector")]:  # with a ticket of theirs, named
        ticket = given_ticket(client, as_role, session, role, ticket)
        before = len(writes_recorded(session, ledger.borrower_id))
        response, console = _request(client, as_role(role), route, ledger, ticket)
        if response.status_code >= 500 or _refused_for_want_of_a_case(response, console):
            wrong.append(f"{role} with ticket {ticket}: {response.status_code} {response.text[:200]}")
        elif response.status_code in (200, 201, 303):
            recorded = writes_recorded(session, ledger.borrower_id)[before:]
            if [(w["via"], w["case"], w["surface"]) for w in recorded] != [
                ("ticket", ticket, "console" if console else "api")
            ]:
                wrong.append(f"{role} with ticket {ticket}: recorded {recorded}")
    assert not wrong, "\n".join(wrong)


def test_the_repayment_route_refuses_a_caller_before_it_reads_or_writes_the_book(
    client: TestClient, as_role, book, session: Session
) -> None:  # type: ignore[no-untyped-def]
    """POST /api/v1/ledger/repayments checks the token on the event loop, before the body is read
    (401, or 403 for the role it was signed in with), and the account behind it first thing on the
    posting's own session (401 or 403), before the loan is read or anything written: a refused
    caller with a well-formed repayment leaves the book as it was (`auth.allow_for_own_transaction`)."""
    serial = iter(range(1000))

    def answer(headers: dict[str, str], body: dict[str, Any] | None = None) -> tuple[int, str]:
        body = body or {
            "contract_number": book["contract"],
            "channel": "alipay",
            "external_reference": f"RF-{next(serial)}",
            "amount": "1.00",
            "value_date": TODAY.isoformat(),
        }
        response = client.post("/api/v1/ledger/repayments", json=body, headers=headers)
        return response.status_code, response.json().get("code", "")

    not_a_repayment = {"contract_number": 1}
    assert answer({}, not_a_repayment) == (401, "not_signed_in")
    assert answer({"Authorization": "Bearer not-a-token"}, not_a_repayment) == (401, "token_invalid")
    assert answer(as_role("qa"), not_a_repayment) == (403, "role_forbidden")  # the token's role
    admin = as_role("admin")
    collector = as_role("collector")
    collector_id = client.get("/api/v1/me", headers=collector).json()["id"]
    user_url = f"/api/v1/users/{collector_id}"
    assert client.patch(user_url, json={"role": "qa"}, headers=admin).status_code == 200
    assert answer(collector) == (403, "role_forbidden")  # the role as stored now, not as in the token
    assert client.patch(user_url, json={"active": False}, headers=admin).status_code == 200
    assert answer(collector)[0] == 401  # a disabled account
    lead = as_role("team_lead")
    assert client.post("/api/v1/auth/logout", headers=lead).status_code in (200, 204)
    assert answer(lead) == (401, "token_revoked")
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Repayment)) == 0
    assert answer(admin)[0] == 201  # and a caller who may post, posts
