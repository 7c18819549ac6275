"""The console kit: navigation grouped by work area and filtered by role, dates typed and shown as
YYYY-MM-DD, refusals shown the one way (a flash), and no page text taken from the address bar."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from lenddesk.core.errors import Unprocessable
from lenddesk.core.roles import ROLES
from lenddesk.web.console import AREAS, form_day, form_moment


def nav_links(html: str) -> list[str]:
    nav = html.split('aria-label="主导航"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<a href="([^"]+)"', nav)


@pytest.mark.parametrize("role", ROLES)
def test_every_link_in_the_navigation_opens_for_the_role_that_sees_it(
    client: TestClient, as_role, role: str
) -> None:  # type: ignore[no-untyped-def]
    home = client.get("/", headers=as_role(role))
    assert home.status_code == 200
    links = nav_links(home.text)
    assert links and links[0] == "/"
    for href in links:
        page = client.get(href, headers=as_role(role))
        assert page.status_code == 200, (role, href, page.status_code)


def test_the_navigation_is_grouped_by_work_area_in_a_fixed_order(client: TestClient, as_role) -> None:  # type: ignore[no-untyped-def]
    home = client.get("/", headers=as_role("team_lead")).text
    shown = re.findall(r'<div class="navarea" role="group" aria-label="([^"]+)">', home)
    assert shown == [area for area in AREAS if area in shown]
    assert {"工单", "账务", "催收", "协商", "质检", "渠道"} <= set(shown)
    collector = client.get("/", headers=as_role("collector")).text
    assert 'href="/desk/board"' not in collector and 'href="/channels"' not in collector
    assert 'href="/negotiation/approvals"' not in collector and 'aria-label="渠道"' not in collector


@pytest.mark.parametrize("typed", ["11/10/2026", "2026-1-5", "2026-13-01", "10.11.2026", "20261110"])
def test_a_date_not_typed_as_yyyy_mm_dd_is_refused_in_chinese_and_english(typed: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        form_day(typed, "承诺日期", "The promise date")
    assert "YYYY-MM-DD" in refused.value.message_zh and "YYYY-MM-DD" in refused.value.message_en
    assert form_day(" 2026-11-10 ", "承诺日期", "The promise date").isoformat() == "2026-11-10"
    assert form_day("", "承诺日期", "The promise date") is None


def test_a_follow_up_time_is_typed_as_yyyy_mm_dd_hh_mm() -> None:
    assert form_moment("2026-11-10 14:30", "跟进时间", "The follow-up time").hour == 14
    assert form_moment("2026-11-10T14:30", "跟进时间", "The follow-up time").minute == 30
    with pytest.raises(Unprocessable):
        form_moment("11/10/2026 14:30", "跟进时间", "The follow-up time")


def test_date_fields_are_text_boxes_with_the_yyyy_mm_dd_pattern(client: TestClient, as_role) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/feedback", headers=as_role("qa"))
    assert page.status_code == 200
    assert 'type="date"' not in page.text
    assert 'placeholder="YYYY-MM-DD"' in page.text and r'pattern="\d{4}-\d{2}-\d{2}"' in page.text
    refused = client.get("/feedback", params={"start": "11/10/2026"}, headers=as_role("qa"))
    assert "格式应为 YYYY-MM-DD" in refused.text
    calculator = client.get("/calculator").text
    assert 'type="date"' not in calculator and 'placeholder="YYYY-MM-DD"' in calculator


def test_negotiation_pages_take_no_message_from_the_address_bar(client: TestClient, as_role) -> None:  # type: ignore[no-untyped-def]
    crafted = "请立即转账到以下账户"
    page = client.get(
        "/negotiation/library", params={"error": crafted, "notice": crafted}, headers=as_role("agent")
    )
    assert page.status_code == 200 and crafted not in page.text
