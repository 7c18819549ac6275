"""Working a ticket: queues, replies and delivery, status and SLA pause, categorise, assign, consult,
follow-ups, the SLA job and the team-lead board."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.channels.delivery_log import log_adapters
from lenddesk.core.models import AuditEntry
from lenddesk.desk import jobs
from lenddesk.desk.models import Notification, OutboxMessage, Ticket
from tests.desk.conftest import NOW, user_id
from tests.support.delivery import deliver_outbox


def url(number: str, tail: str = "") -> str:
    return f"/api/v1/desk/tickets/{number}" + (f"/{tail}" if tail else "")


def detail(client: TestClient, headers, number: str) -> dict:
    response = client.get(url(number), headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_unknown_ticket_is_a_clear_404(client: TestClient, as_role) -> None:
    response = client.get(url("T20261124-999999"), headers=as_role("agent"))
    assert response.status_code == 404
    assert response.json()["code"] == "ticket_not_found"
    assert "工单不存在" in response.json()["message_zh"]


def test_queue_views_filters_and_search(
    inbound, client: TestClient, as_role, session: Session, desk_data
) -> None:
    agent = as_role("agent")
    mine = inbound("请问怎么还款", sender="13900000001").json()["ticket_number"]
    fraud = inbound("有人冒用我的身份借款", sender="13900000002").json()["ticket_number"]
    hardship = inbound("失业了还不起，想协商分期", sender="13900000003").json()["ticket_number"]

    def numbers(**params) -> list[str]:
        response = client.get("/api/v1/desk/tickets", params=params, headers=agent)
        assert response.status_code == 200, response.text
        return [row["number"] for row in response.json()["items"]]

    assert set(numbers()) == {mine, fraud, hardship}
    assert numbers(view="mine") == [mine]
    assert numbers(severity="P1") == [fraud]
    assert numbers(category="hardship") == [hardship]
    assert numbers(q=mine) == [mine]
    assert numbers(q="13900000003") == [hardship]
    assert numbers(q="冒用") == [fraud]
    assert numbers(view="breached") == []
    # The repayment team has nobody online: the hardship ticket waits in its queue.
    assert session.scalar(select(Ticket.owner_id).where(Ticket.number == hardship)) is None
    assert numbers(status="new", channel="sms") == []
    bad = client.get("/api/v1/desk/tickets", params={"view": "everything"}, headers=agent)
    assert bad.status_code == 422


def test_search_by_phone_finds_its_tickets_and_those_of_the_borrower_registered_with_it(
    inbound, client: TestClient, as_role, desk_data, borrower
) -> None:
    agent = as_role("agent")
    by_mail = inbound("你好", sender=borrower.email, channel="email").json()["ticket_number"]
    by_sms = inbound("你好", sender=borrower.mobile, channel="sms").json()["ticket_number"]
    inbound("你好", sender="13700000000")

    def found(**params) -> set[str]:
        response = client.get("/api/v1/desk/tickets", params=params, headers=agent)
        assert response.status_code == 200, response.text
        return {row["number"] for row in response.json()["items"]}

    assert found(q="138 1234 5678") == {by_mail, by_sms}
    client.post(url(by_sms, "status"), json={"status": "resolved"}, headers=agent)
    assert found(q=borrower.mobile) == {by_mail}
    assert found(q=borrower.mobile, status="resolved") == {by_sms}
    assert found(q="13600000000") == set()


def test_due_soon_lists_tickets_due_within_the_window_skipping_breached_and_paused(
    inbound, client: TestClient, as_role, session: Session, desk_data, clock
) -> None:
    """P4 tickets in office hours: first response due 60 service minutes after they arrive."""
    agent = as_role("agent")

    def arrives(minutes_from_now: int, sender: str) -> str:
        clock.now = NOW + timedelta(minutes=minutes_from_now)
        return inbound("你好", sender=sender).json()["ticket_number"]

    breached = arrives(-55, "13900005501")  # due 10:05 Shanghai
    at_risk = arrives(-45, "13900005506")  # due 10:15, at risk from 10:03
    due_next = arrives(-30, "13900005502")  # due 10:30
    paused = arrives(-20, "13900005503")
    client.post(url(paused, "status"), json={"status": "pending_customer"}, headers=agent)
    due_second = arrives(0, "13900005504")  # due 11:00
    arrives(10, "13900005505")  # due 11:10: outside the window at 10:06
    clock.now = NOW + timedelta(minutes=6)
    jobs.sla_check(session, now=clock.now)
    session.commit()
    assert session.scalar(select(Ticket.sla_state).where(Ticket.number == at_risk)) == "at_risk"

    def numbers(view: str) -> list[str]:
        response = client.get("/api/v1/desk/tickets", params={"view": view}, headers=agent)
        assert response.status_code == 200, response.text
        return [row["number"] for row in response.json()["items"]]

    assert numbers("due_soon") == [at_risk, due_next, due_second]
    assert numbers("breached") == [breached]


def test_queue_pages_follow_the_cursor(inbound, client: TestClient, as_role, desk_data) -> None:
    created = {inbound("你好", sender=f"1390000{i:04d}").json()["ticket_number"] for i in range(5)}
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"after": cursor} if cursor else {})
        page = client.get("/api/v1/desk/tickets", params=params, headers=as_role("agent")).json()
        seen += [row["number"] for row in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and set(seen) == created


def test_reply_goes_through_the_outbox_and_delivery_shows_on_the_timeline(
    inbound, client: TestClient, as_role, session: Session, desk_data, tmp_path: Path
) -> None:
    agent = as_role("agent")
    number = inbound("你好，请问怎么还款", sender="visitor-1").json()["ticket_number"]
    sent = client.post(url(number, "reply"), json={"macro": "greeting"}, headers=agent)
    assert sent.status_code == 200
    assert sent.json()["delivery"] == "queued"
    assert sent.json()["text"] == f"您好，我是agent，工单 {number} 已收到。"
    ticket = detail(client, agent, number)
    assert ticket["status"] == "open" and ticket["sla"]["first_response_at"] is not None
    outcome = deliver_outbox(session, adapters=log_adapters(tmp_path), now=NOW)
    assert {kind: outcome[kind] for kind in ("delivered", "failed")} == {"delivered": 1, "failed": 0}
    logged = [json.loads(line) for line in (tmp_path / "delivery-chat.jsonl").read_text().splitlines()]
    assert logged[0]["recipient"] == "visitor-1" and number in logged[0]["body"]
    timeline = detail(client, agent, number)["timeline"]
    kinds = [e["kind"] for e in timeline]
    assert kinds.index("outbound") < kinds.index("delivery") == len(kinds) - 1
    assert timeline[-1]["data"]["delivery"] == "delivered"
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "ticket.reply")) is not None


def test_empty_reply_and_bad_transition_are_refused(inbound, client: TestClient, as_role, desk_data) -> None:
    agent = as_role("agent")
    number = inbound("你好").json()["ticket_number"]
    empty = client.post(url(number, "reply"), json={"text": "  "}, headers=agent)
    assert empty.status_code == 422 and empty.json()["code"] == "empty_text"
    client.post(url(number, "status"), json={"status": "closed"}, headers=agent)
    bad = client.post(url(number, "status"), json={"status": "pending_customer"}, headers=agent)
    assert bad.status_code == 409 and bad.json()["code"] == "status_transition"


def test_waiting_for_the_customer_pauses_the_sla_clock(
    inbound, client: TestClient, as_role, clock, desk_data
) -> None:
    agent = as_role("agent")
    number = inbound("你好", sender="13900004444").json()["ticket_number"]
    client.post(url(number, "reply"), json={"text": "请提供更多信息"}, headers=agent)
    before = detail(client, agent, number)["sla"]["resolution_due"]
    client.post(url(number, "status"), json={"status": "pending_customer"}, headers=agent)
    clock.now = NOW + timedelta(hours=3)
    inbound("补充材料如下", sender="13900004444")
    after = detail(client, agent, number)
    assert after["status"] == "open"
    assert after["sla"]["paused_minutes"] == 180
    assert after["sla"]["resolution_due"] > before


def test_categorise_confirms_and_moves_the_sla_targets(
    inbound, client: TestClient, as_role, session: Session, desk_data
) -> None:
    agent = as_role("agent")
    number = inbound("你好").json()["ticket_number"]
    before = detail(client, agent, number)["sla"]["due_at"]
    changed = client.post(
        url(number, "categorise"), json={"category": "fraud", "severity": "P1"}, headers=agent
    )
    assert changed.status_code == 200
    ticket = detail(client, agent, number)
    assert ticket["category_confirmed"] is True and ticket["severity"] == "P1"
    assert ticket["sla"]["due_at"] < before  # P1 falls back to the policy default of 15 minutes
    bad = client.post(
        url(number, "categorise"), json={"category": "weather", "severity": "P1"}, headers=agent
    )
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_category"
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "ticket.categorise"))
    assert entry is not None and entry.before["category"] == "other" and entry.after["category"] == "fraud"


def test_assign_transfer_and_claim(inbound, client: TestClient, as_role, session: Session, desk_data) -> None:
    agent, lead = as_role("agent"), as_role("team_lead")
    number = inbound("你好").json()["ticket_number"]
    transferred = client.post(url(number, "assign"), json={"team": "repayment"}, headers=agent).json()
    assert transferred["team_id"] == desk_data["repayment"] and transferred["owner_id"] is None
    claimed = client.post(url(number, "claim"), headers=lead).json()
    assert claimed["owner_id"] == user_id(session, "team_lead")
    taken = client.post(url(number, "claim"), headers=agent)
    assert taken.status_code == 409 and taken.json()["code"] == "ticket_owned"
    moved = client.post(
        url(number, "assign"), json={"owner_id": user_id(session, "agent")}, headers=lead
    ).json()
    assert moved["owner_id"] == user_id(session, "agent")
    qa = client.post(url(number, "assign"), json={"owner_id": user_id(session, "qa")}, headers=lead)
    assert qa.status_code == 422 and qa.json()["code"] == "bad_assignee"
    actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == number)))
    assert {"ticket.assign", "ticket.claim"} <= actions


def test_routing_prefers_the_least_loaded_agent_round_robin_on_ties(
    inbound, client: TestClient, as_role, session: Session, desk_data
) -> None:
    lead_id = user_id(session, "team_lead")
    client.put(
        f"/api/v1/desk/agents/{lead_id}/status",
        json={"status": "online", "team": "general"},
        headers=as_role("team_lead"),
    )
    owners = [
        session.scalar(
            select(Ticket.owner_id).where(
                Ticket.number == inbound("你好", sender=f"1390000{i:04d}").json()["ticket_number"]
            )
        )
        for i in range(4)
    ]
    agent_id = user_id(session, "agent")
    assert sorted(owners) == sorted([agent_id, agent_id, lead_id, lead_id])
    assert owners[0] != owners[1]


def test_agents_change_only_their_own_status(
    client: TestClient, as_role, session: Session, desk_data
) -> None:
    lead_id = user_id(session, "team_lead")
    refused = client.put(
        f"/api/v1/desk/agents/{lead_id}/status", json={"status": "away"}, headers=as_role("agent")
    )
    assert refused.status_code == 403
    agent_id = user_id(session, "agent")
    own = client.put(
        f"/api/v1/desk/agents/{agent_id}/status",
        json={"status": "away", "capacity": 3},
        headers=as_role("agent"),
    )
    assert own.status_code == 200 and own.json()["status"] == "away" and own.json()["capacity"] == 3
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "agent.status")) is not None


def test_consult_waits_for_the_department(inbound, client: TestClient, as_role, desk_data) -> None:
    agent = as_role("agent")
    number = inbound("你好").json()["ticket_number"]
    consult = client.post(
        url(number, "consults"), json={"department": "legal", "question": "能否减免罚息？"}, headers=agent
    )
    assert consult.status_code == 201
    # Asked Tuesday 10:00 Shanghai: 480 service minutes of a 09:00–18:00 day later is 18:00 (10:00 UTC).
    assert consult.json()["due_at"] == "2026-11-24T10:00:00Z"
    assert detail(client, agent, number)["status"] == "pending_internal"
    answer = client.post(
        f"/api/v1/desk/consults/{consult.json()['id']}/answer",
        json={"answer": "可以减免"},
        headers=as_role("compliance"),
    )
    assert answer.status_code == 200
    assert detail(client, agent, number)["status"] == "open"
    bad = client.post(url(number, "consults"), json={"department": "hr", "question": "?"}, headers=agent)
    assert bad.status_code == 422


def test_follow_ups_due_today(inbound, client: TestClient, as_role, clock, desk_data) -> None:
    agent = as_role("agent")
    number = inbound("你好").json()["ticket_number"]
    today = client.post(
        url(number, "follow-ups"), json={"due_at": "2026-11-24T16:00:00", "note": "回电确认"}, headers=agent
    ).json()
    client.post(
        url(number, "follow-ups"), json={"due_at": "2026-11-26T10:00:00", "note": "再次回访"}, headers=agent
    )
    due = client.get("/api/v1/desk/follow-ups/due-today", headers=agent).json()
    assert [row["id"] for row in due] == [today["id"]] and due[0]["ticket_number"] == number
    client.post(f"/api/v1/desk/follow-ups/{today['id']}/done", headers=agent)
    assert client.get("/api/v1/desk/follow-ups/due-today", headers=agent).json() == []


def test_notes_are_on_the_timeline_and_audited(
    inbound, client: TestClient, as_role, session: Session, desk_data
) -> None:
    number = inbound("你好").json()["ticket_number"]
    assert (
        client.post(url(number, "notes"), json={"text": "客户情绪激动"}, headers=as_role("agent")).status_code
        == 201
    )
    assert detail(client, as_role("agent"), number)["timeline"][-1]["body"] == "客户情绪激动"
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "ticket.note")) is not None


def test_sla_job_flags_and_escalates_a_breach_to_the_team_lead_once(
    inbound, client: TestClient, as_role, session: Session, desk_data
) -> None:
    number = inbound("你好").json()["ticket_number"]  # P4: first response in 60 service minutes
    session.expire_all()
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    assert ticket is not None
    at_risk_time = ticket.at_risk_at + timedelta(seconds=1)
    first = jobs.sla_check(session, now=at_risk_time)
    session.commit()
    assert (first.at_risk, first.breached, first.escalated) == (1, 0, 0)
    second = jobs.sla_check(session, now=NOW + timedelta(hours=2))
    session.commit()
    again = jobs.sla_check(session, now=NOW + timedelta(hours=3))
    session.commit()
    assert (second.breached, second.escalated) == (1, 1)
    assert (again.breached, again.escalated) == (0, 0)
    notes = session.scalars(select(Notification)).all()
    assert len(notes) == 1 and notes[0].user_id == user_id(session, "team_lead") and number in notes[0].body
    breached = client.get(
        "/api/v1/desk/tickets", params={"view": "breached"}, headers=as_role("agent")
    ).json()
    assert [row["number"] for row in breached["items"]] == [number]
    inbox = client.get("/api/v1/desk/notifications", headers=as_role("team_lead")).json()
    assert inbox[0]["kind"] == "sla_breach"
    board = client.get("/api/v1/desk/board", headers=as_role("team_lead")).json()
    general = next(team for team in board["teams"] if team["code"] == "general")
    assert general["active"] == 1 and general["breached"] == 1
    assert client.get("/api/v1/desk/board", headers=as_role("agent")).status_code == 403


def test_paused_tickets_are_not_flagged(
    inbound, client: TestClient, as_role, session: Session, desk_data
) -> None:
    number = inbound("你好").json()["ticket_number"]
    client.post(url(number, "status"), json={"status": "pending_customer"}, headers=as_role("agent"))
    result = jobs.sla_check(session, now=NOW + timedelta(days=3))
    session.commit()
    assert result.breached == 0
    assert session.scalar(select(func.count(OutboxMessage.id))) == 0


@pytest.mark.parametrize("role", ["qa", "compliance"])
def test_read_only_roles_cannot_reply(inbound, client: TestClient, as_role, desk_data, role: str) -> None:
    number = inbound("你好").json()["ticket_number"]
    assert client.post(url(number, "reply"), json={"text": "好"}, headers=as_role(role)).status_code == 403
