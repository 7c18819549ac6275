"""Console pages of the desk: who may open them, that they render, and the PRG actions behind them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core.calendar import SHANGHAI
from lenddesk.desk.models import Agent, OutboxMessage, Ticket
from lenddesk.web.desk import tickets as desk_pages
from tests.conftest import PASSWORD, carry_csrf
from tests.desk.conftest import NOW, BorrowerFacts, Clock, user_id
from tests.desk.test_verification_rules import deliver_sms

SignedIn = Callable[[str], TestClient]


@pytest.fixture
def signed_in(app: FastAPI) -> Iterator[SignedIn]:
    """A browser-like client per role, signed in through the console's login form."""
    clients: list[TestClient] = []

    def open_as(role: str) -> TestClient:
        browser = TestClient(app)
        clients.append(browser)
        response = browser.post("/login", data={"username": role, "password": PASSWORD, "next": "/"})
        assert response.status_code == 200, response.text
        return carry_csrf(browser)

    yield open_as
    for browser in clients:
        browser.close()


def new_ticket(inbound: Callable[..., Any], text: str = "请问我这个月还多少钱？", **kwargs: Any) -> str:
    response = inbound(text, **kwargs)
    assert response.status_code in (200, 201), response.text
    return str(response.json()["ticket_number"])


def timeline_text(html: str) -> str:
    start = html.index('data-testid="timeline"')
    return html[start : html.index("</ol>", start)]


