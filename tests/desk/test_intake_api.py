"""Inbound intake: idempotent, joins the sender's open ticket, reopens recent ones, matches borrowers."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.core.models import AuditEntry
from lenddesk.desk.models import Message, Ticket
from tests.desk.conftest import NOW, BorrowerFacts, user_id


def ticket_count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count(Ticket.id))) or 0


def test_a_new_message_creates_a_numbered_ticket_owned_by_an_online_agent(
    inbound, session: Session, desk_data, client: TestClient, as_role
) -> None:
    response = inbound("请问我这个月应该还多少钱？")
    assert response.status_code == 201
    body = response.json()
    assert body["created"] is True
    assert re.fullmatch(r"T20261124-\d{6}", body["ticket_number"])
    detail = client.get(f"/api/v1/desk/tickets/{body['ticket_number']}", headers=as_role("agent")).json()
    assert detail["owner_id"] == user_id(session, "agent")
    assert detail["team_name"] == "综合服务组"
    assert detail["category"] == "repayment_question"
    assert detail["status"] == "new"
    assert [event["kind"] for event in detail["timeline"]][-1] == "inbound"


def test_ticket_numbers_count_per_shanghai_day(inbound, desk_data, clock) -> None:
    first = inbound("你好", sender="a@example.com").json()["ticket_number"]
    second = inbound("你好", sender="b@example.com").json()["ticket_number"]
    # 2026-11-24 20:00 UTC is already 25 November in Shanghai: a new day, a new sequence.
    clock.now = NOW.replace(hour=20)
    late = inbound("你好", sender="c@example.com").json()["ticket_number"]
    assert int(second[-6:]) == int(first[-6:]) + 1
    assert late.startswith("T20261125-") and late.endswith("000001")


def test_the_same_channel_message_twice_creates_nothing_new(inbound, session: Session, desk_data) -> None:
    first = inbound("我的还款没有入账", message_id="wx-1")
    again = inbound("我的还款没有入账", message_id="wx-1")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == {
        "ticket_number": first.json()["ticket_number"],
        "created": False,
        "outcome": "duplicate",
    }
    assert ticket_count(session) == 1
    assert session.scalar(select(func.count(Message.id))) == 1


def test_a_sender_with_an_open_ticket_on_the_channel_joins_it(inbound, session: Session, desk_data) -> None:
    first = inbound("我想提前结清", sender="13900002222").json()
    joined = inbound("请尽快回复", sender="139 0000 2222").json()
    other_channel = inbound("请尽快回复", sender="13900002222", channel="sms").json()
    assert joined == {"ticket_number": first["ticket_number"], "created": False, "outcome": "joined"}
    assert other_channel["created"] is True
    assert ticket_count(session) == 2


def test_a_resolved_ticket_reopens_within_seven_days_but_not_after(
    inbound, client: TestClient, as_role, clock, session: Session, desk_data
) -> None:
    number = inbound("还款咨询", sender="13900003333").json()["ticket_number"]
    resolved = client.post(
        f"/api/v1/desk/tickets/{number}/status", json={"status": "resolved"}, headers=as_role("agent")
    )
    assert resolved.status_code == 200
    clock.now = NOW + timedelta(days=6)
    again = inbound("还是没解决", sender="13900003333").json()
    assert again == {"ticket_number": number, "created": False, "outcome": "reopened"}
    detail = client.get(f"/api/v1/desk/tickets/{number}", headers=as_role("agent")).json()
    assert detail["status"] == "open"
    assert "reopen" in [event["kind"] for event in detail["timeline"]]
    client.post(f"/api/v1/desk/tickets/{number}/status", json={"status": "closed"}, headers=as_role("agent"))
    clock.now = NOW + timedelta(days=14)
    later = inbound("又有新问题", sender="13900003333").json()
    assert later["created"] is True and later["ticket_number"] != number


def test_traditional_chinese_is_normalised_for_rules_and_search_but_kept(
    inbound, client: TestClient, as_role, session: Session, desk_data
) -> None:
    number = inbound("我的還款沒有入賬，請儘快處理").json()["ticket_number"]
    message = session.scalar(select(Message))
    assert message is not None
    assert message.text == "我的還款沒有入賬，請儘快處理"
    assert message.text_simplified == "我的还款没有入账，请尽快处理"
    detail = client.get(f"/api/v1/desk/tickets/{number}", headers=as_role("agent")).json()
    assert detail["category"] == "repayment_failed"
    found = client.get("/api/v1/desk/tickets", params={"q": "沒有入賬"}, headers=as_role("agent")).json()
    assert [row["number"] for row in found["items"]] == [number]


def test_the_sender_is_matched_to_the_registered_borrower_as_a_candidate_only(
    inbound, session: Session, desk_data, borrower: BorrowerFacts
) -> None:
    by_phone = inbound("你好", sender="+86 138 1234 5678").json()
    by_mail = inbound("你好", sender="ZhangWei@Example.com", channel="email").json()
    by_openid = inbound("你好", sender="oWX-zhangwei", channel="wechat").json()
    stranger = inbound("你好", sender="13700000000").json()
    rows = session.execute(select(Ticket.number, Ticket.borrower_id, Ticket.candidate_borrower_id)).all()
    assert {row.borrower_id for row in rows} == {None}  # anyone can type a phone: verification links
    owners = {row.number: row.candidate_borrower_id for row in rows}
    assert owners[by_phone["ticket_number"]] == borrower.id
    assert owners[by_mail["ticket_number"]] == borrower.id
    assert owners[by_openid["ticket_number"]] == borrower.id
    assert owners[stranger["ticket_number"]] is None


def test_bad_input_gets_clear_errors(inbound, desk_data) -> None:
    unknown = inbound("你好", channel="telegram")
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "unknown_channel"
    assert "未知渠道" in unknown.json()["message_zh"] and "Unknown channel" in unknown.json()["message_en"]
    empty = inbound("   ")
    assert empty.status_code == 422 and empty.json()["code"] == "empty_text"


def test_intake_needs_a_channel_key_or_an_admin(client: TestClient, channel_keys, as_role, desk_data) -> None:
    body = {"channel": "chat", "channel_message_id": "x1", "sender": "13900009999", "text": "你好"}
    assert client.post("/api/v1/desk/inbound", json=body).status_code == 401
    bad = client.post("/api/v1/desk/inbound", json=body, headers={"X-LendDesk-Key": "nope"})
    assert bad.status_code == 401 and bad.json()["code"] == "bad_channel_key"
    assert client.post("/api/v1/desk/inbound", json=body, headers=as_role("agent")).status_code == 403
    assert client.post("/api/v1/desk/inbound", json=body, headers=as_role("admin")).status_code == 201
    # A key named after a channel posts only that channel.
    mail = {**body, "channel": "email", "channel_message_id": "x2"}
    wrong = client.post("/api/v1/desk/inbound", json=mail, headers={"X-LendDesk-Key": channel_keys["chat"]})
    assert wrong.status_code == 403 and wrong.json()["code"] == "channel_key_mismatch"


def test_ticket_creation_is_audited(inbound, session: Session, desk_data) -> None:
    number = inbound("你好").json()["ticket_number"]
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "ticket.create"))
    assert entry is not None
    assert entry.entity_id == number and entry.actor_name == "system:channel:gateway"
