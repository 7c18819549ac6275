"""Staff access to a borrower: agents and collectors only through a ticket of theirs; every opening
audited (API and console, 360 and loan); e-mail and employer masked by role."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core import audit, auth
from lenddesk.core.models import AuditEntry
from tests.conftest import PASSWORD
from tests.ledger.conftest import open_ticket
from tests.ledger.factories import id_number

REFUSAL_ZH = "只能通过您负责的工单查看该借款人"
REFUSAL_EN = "You may open this borrower only through a ticket of yours"


def openings(session: Session, borrower_id: int) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    session.expire_all()
    rows = session.execute(
        select(AuditEntry.actor_name, AuditEntry.after)
        .where(
            AuditEntry.action == "borrower.open",
            AuditEntry.entity_type == "borrower",
            AuditEntry.entity_id == str(borrower_id),
        )
        .order_by(AuditEntry.id)
    ).all()
    return [(name, after) for name, after in rows]


def pages(book: dict) -> dict[str, str]:  # type: ignore[type-arg]
    contract = book["contract"]
    return {
        "api-360": f"/api/v1/ledger/borrowers/{book['borrower_id']}",
        "api-loan": f"/api/v1/ledger/loans/{contract}",
        "api-quote": f"/api/v1/ledger/loans/{contract}/settlement-quote",
        "console-360": f"/borrowers/{book['borrower_id']}",
        "console-loan": f"/loans/{contract}",
    }


@pytest.mark.parametrize("role", ["agent", "collector"])
def test_without_a_ticket_of_theirs_agents_and_collectors_are_refused(
    client: TestClient, as_role, book, session: Session, role: str
) -> None:  # type: ignore[no-untyped-def]
    for name, path in pages(book).items():
        response = client.get(path, headers=as_role(role))
        assert response.status_code == 403, (name, response.text)
        if name.startswith("api"):
            body = response.json()
            assert body == {
                "code": "no_case_for_borrower",
                "message_zh": REFUSAL_ZH,
                "message_en": REFUSAL_EN,
            }
        else:
            assert REFUSAL_ZH in response.text and "13912345678" not in response.text
    assert openings(session, book["borrower_id"]) == []


def test_with_their_ticket_an_agent_opens_every_page_and_each_opening_is_audited(
    client: TestClient, as_role, book, session: Session, agent_ticket: str
) -> None:  # type: ignore[no-untyped-def]
    agent = as_role("agent")
    for name, path in pages(book).items():
        response = client.get(path, headers=agent)
        assert response.status_code == 200, (name, response.text)
    named = client.get(pages(book)["console-360"], params={"ticket": agent_ticket}, headers=agent)
    assert named.status_code == 200 and agent_ticket in named.text
    rows = openings(session, book["borrower_id"])
    assert [name for name, _ in rows] == ["agent"] * 6
    assert {(after["surface"], after["page"]) for _, after in rows} == {
        ("api", "360"),
        ("api", "loan"),
        ("api", "quote"),
        ("console", "360"),
        ("console", "loan"),
    }
    assert all(after["via"] == "ticket" and after["case"] == agent_ticket for _, after in rows)
    assert rows[1][1]["contract_number"] == book["contract"]


def test_a_ticket_of_someone_else_or_another_borrower_grants_nothing(
    client: TestClient, as_role, book, session: Session
) -> None:  # type: ignore[no-untyped-def]
    auth.create_user(
        session, actor=audit.Actor.system("test"), username="agent2", password=PASSWORD, role="agent"
    )
    session.commit()
    theirs = open_ticket(client, as_role, "13912345678", "agent2")
    other_borrower = open_ticket(client, as_role, "13700001111", "agent")  # a stranger's phone
    path = pages(book)["api-360"]
    assert client.get(path, headers=as_role("agent")).status_code == 403
    assert client.get(path, params={"ticket": theirs}, headers=as_role("agent")).status_code == 403
    assert client.get(path, params={"ticket": other_borrower}, headers=as_role("agent")).status_code == 403
    assert client.get(path, params={"ticket": theirs}, headers=as_role("agent2")).status_code == 200
    assert [name for name, _ in openings(session, book["borrower_id"])] == ["agent2"]


def test_hostile_ticket_references_are_refused_cleanly(
    client: TestClient, as_role, book, agent_ticket: str
) -> None:  # type: ignore[no-untyped-def]
    path = pages(book)["api-360"]
    for bad in (
        "%ED%A0%80",
        "%EF%BC%B4%EF%BC%92",
        "x" * 40,
        "T1%27%20OR%20%271%27%3D%271",
    ):  # a lone surrogate in UTF-8, full-width
        response = client.get(f"{path}?ticket={bad}", headers=as_role("agent"))
        assert response.status_code == 422, (bad, response.text)
        assert set(response.json()) >= {"code", "message_zh", "message_en"}
    assert (
        client.get("/api/v1/ledger/borrowers/" + str(2**64), headers=as_role("team_lead")).status_code == 422
    )
    console = client.get(pages(book)["console-360"] + "?ticket=%ED%A0%80", headers=as_role("agent"))
    assert console.status_code == 200  # a malformed ticket is ignored; the agent's own ticket still counts


@pytest.mark.parametrize("role", ["team_lead", "qa", "compliance", "admin"])
def test_team_leads_and_up_open_every_borrower_and_are_audited(
    client: TestClient, as_role, book, session: Session, role: str
) -> None:  # type: ignore[no-untyped-def]
    for path in pages(book).values():
        if "quote" in path and role == "qa":
            continue  # qa reads but does not quote
        assert client.get(path, headers=as_role(role)).status_code == 200, path
    rows = openings(session, book["borrower_id"])
    assert rows and all(name == role and "case" not in after for name, after in rows)


@pytest.fixture
def profiled(client: TestClient, as_role) -> dict:  # type: ignore[type-arg]
    borrower = client.post(
        "/api/v1/ledger/borrowers",
        json={
            "name": "王芳",
            "id_number": id_number(654),
            "mobile": "13698765432",
            "email": "Wang.Fang@Example.com",
            "employer": "杭州某某网络科技有限公司",
            "address": "浙江省杭州市西湖区文三路 1 号",
        },
        headers=as_role("admin"),
    )
    assert borrower.status_code == 201, borrower.text
    return {"id": borrower.json()["id"], "ticket": open_ticket(client, as_role, "13698765432", "agent")}


@pytest.mark.parametrize(
    ("role", "email", "employer"),
    [
        ("agent", "wang.fang@example.com", "杭州****"),
        ("team_lead", "wang.fang@example.com", "杭州****"),
        ("qa", "w***@example.com", "杭州****"),
        ("compliance", "wang.fang@example.com", "杭州某某网络科技有限公司"),
    ],
)
def test_email_and_employer_are_masked_for_roles_that_do_not_need_them(
    client: TestClient, as_role, profiled: dict, role: str, email: str, employer: str
) -> None:  # type: ignore[no-untyped-def,type-arg]
    view = client.get(f"/api/v1/ledger/borrowers/{profiled['id']}", headers=as_role(role)).json()
    assert (view["email"], view["employer"]) == (email, employer)
    page = client.get(f"/borrowers/{profiled['id']}", headers=as_role(role)).text
    assert email in page and employer in page
    if employer != "杭州某某网络科技有限公司":
        assert "杭州某某网络科技有限公司" not in page
