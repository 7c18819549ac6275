"""The quality and feedback console pages: forms carry the CSRF token, refusals re-render in Chinese,
each role sees what it may."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.quality import service
from lenddesk.quality.models import QaCase, QaReview
from tests.conftest import PASSWORD, carry_csrf
from tests.quality.conftest import GOOD_AGENT, GOOD_BORROWER, NOW


def browser_for(app: FastAPI, role: str) -> TestClient:
    client = TestClient(app)
    client.post("/login", data={"username": role, "password": PASSWORD})
    return carry_csrf(client)


def test_reviewer_decides_in_the_console_and_the_agent_acknowledges(
    app: FastAPI, work_ticket, session: Session, desk_data, clock
) -> None:
    work_ticket(["你好"], ["你这个废物，再不还钱就等着坐牢吧"])
    review_id = session.scalar(select(QaReview.id))
    qa = browser_for(app, "qa")
    queue = qa.get("/quality")
    assert queue.status_code == 200 and "严重问题" in queue.text and "禁用语" in queue.text
    page = qa.get(f"/quality/reviews/{review_id}")
    assert "坐牢" in page.text and 'name="csrf_token"' in page.text
    bad = qa.post(f"/quality/reviews/{review_id}", data={"result_GREETING": "maybe"})
    assert bad.status_code == 422 and "结果应为" in bad.text
    done = qa.post(
        f"/quality/reviews/{review_id}",
        data={"result_GREETING": "n/a", "comment_GREETING": "电话开场未录音", "comment": "需辅导"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    again = qa.post(f"/quality/reviews/{review_id}", data={})
    assert again.status_code == 409 and "该复核已完成" in again.text
    case = qa.post(
        f"/quality/reviews/{review_id}/case",
        data={"kind": "warning", "title": "恐吓客户", "lesson": "不得虚构刑事后果", "tags": "催收，话术"},
        follow_redirects=False,
    )
    assert case.status_code == 303
    saved = session.scalar(select(QaCase))
    assert saved is not None and saved.tags == ["催收", "话术"]
    agent = browser_for(app, "agent")
    assert "需辅导" in agent.get(f"/quality/reviews/{review_id}").text
    assert (
        agent.post(f"/quality/reviews/{review_id}/acknowledge", data={"comment": "收到"}).status_code == 200
    )
    session.expire_all()
    assert session.scalar(select(QaReview.status)) == "acknowledged"
    assert "恐吓客户" in agent.get("/quality/cases", params={"q": "恐嚇"}).text


def test_a_console_form_without_the_csrf_token_is_refused(
    app: FastAPI, work_ticket, session: Session, desk_data
) -> None:
    work_ticket(["你好"], ["你这个废物"])
    review_id = session.scalar(select(QaReview.id))
    client = TestClient(app)
    client.post("/login", data={"username": "qa", "password": PASSWORD})
    assert client.post(f"/quality/reviews/{review_id}", data={}).status_code == 403
    assert session.scalar(select(QaReview.status)) == "pending"


def test_pages_by_role(app: FastAPI, work_ticket, desk_data, clock) -> None:
    work_ticket(GOOD_BORROWER, GOOD_AGENT)
    lead = browser_for(app, "team_lead")
    assert "<svg" in lead.get("/quality/scorecards", params={"period": "2026-W48", "scope": "team"}).text
    assert lead.get("/quality/scorecards", params={"period": "someday"}).status_code == 422
    dashboard = lead.get("/feedback", params={"start": "2026-11-01", "end": "2026-11-30", "by": "channel"})
    assert dashboard.status_code == 200 and "在线客服" in dashboard.text and "<svg" in dashboard.text
    assert "日期格式" in lead.get("/feedback", params={"start": "yesterday"}).text
    agent = browser_for(app, "agent")
    assert agent.get("/feedback").status_code == 403
    assert "我的计分卡" in agent.get("/quality/scorecards").text
    assert agent.get("/quality/reviews/999999").status_code == 404
    assert agent.get(f"/quality/reviews/{2**64}").status_code in (404, 422)
    assert TestClient(app).get("/quality", follow_redirects=False).status_code == 303


def test_every_agent_gets_a_sampled_conversation_each_week(
    work_ticket, session: Session, desk_data, monkeypatch
) -> None:
    monkeypatch.setattr(
        service,
        "quality_policy",
        lambda: service.get_policy().quality.model_copy(update={"sample_share": 0.0}),
    )
    work_ticket(GOOD_BORROWER, GOOD_AGENT)
    assert session.scalar(select(QaReview.id)) is None
    since = service.week_start(NOW)
    assert service.sample_quiet_agents(session, since=since, now=NOW) == 1
    session.commit()
    assert service.sample_quiet_agents(session, since=since, now=NOW) == 0
    assert session.scalar(select(QaReview.reason)) == "sample"
