"""Negotiation in a real browser: an agent opens a hardship ticket, compares options and proposes a
re-instalment; the team lead approves; the borrower's acceptance applies it; the schedule shows the
new plan and the ticket the confirmation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from lenddesk.core.db import make_engine, session_factory, utcnow
from tests.negotiation.support import hardship_book


def test_hardship_ticket_to_applied_agreement(
    live_database: Path, live_server: str, sign_in: Callable[[str], Page]
) -> None:
    engine = make_engine(f"sqlite:///{live_database}")
    with session_factory(engine)() as session:
        book = hardship_book(session, sequence=901, now=utcnow())
    engine.dispose()

    page = sign_in("agent")
    page.goto(f"{live_server}/desk/tickets/{book.ticket_number}")
    page.get_by_test_id("open-negotiation").click()
    form = page.get_by_test_id("open-case")
    form.get_by_label("困难原因").select_option(label="失业")
    form.get_by_label("月还款能力（元）").fill("1500")
    form.get_by_role("button", name="建立案件").click()
    expect(page.get_by_test_id("negotiation-notice")).to_contain_text("已建立协商案件")
    options = page.get_by_test_id("options")
    for title in ("展期1个月", "分24期还款", "停息挂账", "减免100%罚息和滞纳金 + 分24期"):
        expect(options).to_contain_text(title)
    expect(page.get_by_test_id("options-chart").locator("circle")).to_have_count(
        options.locator("tbody tr").count() + 1
    )
    page.get_by_test_id("propose-RI24").click()
    expect(page.get_by_test_id("negotiation-notice")).to_contain_text("已提交审批")
    expect(page.get_by_test_id("proposals")).to_contain_text("pending_approval")

    lead = sign_in("team_lead")
    lead.get_by_role("navigation", name="主导航").get_by_role("link", name="协商审批").click()
    queue = lead.get_by_test_id("approvals")
    expect(queue).to_contain_text(book.contract_number)
    row = queue.locator("tr", has_text=book.contract_number)
    row.get_by_placeholder("审批意见").fill("收入证明已核实")
    row.get_by_role("button", name="批准").click()
    expect(lead.get_by_test_id("negotiation-notice")).to_contain_text("已批准")

    page = sign_in("agent")
    page.goto(f"{live_server}/negotiation/tickets/{book.ticket_number}")
    proposals = page.get_by_test_id("proposals")
    proposals.get_by_text("协议预览与确认").click()
    expect(proposals).to_contain_text("第1期")
    proposals.get_by_test_id("evidence").fill("我同意分24期还款")
    proposals.get_by_role("button", name="借款人已确认，生成协议").click()
    agreement = page.get_by_test_id("agreement")
    expect(agreement).to_contain_text("还款协商协议")
    expect(agreement).to_contain_text("第24期")
    number = agreement.locator("pre").inner_text().split("协议编号：")[1].split("\n")[0].strip()

    page.goto(f"{live_server}/loans/{book.contract_number}?ticket={book.ticket_number}")
    schedule = page.get_by_test_id("schedule")
    expect(schedule.locator("tbody tr")).to_have_count(36)  # 12 closed or paid, 24 new: nothing deleted
    page.goto(f"{live_server}/desk/tickets/{book.ticket_number}")
    expect(page.get_by_test_id("timeline")).to_contain_text(f"协议编号 {number}")
    expect(page.get_by_test_id("timeline")).to_contain_text("新还款计划共24期")
