"""Desk flows in a real browser: a chat message arrives, the agent finds it, verifies, replies, resolves."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.desk_support import add_borrower, fresh_mobile, post_inbound, seed_desk


@pytest.fixture(scope="module")
def desk(live_database: Path, live_server: str) -> str:
    seed_desk(live_database)
    return live_server


def deliver_outbox(live_server: str) -> None:
    """What the delivery job does: hand queued replies to the (delivery-log) channel adapters."""
    with httpx.Client(base_url=live_server, timeout=10) as http:
        token = http.post("/api/v1/auth/token", data={"username": "team_lead", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        http.post("/api/v1/desk/outbox/deliver", headers=headers).raise_for_status()


def test_chat_message_is_verified_answered_with_a_macro_and_resolved(
    desk: str, live_database: Path, sign_in: Callable[[str], Page]
) -> None:
    borrower = add_borrower(live_database)
    number = post_inbound(desk, "请问我这个月应该还多少钱？还款日是哪天？", sender=borrower.mobile)

    page = sign_in("agent")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="工单").click()
    page.get_by_label("搜索").fill(borrower.mobile)
    page.get_by_role("button", name="查询").click()
    queue = page.get_by_test_id("queue")
    expect(queue).to_contain_text(number)
    expect(queue).to_contain_text("在线客服")
    queue.get_by_role("link", name=number).click()
    expect(page).to_have_url(f"{desk}/desk/tickets/{number}")
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("请问我这个月应该还多少钱？")

    panel = page.get_by_test_id("borrower-panel")
    expect(panel).to_contain_text("账户信息需完成基础验证后查看")
    expect(panel).not_to_contain_text(borrower.instalment)

    page.get_by_label("快捷回复").select_option(label="本期应还")
    page.get_by_role("button", name="插入快捷回复").click()
    expect(page.get_by_role("alert")).to_contain_text("需要先完成基础验证（当前：未验证）")

    verification = page.get_by_test_id("verification")
    verification.get_by_label("姓名").fill(borrower.name)
    verification.get_by_label("身份证后 6 位").fill(borrower.id_number[-6:])
    verification.get_by_label("合同编号").fill(borrower.contract_number)
    verification.get_by_role("button", name="核验身份").click()
    expect(page.get_by_test_id("flash")).to_contain_text("身份核验通过（基础验证）")
    expect(page.get_by_test_id("verification-level")).to_have_text("基础验证")
    expect(page.get_by_test_id("borrower-panel")).to_contain_text(borrower.instalment)
    expect(page.get_by_test_id("borrower-panel")).to_contain_text(borrower.contract_number)

    page.get_by_label("快捷回复").select_option(label="本期应还")
    page.get_by_role("button", name="插入快捷回复").click()
    expect(page.get_by_label("回复内容")).to_have_value(
        re.compile(f"合同 {borrower.contract_number} 本期应还 1050.00 元")
    )
    page.get_by_role("button", name="发送回复").click()
    expect(page.get_by_test_id("flash")).to_contain_text("回复已发送")
    expect(page.get_by_test_id("timeline")).to_contain_text("本期应还 1050.00 元")
    expect(page.get_by_test_id("delivery")).to_have_text("待投递")

    deliver_outbox(desk)
    page.reload()
    expect(page.get_by_test_id("delivery")).to_have_text("已送达")

    page.get_by_label("工单状态").select_option(label="已解决")
    page.get_by_placeholder("原因（可选）").fill("已告知本期应还金额")
    page.get_by_role("button", name="更改状态").click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("已解决")
    expect(page.get_by_test_id("timeline")).to_contain_text("处理中 → 已解决：已告知本期应还金额")


def test_an_unverified_ticket_shows_no_account_amounts(
    desk: str, live_database: Path, sign_in: Callable[[str], Page]
) -> None:
    borrower = add_borrower(live_database, name="赵敏")
    number = post_inbound(desk, "我的还款没有入账", sender=borrower.mobile)
    page = sign_in("agent")
    page.goto(f"{desk}/desk/tickets/{number}")
    panel = page.get_by_test_id("borrower-panel")
    expect(panel).to_contain_text("赵*")
    expect(panel).to_contain_text(borrower.mobile[:3] + "****" + borrower.mobile[-4:])
    expect(panel).to_contain_text("账户信息需完成基础验证后查看（当前：未验证）")
    expect(panel).not_to_contain_text(borrower.instalment)
    expect(panel).not_to_contain_text(borrower.contract_number)
    expect(panel).not_to_contain_text("¥")

    page.get_by_label("回复内容").fill(f"您的合同 {borrower.contract_number} 本期应还 1050.00 元")
    page.get_by_role("button", name="发送回复").click()
    expect(page.get_by_role("alert")).to_contain_text("回复中包含账户信息")
    expect(page.get_by_label("回复内容")).to_have_value(re.compile(borrower.contract_number))
    expect(page.get_by_test_id("timeline")).not_to_contain_text("本期应还")


def test_agent_sets_status_and_a_stranger_ticket_lands_in_my_queue(
    desk: str, sign_in: Callable[[str], Page]
) -> None:
    page = sign_in("agent")
    page.goto(f"{desk}/desk")
    page.get_by_label("坐席状态").select_option(label="离开")
    page.get_by_role("button", name="更新状态").click()
    expect(page.get_by_test_id("flash")).to_contain_text("坐席状态已改为「离开」")
    page.get_by_label("坐席状态").select_option(label="在线")
    page.get_by_role("button", name="更新状态").click()
    expect(page.get_by_test_id("flash")).to_contain_text("坐席状态已改为「在线」")

    number = post_inbound(desk, "你们的产品额度是多少？", sender=fresh_mobile())
    page.get_by_role("link", name="我的工单").click()
    expect(page.get_by_test_id("queue")).to_contain_text(number)
