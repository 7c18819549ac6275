"""Complaints: five recorded stages without skipping, deadlines and extensions, root cause, summary."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.core.models import AuditEntry
from lenddesk.desk.models import OutboxMessage, Ticket


def url(number: str, tail: str) -> str:
    return f"/api/v1/desk/tickets/{number}/{tail}"


@pytest.fixture
def complaint(inbound, desk_data) -> str:
    """A customer complaint arriving Tuesday 24 November 2026, 10:00 Shanghai."""
    return inbound("客服态度太差了，我要投诉", sender="13900005555").json()["ticket_number"]


def stage(client: TestClient, headers, number: str, name: str, content: str = "已处理"):
    return client.post(
        url(number, "complaint/stages"), json={"stage": name, "content": content}, headers=headers
    )


def test_a_complaint_is_received_at_intake_with_its_deadlines(
    client: TestClient, as_role, complaint: str, desk_data
) -> None:
    ticket = client.get(f"/api/v1/desk/tickets/{complaint}", headers=as_role("agent")).json()
    record = ticket["complaint"]
    assert record["stage"] == "receive" and record["next_stage"] == "confirm"
    assert record["stages"][0]["actor_name"] == "system:channel:gateway"
    assert record["ack_due_at"] == "2026-11-25T15:59:59Z"  # end of the next business day, Shanghai
    assert record["resolution_due_at"] == "2026-12-09T15:59:59Z"  # 15 calendar days
    assert ticket["team_id"] == desk_data["complaints"]
    assert record["flagged"] is False


def test_regulator_sourced_complaints_are_flagged_and_routed_to_the_complaints_team(
    inbound, client: TestClient, as_role, desk_data
) -> None:
    number = inbound("我的還款沒有入賬，否則我要向金融監管總局投訴", sender="13900006666").json()[
        "ticket_number"
    ]
    ticket = client.get(f"/api/v1/desk/tickets/{number}", headers=as_role("agent")).json()
    assert ticket["category"] == "repayment_failed"
    assert ticket["severity"] == "P1"
    assert ticket["flags"] == ["regulator"]
    assert ticket["complaint"]["flagged"] is True and ticket["complaint"]["source"] == "regulator"
    assert ticket["team_id"] == desk_data["complaints"]


def test_stages_go_in_order_and_a_skip_is_refused(client: TestClient, as_role, complaint: str) -> None:
    agent = as_role("agent")
    skipped = stage(client, agent, complaint, "resolve")
    assert skipped.status_code == 422
    assert skipped.json()["code"] == "complaint_stage_skipped"
    assert "不能跳过" in skipped.json()["message_zh"] and "cannot skip" in skipped.json()["message_en"]
    for name in ("confirm", "analyse", "resolve", "feedback"):
        response = stage(client, agent, complaint, name, f"{name} 内容")
        assert response.status_code == 200, response.text
    record = response.json()
    assert [s["stage"] for s in record["stages"]] == ["receive", "confirm", "analyse", "resolve", "feedback"]
    assert all(s["actor_name"] and s["at"] and s["content"] for s in record["stages"])
    assert record["acknowledged_at"] is not None
    repeated = stage(client, agent, complaint, "feedback")
    assert repeated.status_code == 422 and repeated.json()["code"] == "complaint_stage_repeated"


def extend(client: TestClient, headers, number: str, days: int, reason: str = "需调取第三方记录"):
    return client.post(
        url(number, "complaint/extend"), json={"days": days, "reason": reason}, headers=headers
    )


def test_extensions_need_a_reason_go_one_step_at_a_time_and_notify_the_complainant(
    client: TestClient, as_role, complaint: str, session: Session
) -> None:
    agent, lead, compliance = as_role("agent"), as_role("team_lead"), as_role("compliance")
    assert extend(client, agent, complaint, 30, " ").status_code == 422
    jump = extend(client, lead, complaint, 60, "涉及司法程序")
    assert jump.status_code == 422 and jump.json()["code"] == "complaint_extension_days"
    assert "下一步只能延至 30 天" in jump.json()["message_zh"]
    extended = extend(client, agent, complaint, 30)
    assert extended.status_code == 200
    assert extended.json()["resolution_days"] == 30
    assert extended.json()["resolution_due_at"] == "2026-12-24T15:59:59Z"
    asked = extend(client, agent, complaint, 60, "涉及司法程序")
    assert asked.status_code == 200 and asked.json()["resolution_days"] == 30  # not yet: it waits
    assert [(e["days"], e["status"]) for e in asked.json()["extensions"]] == [
        (30, "applied"),
        (60, "pending"),
    ]
    assert extend(client, agent, complaint, 60, "再次申请").json()["code"] == "complaint_extension_pending"
    approve = url(complaint, "complaint/extension/approve")
    by_agent = client.post(approve, headers=agent)
    assert by_agent.status_code == 403 and by_agent.json()["code"] == "role_forbidden"
    approved = client.post(approve, headers=compliance)
    assert approved.status_code == 200 and approved.json()["resolution_days"] == 60
    last = approved.json()["extensions"][1]
    assert (last["status"], last["requested_by"], last["approved_by"]) == ("approved", "agent", "compliance")
    notices = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "notice")).all()
    assert len(notices) == 2 and all(n.recipient == "13900005555" for n in notices)
    assert "需调取第三方记录" in notices[0].body and "2026年12月24日" in notices[0].body
    assert "2027年1月23日" in notices[1].body
    assert len(session.scalars(select(AuditEntry).where(AuditEntry.action == "complaint.extend")).all()) == 2
    assert extend(client, lead, complaint, 90, "再延").json()["code"] == "complaint_extension_days"


def test_the_senior_who_asks_cannot_approve_their_own_extension(
    client: TestClient, as_role, complaint: str, session: Session
) -> None:
    lead, compliance = as_role("team_lead"), as_role("compliance")
    assert extend(client, lead, complaint, 30).status_code == 200
    assert extend(client, lead, complaint, 60, "涉及司法程序").status_code == 200
    own = client.post(url(complaint, "complaint/extension/approve"), headers=lead)
    assert own.status_code == 403 and own.json()["code"] == "complaint_extension_four_eyes"
    rejected = client.post(
        url(complaint, "complaint/extension/reject"), json={"reason": "材料不足"}, headers=compliance
    )
    assert rejected.status_code == 200 and rejected.json()["resolution_days"] == 30
    assert rejected.json()["extensions"][1]["status"] == "rejected"
    nothing = client.post(url(complaint, "complaint/extension/approve"), headers=compliance)
    assert nothing.status_code == 409 and nothing.json()["code"] == "complaint_extension_none_pending"
    assert session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "notice")) == 1


def test_no_extension_after_the_deadline_so_the_complaint_stays_overdue(
    client: TestClient, as_role, complaint: str, clock
) -> None:
    agent, lead = as_role("agent"), as_role("team_lead")
    clock.now = clock.now + timedelta(days=14)  # 8 December: the deadline is the end of 9 December
    assert extend(client, agent, complaint, 30).status_code == 200
    assert extend(client, agent, complaint, 60, "涉及司法程序").status_code == 200
    clock.now = clock.now + timedelta(days=17)  # 25 December: past the 30-day deadline (end of 24 December)
    late_approval = client.post(url(complaint, "complaint/extension/approve"), headers=lead)
    assert late_approval.status_code == 409 and late_approval.json()["code"] == "complaint_extension_too_late"
    summary = client.get("/api/v1/desk/complaints/summary", headers=lead).json()
    assert summary["overdue"] == 1


def test_an_extension_asked_after_the_deadline_is_refused(
    client: TestClient, as_role, complaint: str, clock
) -> None:
    clock.now = clock.now + timedelta(days=16)  # 10 December, past the 15-day deadline
    late = extend(client, as_role("agent"), complaint, 30)
    assert late.status_code == 409 and late.json()["code"] == "complaint_extension_too_late"
    summary = client.get("/api/v1/desk/complaints/summary", headers=as_role("team_lead")).json()
    assert summary["overdue"] == 1


@pytest.mark.parametrize("status", ["resolved", "closed"])
def test_a_ticket_with_an_open_complaint_ends_only_after_its_five_stages(
    client: TestClient, as_role, complaint: str, status: str
) -> None:
    agent = as_role("agent")
    for name in ("confirm", "analyse", "resolve"):
        stage(client, agent, complaint, name)
    refused = client.post(url(complaint, "status"), json={"status": status}, headers=agent)
    assert refused.status_code == 409 and refused.json()["code"] == "complaint_stages_open"
    assert refused.json()["details"] == {"missing": ["feedback"]}
    stage(client, agent, complaint, "feedback")
    done = client.post(url(complaint, "status"), json={"status": status}, headers=agent)
    assert done.status_code == 200 and done.json()["status"] == status


def test_closing_needs_every_stage_and_a_known_root_cause(
    client: TestClient, as_role, complaint: str, session: Session
) -> None:
    agent = as_role("agent")
    early = client.post(
        url(complaint, "complaint/close"), json={"root_cause": "service_attitude"}, headers=agent
    )
    assert early.status_code == 422 and early.json()["code"] == "complaint_stage_skipped"
    for name in ("confirm", "analyse", "resolve", "feedback"):
        stage(client, agent, complaint, name)
    unknown = client.post(url(complaint, "complaint/close"), json={"root_cause": "bad_luck"}, headers=agent)
    assert unknown.status_code == 422
    closed = client.post(
        url(complaint, "complaint/close"), json={"root_cause": "service_attitude"}, headers=agent
    )
    assert closed.status_code == 200 and closed.json()["root_cause"] == "service_attitude"
    session.expire_all()
    assert session.scalar(select(Ticket.status).where(Ticket.number == complaint)) == "resolved"


def test_summary_counts_by_root_cause_stage_age_and_overdue_as_json_and_csv(
    inbound, client: TestClient, as_role, clock, desk_data
) -> None:
    from datetime import timedelta

    agent = as_role("agent")
    old = inbound("催收骚扰我家人，我要投诉", sender="13900007777").json()["ticket_number"]
    clock.now = clock.now + timedelta(days=20)
    fresh = inbound("态度差，投诉", sender="13900008888").json()["ticket_number"]
    closed = inbound("我要投诉你们乱收费", sender="13900009999").json()["ticket_number"]
    for name in ("confirm", "analyse", "resolve", "feedback"):
        stage(client, agent, closed, name)
    client.post(url(closed, "complaint/close"), json={"root_cause": "pricing_fees"}, headers=agent)
    stage(client, agent, fresh, "confirm")
    summary = client.get("/api/v1/desk/complaints/summary", headers=as_role("compliance")).json()
    assert (summary["total"], summary["open"], summary["closed"]) == (3, 2, 1)
    assert summary["overdue"] == 1 and summary["ack_overdue"] == 1  # the 20-day-old one, never acknowledged
    assert summary["by_root_cause"] == {"pricing_fees": 1}
    assert summary["by_stage"]["receive"] == 1 and summary["by_stage"]["confirm"] == 1
    assert summary["by_age"]["16-30d"] == 1 and summary["by_age"]["0-1d"] == 1
    response = client.get("/api/v1/desk/complaints/summary.csv", headers=as_role("qa"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["dimension", "key", "label", "count"]
    assert ["root_cause", "pricing_fees", "息费定价", "1"] in rows
    assert ["total", "overdue", "", "1"] in rows
    assert old


def test_collectors_cannot_advance_complaints(client: TestClient, as_role, complaint: str) -> None:
    assert stage(client, as_role("collector"), complaint, "confirm").status_code == 403
