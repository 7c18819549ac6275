"""Who may take a ticket and who may complete a follow-up: the owner, or a team lead (admins too)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core.models import AuditEntry
from lenddesk.desk.models import FollowUp, Ticket
from tests.conftest import carry_csrf
from tests.desk.conftest import user_id


def url(number: str, tail: str) -> str:
    return f"/api/v1/desk/tickets/{number}/{tail}"


def owner_of(session: Session, number: str) -> int | None:
    session.expire_all()
    return session.scalar(select(Ticket.owner_id).where(Ticket.number == number))


@pytest.fixture
def collectors_ticket(inbound, client: TestClient, as_role, session: Session, desk_data) -> str:
    """A ticket the team lead gave to the collector (a colleague of the agent)."""
    number = inbound("你好").json()["ticket_number"]
    given = client.post(
        url(number, "assign"), json={"owner_id": user_id(session, "collector")}, headers=as_role("team_lead")
    )
    assert given.status_code == 200, given.text
    return number


def test_an_agent_cannot_take_a_colleagues_ticket_through_assign(
    client: TestClient, as_role, session: Session, collectors_ticket: str
) -> None:
    agent_id = user_id(session, "agent")
    taken = client.post(
        url(collectors_ticket, "assign"), json={"owner_id": agent_id}, headers=as_role("agent")
    )
    assert taken.status_code == 409 and taken.json()["code"] == "ticket_owned"
    moved = client.post(
        url(collectors_ticket, "assign"), json={"team": "repayment"}, headers=as_role("agent")
    )
    assert moved.status_code == 409 and moved.json()["code"] == "ticket_owned"
    assert owner_of(session, collectors_ticket) == user_id(session, "collector")


def test_an_agent_may_take_an_unowned_ticket_or_move_their_own_but_not_hand_it_to_someone(
    inbound, client: TestClient, as_role, session: Session, desk_data
) -> None:
    agent, agent_id = as_role("agent"), user_id(session, "agent")
    number = inbound("你好").json()["ticket_number"]
    assert owner_of(session, number) == agent_id  # routed to the online agent
    to_colleague = client.post(
        url(number, "assign"), json={"owner_id": user_id(session, "collector")}, headers=agent
    )
    assert to_colleague.status_code == 403 and to_colleague.json()["code"] == "assign_needs_lead"
    transferred = client.post(url(number, "assign"), json={"team": "repayment"}, headers=agent)
    assert transferred.status_code == 200 and transferred.json()["owner_id"] is None
    taken_back = client.post(url(number, "assign"), json={"owner_id": agent_id}, headers=agent)
    assert taken_back.status_code == 200 and taken_back.json()["owner_id"] == agent_id


def test_a_team_lead_assigns_anyones_ticket(
    client: TestClient, as_role, session: Session, collectors_ticket: str
) -> None:
    agent_id = user_id(session, "agent")
    moved = client.post(
        url(collectors_ticket, "assign"), json={"owner_id": agent_id}, headers=as_role("team_lead")
    )
    assert moved.status_code == 200 and moved.json()["owner_id"] == agent_id
    entry = session.scalar(
        select(AuditEntry).where(AuditEntry.action == "ticket.assign").order_by(AuditEntry.id.desc())
    )
    assert entry is not None and entry.after["owner_id"] == agent_id


def test_the_console_assign_follows_the_same_rule(
    client: TestClient, session: Session, collectors_ticket: str
) -> None:
    client.post("/login", data={"username": "agent", "password": "correct-horse-1"})
    page = carry_csrf(client).post(
        f"/desk/tickets/{collectors_ticket}/assign", data={"owner_id": str(user_id(session, "agent"))}
    )
    assert page.status_code == 409 and "已有负责人" in page.text
    assert owner_of(session, collectors_ticket) == user_id(session, "collector")


def test_follow_ups_are_completed_by_their_owner_or_a_lead(
    inbound, client: TestClient, as_role, session: Session, desk_data
) -> None:
    number = inbound("你好").json()["ticket_number"]
    created = [
        client.post(
            url(number, "follow-ups"),
            json={
                "due_at": "2026-11-24T16:00:00",
                "note": f"回电 {n}",
                "owner_id": user_id(session, "collector"),
            },
            headers=as_role("agent"),
        ).json()["id"]
        for n in range(2)
    ]
    by_colleague = client.post(f"/api/v1/desk/follow-ups/{created[0]}/done", headers=as_role("agent"))
    assert by_colleague.status_code == 403 and by_colleague.json()["code"] == "follow_up_not_yours"
    by_owner = client.post(f"/api/v1/desk/follow-ups/{created[0]}/done", headers=as_role("collector"))
    assert by_owner.status_code == 200 and by_owner.json()["done"] is True
    by_lead = client.post(f"/api/v1/desk/follow-ups/{created[1]}/done", headers=as_role("team_lead"))
    assert by_lead.status_code == 200
    session.expire_all()
    assert all(f.done for f in session.scalars(select(FollowUp)))


def test_reopening_an_old_ticket_while_the_sender_has_an_open_one_is_refused(
    inbound, client: TestClient, as_role, clock, session: Session, desk_data
) -> None:
    from datetime import timedelta

    agent = as_role("agent")
    old = inbound("你好", sender="13900004444").json()["ticket_number"]
    client.post(url(old, "status"), json={"status": "closed"}, headers=agent)
    clock.now = clock.now + timedelta(days=30)  # past reopen_days: the next message opens a new ticket
    new = inbound("又有问题", sender="13900004444").json()
    assert new["created"] is True and new["ticket_number"] != old
    refused = client.post(url(old, "status"), json={"status": "open"}, headers=agent)
    assert refused.status_code == 409 and refused.json()["code"] == "sender_has_open_ticket"
    assert refused.json()["details"] == {"ticket_number": new["ticket_number"]}
    client.post(url(new["ticket_number"], "status"), json={"status": "closed"}, headers=agent)
    assert client.post(url(old, "status"), json={"status": "open"}, headers=agent).status_code == 200
