"""Counters of different keys and window lengths side by side, shared by the SQLite and Redis tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from lenddesk.core import throttle

CONTACT_FORM = {"phone": "", "email": "", "name": "张先生", "message": "我的还款失败了，请帮忙看看"}


def hits_of_one_key_survive_other_keys(
    session: Session, first: throttle.Throttle, second: throttle.Throttle
) -> None:
    """`first` counts 60-minute windows, `second` 15-minute ones: `second`'s traffic, hours later
    included, leaves every live `first` counter alone, and each key keeps its own count."""
    now = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
    hour = throttle.Window.at(now, 60)
    for _ in range(3):
        first.hit(session, "contact:198.51.100.1", hour)
    for minutes_later in (0, 20, 40, 55):
        later = now + timedelta(minutes=minutes_later)
        second.hit(session, "official:198.51.100.1", throttle.Window.at(later, 15))
        second.hit(session, "contact:198.51.100.1", throttle.Window.at(later, 15))  # same key, other length
    assert first.estimate(session, "contact:198.51.100.1", hour) == 3
    assert first.hit(session, "contact:198.51.100.1", hour) == 4


def contact_posts_with_lookups_between(app: FastAPI, limit: int) -> list[int]:
    """One official-number look-up before each contact-form post, from one address; the posts' statuses."""
    browser = TestClient(app, client=("198.51.100.77", 50000))
    statuses = []
    for n in range(limit + 2):
        lookup = browser.get("/api/v1/assistant/verify-official", params={"phone": "95555"})
        assert lookup.status_code == 200, lookup.text
        form = {**CONTACT_FORM, "phone": f"139{n:08d}", "website": ""}
        statuses.append(browser.post("/contact", data=form).status_code)
    return statuses
