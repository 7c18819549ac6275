"""A complaint taken through its five stages in the console, and the complaints summary."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.desk_support import fresh_mobile, post_inbound, seed_desk

STAGES = (
    ("确认", "已致电客户确认投诉事项"),
    ("分析", "调取通话录音核查"),
    ("处理", "向客户致歉"),
    ("反馈", "客户表示满意"),
)


def test_team_lead_takes_a_complaint_through_every_stage(
    live_database: Path, live_server: str, sign_in: Callable[[str], Page]
) -> None:
    seed_desk(live_database)
    number = post_inbound(live_server, "客服态度太差了，我要投诉", sender=fresh_mobile())
    page = sign_in("team_lead")
    page.goto(f"{live_server}/desk/tickets/{number}")
    complaint = page.get_by_test_id("complaint")
    expect(complaint).to_contain_text("投诉处理")
    expect(page.get_by_test_id("timeline")).to_contain_text("投诉已受理")

    for label, content in STAGES:
        page.get_by_label("环节内容").fill(content)
        page.get_by_role("button", name=f"记录「{label}」").click()
        expect(page.get_by_test_id("flash")).to_contain_text(f"投诉环节「{label}」已记录")
        expect(page.get_by_test_id("complaint")).to_contain_text(content)

    page.get_by_text("延长处理期限").click()
    page.get_by_label("延期天数").select_option("30")
    page.get_by_label("延期原因").fill("需调取第三方催收录音")
    page.get_by_role("button", name="延期").click()
    expect(page.get_by_test_id("flash")).to_contain_text("处理期限已延至 30 天")

    page.get_by_label("根因").select_option(label="服务态度")
    page.get_by_role("button", name="结案").click()
    expect(page.get_by_test_id("flash")).to_contain_text("投诉已结案（根因：服务态度）")
    expect(page.get_by_test_id("ticket-status")).to_have_text("已解决")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="投诉").click()
    expect(page.get_by_test_id("complaint-summary")).to_contain_text("已结案")
    page.get_by_role("link", name="已结案", exact=True).click()
    expect(page.get_by_test_id("complaints")).to_contain_text(number)
    expect(page.get_by_test_id("complaints")).to_contain_text("服务态度")
