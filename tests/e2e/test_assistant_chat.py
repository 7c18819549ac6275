"""The web chat in a real browser: an FAQ answer, anger handed off, the agent replies live from the
console, and the borrower sees it (and a reload loses nothing)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.desk_support import seed_desk


@pytest.fixture(scope="module")
def desk(live_database: Path, live_server: str) -> str:
    seed_desk(live_database)  # idempotent: other modules of the session may have seeded it
    return live_server


def test_borrower_asks_gets_angry_and_an_agent_answers_live(
    desk: str, browser: Browser, sign_in: Callable[[str], Page]
) -> None:
    borrower = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 390, "height": 800}
    )
    chat = borrower.new_page()
    chat.set_default_timeout(10_000)
    chat.goto(f"{desk}/chat")
    lines = chat.get_by_test_id("chat-lines")

    chat.get_by_test_id("chat-input").fill("请问怎么还款？可以用支付宝吗")
    chat.get_by_test_id("chat-send").click()
    # The first message loads the models in the fresh server: allow it a minute.
    expect(lines.locator("li[data-author=bot]").last).to_contain_text("自动扣款", timeout=60_000)

    chat.get_by_test_id("chat-input").fill("扣了我两次钱！！！你们这什么垃圾平台")
    chat.get_by_test_id("chat-send").click()
    expect(chat.get_by_test_id("chat-status")).to_contain_text("已转人工客服")
    expect(lines.locator("li[data-author=bot]").last).to_contain_text("工单号")

    agent = sign_in("agent")
    agent.goto(f"{desk}/assistant/chats")
    agent.get_by_test_id("open-chat").first.click()
    workspace = agent.get_by_test_id("workspace-lines")
    expect(workspace).to_contain_text("垃圾平台")
    expect(workspace).to_contain_text("请问怎么还款")
    agent.get_by_test_id("workspace-reply").fill("您好，我是李客服，马上为您核查重复扣款。")
    agent.get_by_test_id("workspace-send").click()
    expect(agent.get_by_test_id("workspace-lines")).to_contain_text("马上为您核查重复扣款")

    expect(lines.locator("li[data-author=agent]")).to_contain_text("马上为您核查重复扣款")
    chat.reload()  # a reconnect loses nothing
    expect(chat.get_by_test_id("chat-lines").locator("li[data-author=agent]")).to_contain_text(
        "马上为您核查重复扣款"
    )
    expect(chat.get_by_test_id("chat-lines").locator("li[data-author=borrower]")).to_have_count(2)
    borrower.close()
