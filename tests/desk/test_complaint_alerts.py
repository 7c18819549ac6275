"""Complaint deadline alerts (D-3, D-1, breach) to the owner and the team lead, as notifications that
can be marked read in the API and the console; the four-eyes extension in the console."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.desk import jobs
from lenddesk.desk.models import Notification, TicketEvent
from tests.desk.conftest import NOW, user_id
from tests.desk.test_pages import SignedIn, new_ticket, signed_in  # noqa: F401 - the fixture

# The complaint arrives Tuesday 24 November 2026 10:00 Shanghai; its 15-day deadline is the end of
# Wednesday 9 December (Shanghai).
D3 = NOW + timedelta(days=12)  # 6 December 10:00
D1 = NOW + timedelta(days=14)  # 8 December 10:00
BREACH = NOW + timedelta(days=16)  # 10 December 10:00


def alerts_of(session: Session, user: int) -> list[str]:
    session.expire_all()
    return list(
        session.scalars(
            select(Notification.kind).where(Notification.user_id == user).order_by(Notification.id)
        )
    )


def test_owner_and_team_lead_are_alerted_once_at_d3_d1_and_on_breach(
    inbound: Callable[..., Any], client: TestClient, as_role, session: Session, desk_data
) -> None:
    number = new_ticket(inbound, "客服态度太差了，我要投诉", sender="13900005555")
    agent_id, lead_id = user_id(session, "agent"), user_id(session, "team_lead")
    client.post(
        f"/api/v1/desk/tickets/{number}/assign", json={"owner_id": agent_id}, headers=as_role("team_lead")
    )
    for moment, sent in ((NOW, 0), (D3 - timedelta(days=1), 0), (D3, 1), (D3, 0), (D1, 1), (BREACH, 1)):
        assert jobs.complaint_alerts(session, now=moment) == sent, moment
        session.commit()
    expected = ["complaint_d3", "complaint_d1", "complaint_breach"]
    assert alerts_of(session, agent_id) == expected and alerts_of(session, lead_id) == expected
    shown = client.get("/api/v1/desk/notifications", headers=as_role("agent")).json()
    assert [n["kind"] for n in shown] == list(reversed(expected))
    assert number in shown[0]["body"] and "已超过处理期限" in shown[0]["body"]
    timeline = session.scalar(
        select(func.count(TicketEvent.id)).where(
            TicketEvent.kind == "complaint", TicketEvent.body.contains("处理期限")
        )
    )
    assert timeline == 3


def test_an_extension_earns_alerts_for_the_new_deadline_and_closed_complaints_none(
    inbound: Callable[..., Any], client: TestClient, as_role, session: Session, desk_data
) -> None:
    number = new_ticket(inbound, "客服态度太差了，我要投诉", sender="13900005555")
    assert jobs.complaint_alerts(session, now=D3) == 1
    session.commit()
    extended = client.post(
        f"/api/v1/desk/tickets/{number}/complaint/extend",
        json={"days": 30, "reason": "需调取录音"},
        headers=as_role("agent"),
    )
    assert extended.status_code == 200
    assert jobs.complaint_alerts(session, now=BREACH) == 0  # the new deadline is 24 December
    assert jobs.complaint_alerts(session, now=NOW + timedelta(days=27)) == 1  # 21 December: D-3 again
    session.commit()
    for stage in ("confirm", "analyse", "resolve", "feedback"):
        client.post(
            f"/api/v1/desk/tickets/{number}/complaint/stages",
            json={"stage": stage, "content": "已处理"},
            headers=as_role("agent"),
        )
    client.post(
        f"/api/v1/desk/tickets/{number}/complaint/close",
        json={"root_cause": "service_attitude"},
        headers=as_role("agent"),
    )
    assert jobs.complaint_alerts(session, now=NOW + timedelta(days=40)) == 0


def test_notifications_are_marked_read_by_their_recipient_only(
    inbound: Callable[..., Any], client: TestClient, as_role, session: Session, desk_data
) -> None:
    new_ticket(inbound, "客服态度太差了，我要投诉", sender="13900005555")
    jobs.complaint_alerts(session, now=BREACH)
    session.commit()
    lead = as_role("team_lead")
    mine = client.get("/api/v1/desk/notifications", headers=lead).json()
    assert len(mine) == 1
    path = f"/api/v1/desk/notifications/{mine[0]['id']}/read"
    not_theirs = client.post(path, headers=as_role("agent"))
    assert not_theirs.status_code == 404 and not_theirs.json()["code"] == "notification_not_found"
    read = client.post(path, headers=lead)
    assert read.status_code == 200 and read.json()["read_at"] is not None
    assert client.post(path, headers=lead).json()["read_at"] == read.json()["read_at"]
    assert client.get("/api/v1/desk/notifications", headers=lead).json() == []
    huge = client.post(f"/api/v1/desk/notifications/{2**64}/read", headers=lead)
    assert huge.status_code == 422


def test_the_console_lists_alerts_and_marks_them_read(
    signed_in: SignedIn,  # noqa: F811
    inbound: Callable[..., Any],
    session: Session,
    desk_data,
) -> None:
    number = new_ticket(inbound, "客服态度太差了，我要投诉", sender="13900005555")
    jobs.complaint_alerts(session, now=D1)
    session.commit()
    lead = signed_in("team_lead")
    listed = lead.get("/desk/notifications")
    assert listed.status_code == 200 and number in listed.text and "投诉 D-1" in listed.text
    assert 'href="/desk/notifications"' in listed.text  # in the navigation
    assert re.search(r'<span class="value">1</span><span class="label">未读通知</span>', lead.get("/").text)
    notification_id = session.scalar(
        select(Notification.id).where(Notification.user_id == user_id(session, "team_lead"))
    )
    read = lead.post(f"/desk/notifications/{notification_id}/read")
    assert read.status_code == 200 and "已标记为已读" in read.text and number not in read.text
    assert number in lead.get("/desk/notifications?show=all").text
    foreign = signed_in("agent").post(f"/desk/notifications/{notification_id}/read")
    assert "通知不存在" in foreign.text


def test_the_console_asks_for_the_60_day_step_and_another_senior_approves_it(
    signed_in: SignedIn,  # noqa: F811
    inbound: Callable[..., Any],
) -> None:
    number = new_ticket(inbound, "客服态度太差了，我要投诉", sender="13900005555")
    lead = signed_in("team_lead")
    page = lead.get(f"/desk/tickets/{number}").text
    assert '<option value="30">' in page and '<option value="60">' not in page  # one step at a time
    lead.post(f"/desk/tickets/{number}/complaint/extend", data={"days": "30", "reason": "需调取录音"})
    asked = lead.post(
        f"/desk/tickets/{number}/complaint/extend", data={"days": "60", "reason": "涉及司法程序"}
    )
    assert "待另一位组长/合规人员批准" in asked.text and 'data-testid="pending-extension"' in asked.text
    assert "批准延期" not in asked.text  # not to the person who asked
    own = lead.post(f"/desk/tickets/{number}/complaint/extension/approve")
    assert own.status_code == 403 and "申请人不能批准自己的延期申请" in own.text
    approved = signed_in("compliance").post(f"/desk/tickets/{number}/complaint/extension/approve")
    assert "已批准延期，处理期限延至 60 天" in approved.text
    assert 'data-testid="extension-approved"' in approved.text