# --- access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/desk", "/desk/tickets/T20261124-000001", "/desk/board", "/desk/complaints", "/desk/follow-ups"]
)
def test_signed_out_browsers_are_sent_to_the_login_page(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


def test_only_team_leads_and_admins_open_the_board(signed_in: SignedIn, desk_data: dict[str, int]) -> None:
    refused = signed_in("agent").get("/desk/board")
    assert refused.status_code == 403
    assert "无权" in refused.text and "text/html" in refused.headers["content-type"]
    for role in ("team_lead", "admin"):
        board = signed_in(role).get("/desk/board")
        assert board.status_code == 200
        assert "综合服务组" in board.text and "坐席负载" in board.text
        assert 'class="active">组长看板<' in board.text and 'class="active">工单<' not in board.text


@pytest.mark.parametrize(
    ("role", "path", "expected"),
    [
        ("agent", "/desk", 200),
        ("collector", "/desk", 200),
        ("qa", "/desk", 200),
        ("compliance", "/desk", 200),
        ("agent", "/desk/follow-ups", 200),
        ("qa", "/desk/follow-ups", 403),
        ("qa", "/desk/complaints", 200),
        ("compliance", "/desk/complaints", 200),
        ("collector", "/desk/board", 403),
    ],
)
def test_pages_by_role(
    signed_in: SignedIn, desk_data: dict[str, int], role: str, path: str, expected: int
) -> None:
    assert signed_in(role).get(path).status_code == expected


def test_nav_shows_the_desk_entries_to_the_roles_that_may_open_them(signed_in: SignedIn) -> None:
    agent_home = signed_in("agent").get("/").text
    assert 'href="/desk"' in agent_home and 'href="/desk/follow-ups"' in agent_home
    assert 'href="/desk/board"' not in agent_home
    assert 'href="/desk/board"' in signed_in("team_lead").get("/").text


# --- queue ----------------------------------------------------------------------------------------


def test_queue_lists_my_tickets_and_searches_by_phone(
    signed_in: SignedIn, desk_data: dict[str, int], inbound: Callable[..., Any]
) -> None:
    mine = new_ticket(inbound, sender="13900001111")
    other = new_ticket(inbound, "我换手机号了，怎么修改？", sender="13900002222")
    agent = signed_in("agent")
    queue = agent.get("/desk").text
    assert mine in queue and other in queue  # both auto-assigned to the only online agent
    found = agent.get("/desk", params={"view": "all", "q": "139 0000 1111"}).text
    assert mine in found and other not in found
    by_category = agent.get("/desk", params={"view": "all", "category": "account_change"}).text
    assert other in by_category and mine not in by_category
    assert "没有符合条件的工单" in agent.get("/desk", params={"view": "breached"}).text


def test_queue_pages_with_a_keyset_cursor(
    signed_in: SignedIn,
    desk_data: dict[str, int],
    inbound: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    numbers = {new_ticket(inbound, sender=f"1390000{index:04d}") for index in range(5)}
    monkeypatch.setattr(desk_pages, "PAGE_SIZE", 2)
    agent = signed_in("agent")
    seen: list[str] = []
    url: str | None = "/desk?view=all"
    while url:
        html = agent.get(url).text
        seen += re.findall(r'<td class="nowrap"><a href="/desk/tickets/(T\d{8}-\d{6})">', html)
        match = re.search(r'<a href="([^"]+)" rel="next">', html)
        url = match.group(1).replace("&amp;", "&") if match else None
    assert sorted(seen) == sorted(numbers)


def test_an_unknown_queue_view_is_an_alert_not_a_json_page(signed_in: SignedIn) -> None:
    response = signed_in("agent").get("/desk", params={"view": "nonsense"})
    assert response.status_code == 200
    assert 'role="alert"' in response.text and "未知视图" in response.text


def test_agents_set_their_own_status_from_the_queue(
    signed_in: SignedIn, desk_data: dict[str, int], session: Session
) -> None:
    agent = signed_in("agent")
    response = agent.post("/desk/agent-status", data={"status": "away", "back": "/desk?view=team"})
    assert response.url.path == "/desk" and response.url.params["view"] == "team"
    assert "坐席状态已改为「离开」" in response.text
    session.expire_all()
    assert session.get(Agent, user_id(session, "agent")).status == "away"  # type: ignore[union-attr]
    assert "坐席状态已改为" not in agent.get("/desk").text  # the flash is shown once


# --- the ticket page ------------------------------------------------------------------------------


def test_verify_then_reply_with_a_macro_and_resolve(
    signed_in: SignedIn,
    desk_data: dict[str, int],
    borrower: BorrowerFacts,
    inbound: Callable[..., Any],
) -> None:
    number = new_ticket(inbound, sender=borrower.mobile)
    agent = signed_in("agent")
    page = agent.get(f"/desk/tickets/{number}")
    assert page.status_code == 200
    assert "账户信息需完成基础验证后查看" in page.text and "1,050.00" not in page.text
    assert "张*" in page.text and "138****5678" in page.text

    refused = agent.get(f"/desk/tickets/{number}", params={"macro": "amount_due"})
    assert "使用含账户信息的快捷回复需要先完成基础验证（当前：未验证）" in refused.text
    sent_anyway = agent.post(f"/desk/tickets/{number}/reply", data={"text": "", "macro": "amount_due"})
    assert sent_anyway.status_code == 403 and "需要先完成基础验证" in sent_anyway.text
    assert "回复客户" not in timeline_text(sent_anyway.text)

    wrong = agent.post(
        f"/desk/tickets/{number}/verify/knowledge",
        data={"name": borrower.name, "id_last6": "000000", "contract_number": borrower.contract_number},
    )
    assert "核验信息不符，还可尝试 2 次" in wrong.text
    verified = agent.post(
        f"/desk/tickets/{number}/verify/knowledge",
        data={
            "name": borrower.name,
            "id_last6": borrower.id_number[-6:],
            "contract_number": borrower.contract_number,
        },
    )
    assert verified.url.path == f"/desk/tickets/{number}"
    assert "身份核验通过（基础验证）" in verified.text and "1,050.00" in verified.text

    filled = agent.get(f"/desk/tickets/{number}", params={"macro": "amount_due"}).text
    assert "合同 HT20260105001 本期应还 1050.00 元，还款日 2026年12月5日。" in filled
    replied = agent.post(f"/desk/tickets/{number}/reply", data={"text": "", "macro": "amount_due"})
    timeline = timeline_text(replied.text)
    assert "本期应还 1050.00 元" in timeline and "待投递" in timeline and "快捷回复 amount_due" in timeline

    resolved = agent.post(f"/desk/tickets/{number}/status", data={"status": "resolved", "reason": "已解答"})
    assert "状态已改为「已解决」" in resolved.text
    assert 'data-testid="ticket-status">已解决<' in resolved.text


def test_a_strong_verification_by_one_time_code(
    signed_in: SignedIn,
    desk_data: dict[str, int],
    borrower: BorrowerFacts,
    inbound: Callable[..., Any],
    session: Session,
) -> None:
    number = new_ticket(inbound, sender=borrower.mobile)
    agent = signed_in("agent")
    sent = agent.post(f"/desk/tickets/{number}/verify/otp/send")
    assert "验证码已发送至 138****5678" in sent.text
    assert session.scalar(select(OutboxMessage.body).where(OutboxMessage.kind == "otp")).startswith("otp:")
    code = re.search(r"验证码为 (\d+)", deliver_sms(session, NOW).sent[-1].body)  # drawn at delivery
    assert code is not None
    wrong = (
        "0" * len(code.group(1)) if code.group(1) != "0" * len(code.group(1)) else "1" * len(code.group(1))
    )
    assert (
        "验证码错误，还可尝试 4 次"
        in agent.post(f"/desk/tickets/{number}/verify/otp/check", data={"code": wrong}).text
    )
    checked = agent.post(f"/desk/tickets/{number}/verify/otp/check", data={"code": code.group(1)})
    assert "短信验证码核验通过（强验证）" in checked.text
    assert 'data-testid="verification-level">强验证<' in checked.text


def test_refused_actions_keep_what_the_agent_typed(
    signed_in: SignedIn, desk_data: dict[str, int], inbound: Callable[..., Any]
) -> None:
    number = new_ticket(inbound)
    agent = signed_in("agent")
    response = agent.post(f"/desk/tickets/{number}/reply", data={"text": "您的合同 HT20260105001 已结清"})
    assert response.status_code == 403
    assert "回复中包含账户信息" in response.text
    assert ">您的合同 HT20260105001 已结清</textarea>" in response.text
    empty_note = agent.post(f"/desk/tickets/{number}/note", data={"text": "  "})
    assert empty_note.status_code == 422 and "备注不能为空" in empty_note.text


def test_notes_assignment_consults_and_follow_ups_land_on_the_timeline(
    signed_in: SignedIn,
    desk_data: dict[str, int],
    inbound: Callable[..., Any],
    clock: Clock,
    session: Session,
) -> None:
    number = new_ticket(inbound)
    lead = signed_in("team_lead")
    lead.post(f"/desk/tickets/{number}/note", data={"text": "客户情绪激动，注意安抚"})
    lead.post(f"/desk/tickets/{number}/assign", data={"team": "repayment", "owner_id": ""})
    lead.post(f"/desk/tickets/{number}/categorise", data={"category": "hardship", "severity": "P2"})
    consulted = lead.post(
        f"/desk/tickets/{number}/consults", data={"department": "finance", "question": "核实 11 月扣款记录"}
    )
    assert "已咨询财务" in consulted.text and "等待内部" in consulted.text
    due = (clock.now + timedelta(hours=2)).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    lead.post(f"/desk/tickets/{number}/follow-ups", data={"due_at": due, "note": "回电确认", "owner_id": ""})
    timeline = timeline_text(lead.get(f"/desk/tickets/{number}").text)
    for expected in (
        "客户情绪激动，注意安抚",
        "团队：还款组",
        "确认分类：困难协商 / P2",
        "咨询财务：核实 11 月扣款记录",
        "预约跟进：回电确认",
    ):
        assert expected in timeline
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    assert ticket is not None and ticket.status == "pending_internal"

    consult_id = re.search(r"/consults/(\d+)/answer", lead.get(f"/desk/tickets/{number}").text)
    assert consult_id is not None
    answered = lead.post(
        f"/desk/tickets/{number}/consults/{consult_id.group(1)}/answer", data={"answer": "已到账，系统延迟"}
    )
    assert "财务答复：已到账，系统延迟" in timeline_text(answered.text)

    follow_ups = lead.get("/desk/follow-ups").text
    assert number in follow_ups and "回电确认" in follow_ups
    follow_up_id = re.search(r"/desk/follow-ups/(\d+)/done", follow_ups)
    assert follow_up_id is not None
    done = lead.post(f"/desk/follow-ups/{follow_up_id.group(1)}/done", data={"back": "/desk/follow-ups"})
    assert "跟进已完成" in done.text and "今天没有待办跟进" in done.text


def test_claiming_a_ticket_someone_else_owns_is_refused_on_the_page(
    signed_in: SignedIn, desk_data: dict[str, int], inbound: Callable[..., Any]
) -> None:
    number = new_ticket(inbound)  # auto-assigned to the online agent
    response = signed_in("collector").post(f"/desk/tickets/{number}/claim")
    assert response.status_code == 409 and "该工单已有负责人" in response.text


def test_a_missing_ticket_is_an_error_page(signed_in: SignedIn) -> None:
    response = signed_in("agent").get("/desk/tickets/T20990101-000001")
    assert response.status_code == 404 and "工单不存在" in response.text


def test_qa_reads_tickets_but_sees_no_account_panel_and_cannot_reply(
    signed_in: SignedIn, desk_data: dict[str, int], borrower: BorrowerFacts, inbound: Callable[..., Any]
) -> None:
    number = new_ticket(inbound, sender=borrower.mobile)
    qa = signed_in("qa")
    page = qa.get(f"/desk/tickets/{number}")
    assert page.status_code == 200 and number in page.text
    assert 'data-testid="borrower-panel"' not in page.text and "发送回复" not in page.text
    assert qa.post(f"/desk/tickets/{number}/reply", data={"text": "您好"}).status_code == 403


# --- complaints and the board ---------------------------------------------------------------------


def test_a_complaint_through_its_stages_and_the_summary(
    signed_in: SignedIn, desk_data: dict[str, int], inbound: Callable[..., Any]
) -> None:
    number = new_ticket(inbound, "客服态度太差了，我要投诉")
    lead = signed_in("team_lead")
    skipped = lead.post(f"/desk/tickets/{number}/complaint/stage", data={"stage": "analyse", "content": "x"})
    assert skipped.status_code == 422 and "不能跳过投诉环节" in skipped.text
    for stage, label in (("confirm", "确认"), ("analyse", "分析"), ("resolve", "处理"), ("feedback", "反馈")):
        response = lead.post(
            f"/desk/tickets/{number}/complaint/stage", data={"stage": stage, "content": f"{label}环节记录"}
        )
        assert f"投诉环节「{label}」已记录" in response.text
    extended = lead.post(
        f"/desk/tickets/{number}/complaint/extend", data={"days": "30", "reason": "需调取录音"}
    )
    assert "处理期限已延至 30 天" in extended.text
    closed = lead.post(f"/desk/tickets/{number}/complaint/close", data={"root_cause": "service_attitude"})
    assert "投诉已结案（根因：服务态度）" in closed.text

    summary = signed_in("qa").get("/desk/complaints?state=closed")
    assert number in summary.text and "服务态度" in summary.text
    csv = signed_in("compliance").get("/desk/complaints/summary.csv")
    assert csv.status_code == 200 and "text/csv" in csv.headers["content-type"]
    assert "root_cause,service_attitude,服务态度,1" in csv.content.decode("utf-8-sig")


def test_the_board_counts_queues_per_team(
    signed_in: SignedIn, desk_data: dict[str, int], inbound: Callable[..., Any], session: Session
) -> None:
    new_ticket(inbound, sender="13900001111")
    new_ticket(inbound, "扣款失败了，怎么回事？", sender="13900002222")  # repayment team, nobody online
    lead = signed_in("team_lead")
    board = lead.get("/desk/board").text
    row = re.search(r"还款组.*?</tr>", board, re.S)
    assert row is not None
    assert re.findall(r'<td class="num[^"]*">(\d+)</td>', row.group(0))[:2] == ["1", "1"]
    changed = lead.post(f"/desk/board/agents/{user_id(session, 'agent')}/status", data={"status": "offline"})
    assert "坐席状态已更新" in changed.text


def test_home_shows_the_agents_own_desk(
    signed_in: SignedIn, desk_data: dict[str, int], inbound: Callable[..., Any]
) -> None:
    new_ticket(inbound, sender="13900001111")
    new_ticket(inbound, "我换手机号了，怎么修改？", sender="13900002222")
    pattern = r'<span class="value">([^<]+)</span><span class="label">([^<]+)</span>'
    figures = {label: value for value, label in re.findall(pattern, signed_in("agent").get("/").text)}
    assert figures["我的待办工单"] == "2"  # both auto-assigned to the only online agent
    assert figures["今日跟进"] == "0"
    assert "我的待办工单" not in signed_in("qa").get("/").text
