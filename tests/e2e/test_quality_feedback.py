"""Quality and satisfaction in a real browser: an agent resolves a ticket, the borrower answers the
survey on its public page, the score shows on the agent's scorecard and in the dashboard, and a
severe QA failure lands in the reviewer's queue."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from lenddesk.core.db import make_engine, session_factory
from tests.conftest import PASSWORD
from tests.e2e.desk_support import fresh_mobile, post_inbound, seed_desk
from tests.feedback.delivery import survey_links


@pytest.fixture(scope="module")
def desk(live_database: Path, live_server: str) -> str:
    seed_desk(live_database)
    return live_server


def work_and_resolve(page: Page, desk: str, number: str, reply: str) -> None:
    page.goto(f"{desk}/desk/tickets/{number}")
    page.get_by_label("回复内容").fill(reply)
    page.get_by_role("button", name="发送回复").click()
    expect(page.get_by_test_id("flash")).to_contain_text("回复已发送")
    page.get_by_label("工单状态").select_option(label="已解决")
    page.get_by_role("button", name="更改状态").click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("已解决")


def survey_path(database: Path, number: str) -> str:
    """What the borrower receives: the link in the survey message, drawn when the outbox delivers it."""
    with session_factory(make_engine(f"sqlite:///{database}"))() as session:
        links = survey_links(session, datetime.now(UTC))
    assert number in links, "no survey was sent"
    return links[number]


def test_resolved_ticket_survey_scorecard_dashboard_and_severe_review(
    desk: str, live_database: Path, browser: Browser, sign_in: Callable[[str], Page]
) -> None:
    good = post_inbound(desk, "你好，我失业了，这个月还不上，能不能延期？", sender=fresh_mobile())
    severe = post_inbound(desk, "你好，我这个月晚几天还", sender=fresh_mobile())

    agent = sign_in("agent")
    work_and_resolve(
        agent,
        desk,
        good,
        "您好，我是客服小李，非常理解您的难处，可以为您申请延期还款方案，一个工作日内回复您。感谢您的耐心！",
    )
    work_and_resolve(agent, desk, severe, "你这个废物，再不还钱就等着坐牢吧")

    # The borrower opens the link on a phone, without signing in, and answers once.
    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
    borrower = phone.new_page()
    link = f"{desk}{survey_path(live_database, good)}"
    borrower.goto(link)
    expect(borrower.get_by_test_id("survey")).to_contain_text(good)
    borrower.get_by_label("5 分 · 非常满意").check()
    borrower.get_by_test_id("survey-nps").select_option("10")
    borrower.get_by_test_id("survey-comment").fill("客服态度很好，很耐心")
    borrower.get_by_test_id("survey-submit").click()
    expect(borrower.get_by_test_id("survey-thanks")).to_contain_text("5 分")
    borrower.goto(link)
    expect(borrower.get_by_test_id("survey-closed")).to_contain_text("已提交")
    phone.close()

    # The agent's own scorecard shows the answer.
    agent.goto(f"{desk}/quality/scorecards")
    cards = agent.get_by_test_id("scorecards")
    expect(cards.get_by_test_id("csat").first).to_have_text("100%")
    expect(cards.get_by_test_id("answers").first).to_have_text(re.compile(r"^[1-9]\d*$"))
    expect(agent.locator("svg.chart")).to_be_visible()

    # The team lead's dashboard counts it.
    lead = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
    lead.goto(f"{desk}/login")
    lead.get_by_label("用户名").fill("team_lead")
    lead.get_by_label("密码").fill(PASSWORD)
    lead.get_by_role("button", name="登录").click()
    lead.goto(f"{desk}/feedback?by=agent")
    expect(lead.get_by_test_id("csat")).not_to_have_text("—")
    expect(lead.get_by_test_id("feedback-groups")).to_contain_text("agent")

    # The severe conversation waits in the reviewer's queue, banned language named.
    reviewer = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
    reviewer.goto(f"{desk}/login")
    reviewer.get_by_label("用户名").fill("qa")
    reviewer.get_by_label("密码").fill(PASSWORD)
    reviewer.get_by_role("button", name="登录").click()
    reviewer.goto(f"{desk}/quality")
    row = reviewer.get_by_test_id("review-row").filter(has_text=severe)
    expect(row).to_contain_text("严重问题")
    expect(row).to_contain_text("禁用语")
    row.get_by_role("link", name=severe).click()
    expect(reviewer.get_by_test_id("item-BANNED_LANGUAGE")).to_contain_text("坐牢")
    reviewer.get_by_test_id("verdict-GREETING").select_option("n/a")
    reviewer.get_by_test_id("review-comment").fill("严重违规，需辅导")
    reviewer.get_by_test_id("submit-review").click()
    expect(reviewer.get_by_test_id("human-score")).to_have_text("0")
