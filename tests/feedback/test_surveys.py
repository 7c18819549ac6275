"""Surveys: sent through the desk outbox when a ticket is resolved, answered once on the public page,
never reusable, guessable or answerable after expiry; low scores call back; the summary adds up."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core.models import AuditEntry
from lenddesk.desk.models import FollowUp, OutboxMessage
from lenddesk.feedback import service
from lenddesk.feedback.models import Survey
from lenddesk.quality.models import QaReview
from tests.feedback.conftest import GOOD_AGENT, GOOD_BORROWER, NOW, user_id
from tests.feedback.delivery import LINK, deliver, survey_links


def survey_link(session: Session, number: str) -> str:
    """The link in the survey the borrower received for ticket `number` (delivering the outbox first)."""
    session.expire_all()
    links = survey_links(session, NOW)
    assert number in links, "no survey delivered"
    return links[number]


def answer(client: TestClient, link: str, csat: str = "5", nps: str = "", comment: str = ""):  # type: ignore[no-untyped-def]
    return client.post(link, data={"csat": csat, "nps": nps, "comment": comment})


def test_resolving_sends_a_survey_on_the_tickets_channel_and_stores_only_the_tokens_hash(
    work_ticket, session: Session, desk_data
) -> None:
    number = work_ticket(GOOD_BORROWER, GOOD_AGENT)
    link = survey_link(session, number)
    token = link.rsplit("/", 1)[1]
    survey = session.scalar(select(Survey))
    assert survey is not None and survey.status == "sent" and survey.sent_on == "chat"
    assert survey.token_hash == service.token_hash(token) and token not in (survey.token_hash or "")
    assert survey.expires_at == NOW + timedelta(hours=72)
    outbox = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "survey"))
    assert outbox is not None and outbox.recipient == "13900001111"


def test_the_survey_token_rests_nowhere_but_in_the_message_the_borrower_receives(
    work_ticket, client: TestClient, session: Session, desk_data, tmp_path: Path
) -> None:
    number = work_ticket(GOOD_BORROWER, GOOD_AGENT)
    session.expire_all()
    survey = session.scalar(select(Survey))
    assert survey is not None and survey.status == "sent" and survey.token_hash is None
    delivered = deliver(session, NOW, tmp_path)
    received = [m for m in delivered if m.kind == "survey"]
    assert len(received) == 1 and number in received[0].body
    found = LINK.search(received[0].body)
    assert found, received[0].body
    token = found.group(1)
    stored = " ".join(session.scalars(select(OutboxMessage.body)).all())
    assert token not in stored and not LINK.search(stored)
    logged = "".join(path.read_text(encoding="utf-8") for path in tmp_path.glob("*.jsonl"))
    assert number in logged and token not in logged and not LINK.search(logged)
    session.refresh(survey)
    assert survey.token_hash == service.token_hash(token)
    assert deliver(session, NOW, tmp_path) == []  # delivered once: no second token drawn
    assert answer(client, found.group(0), "4").status_code == 200
    assert answer(client, found.group(0), "1").status_code == 409


def test_the_borrower_answers_once_without_signing_in(
    work_ticket, client: TestClient, session: Session, desk_data
) -> None:
    link = survey_link(session, work_ticket(GOOD_BORROWER, GOOD_AGENT))
    page = client.get(link)
    assert page.status_code == 200 and 'data-testid="survey-form"' in page.text
    done = answer(client, link, "5", "9", "客服态度很好，很耐心，谢谢！")
    assert done.status_code == 200 and 'data-testid="survey-thanks"' in done.text
    survey = session.scalar(select(Survey))
    assert survey is not None
    session.refresh(survey)
    assert (survey.status, survey.csat, survey.nps, survey.sentiment) == ("answered", 5, 9, "positive")
    assert "attitude" in (survey.topics or [])
    again = answer(client, link, "1")
    assert again.status_code == 409 and "已提交" in again.text
    session.refresh(survey)
    assert survey.csat == 5
    assert client.get(link).status_code == 200 and "已提交" in client.get(link).text
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "survey.answer")) is not None


def test_a_guessed_or_malformed_token_finds_nothing(
    work_ticket, client: TestClient, session: Session, desk_data
) -> None:
    work_ticket(GOOD_BORROWER, GOOD_AGENT)
    for token in (secrets.token_urlsafe(32), "x", "' OR 1=1 --", "%F0%9F%92%A9" * 30, "１" * 43):
        assert client.get(f"/survey/{token}").status_code == 404
        assert answer(client, f"/survey/{token}").status_code == 404
    assert session.scalar(select(Survey.status)) == "sent"


def test_an_expired_survey_cannot_be_answered(
    work_ticket, client: TestClient, session: Session, desk_data, clock
) -> None:
    link = survey_link(session, work_ticket(GOOD_BORROWER, GOOD_AGENT))
    clock.now = NOW + timedelta(hours=72)
    assert "已过期" in client.get(link).text
    refused = answer(client, link, "4")
    assert refused.status_code == 409 and "已过期" in refused.text
    assert session.scalar(select(Survey.status)) == "sent"


@pytest.mark.parametrize(
    ("csat", "nps", "comment"),
    [("0", "", ""), ("6", "", ""), ("", "", ""), ("5", "11", ""), ("9" * 30, "", ""), ("5", "", "好" * 1001)],
)
def test_bad_answers_are_refused_and_nothing_is_written(
    work_ticket, client: TestClient, session: Session, desk_data, csat: str, nps: str, comment: str
) -> None:
    link = survey_link(session, work_ticket(GOOD_BORROWER, GOOD_AGENT))
    response = answer(client, link, csat, nps, comment)
    assert 400 <= response.status_code < 500
    assert session.scalar(select(Survey.status)) == "sent"


def test_hostile_comment_text_is_refused_or_stored_as_written(
    work_ticket, client: TestClient, session: Session, desk_data
) -> None:
    link = survey_link(session, work_ticket(GOOD_BORROWER, GOOD_AGENT))
    script = "<script>alert(1)</script>還款很方便，客服態度不錯"
    assert answer(client, link, "4", "", script).status_code == 200
    session.expire_all()
    assert session.scalar(select(Survey.comment)) == script
    assert session.scalar(select(Survey.sentiment)) == "positive"


def test_a_low_score_opens_a_call_back_for_the_team_lead_and_a_review(
    work_ticket, client: TestClient, session: Session, desk_data
) -> None:
    number = work_ticket(GOOD_BORROWER, GOOD_AGENT)
    assert answer(client, survey_link(session, number), "1", "0", "等太久了，问题也没解决").status_code == 200
    session.expire_all()
    follow_up = session.scalar(select(FollowUp))
    assert follow_up is not None and follow_up.owner_id == user_id(session, "team_lead")
    assert "回访" in follow_up.note and "1 分" in follow_up.note
    assert follow_up.due_at == NOW + timedelta(hours=24)
    review = session.scalar(select(QaReview))
    assert review is not None and review.reason == "low_csat"
    survey = session.scalar(select(Survey))
    assert (
        survey is not None and survey.sentiment == "negative" and survey.callback_follow_up_id == follow_up.id
    )


def test_an_opted_out_borrower_gets_no_survey(work_ticket, session: Session, desk_data) -> None:
    from lenddesk.desk import service as desk

    desk.record_opt_out(
        session, channel="chat", address="13900001111", borrower_id=None, source="agent", now=NOW
    )
    session.commit()
    work_ticket(GOOD_BORROWER, GOOD_AGENT)
    survey = session.scalar(select(Survey))
    assert survey is not None and survey.status == "unsent" and survey.unsent_reason == "opted_out"
    assert session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "survey")) is None


def test_a_reopened_and_re_resolved_ticket_gets_a_new_survey(
    work_ticket, client: TestClient, as_role, session: Session, desk_data
) -> None:
    number = work_ticket(GOOD_BORROWER, GOOD_AGENT)
    url = f"/api/v1/desk/tickets/{number}/status"
    assert client.post(url, json={"status": "open"}, headers=as_role("agent")).status_code == 200
    assert client.post(url, json={"status": "resolved"}, headers=as_role("agent")).status_code == 200
    assert len(session.scalars(select(Survey)).all()) == 2


def test_the_summary_counts_csat_nps_and_response_rate(
    work_ticket, client: TestClient, as_role, session: Session, desk_data
) -> None:
    answers = [("5", "10"), ("4", "9"), ("2", "3"), (None, None)]
    for index, (csat, nps) in enumerate(answers):
        number = work_ticket(GOOD_BORROWER, GOOD_AGENT, sender=f"1390000{index:04d}")
        if csat:
            assert answer(client, survey_link(session, number), csat, nps).status_code == 200
    response = client.get(
        "/api/v1/feedback/summary",
        params={"from": "2026-11-24", "to": "2026-11-24", "by": "channel"},
        headers=as_role("team_lead"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["sent"], body["answered"], body["response_rate"]) == (4, 3, 0.75)
    assert body["by_score"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    assert body["csat"] == round(2 / 3, 4)
    assert body["nps"] == round(100 * (2 - 1) / 3, 1)
    assert [g["key"] for g in body["groups"]] == ["chat"] and body["groups"][0]["answered"] == 3
    outside = client.get(
        "/api/v1/feedback/summary", params={"from": "2026-11-25", "to": "2026-11-30"}, headers=as_role("qa")
    )
    assert outside.json()["sent"] == 0 and outside.json()["csat"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-11-24", "to": "2026-11-23"},
        {"from": "2026-13-01", "to": "2026-11-24"},
        {"from": "99999-01-01", "to": "2026-11-24"},
        {"from": "2026-11-01", "to": "2026-11-24", "by": "planet"},
        {"to": "2026-11-24"},
    ],
)
def test_bad_summary_requests_are_422(client: TestClient, as_role, params) -> None:
    response = client.get("/api/v1/feedback/summary", params=params, headers=as_role("team_lead"))
    assert response.status_code == 422 and {"code", "message_zh", "message_en"} <= set(response.json())


def test_agents_do_not_see_the_dashboard(client: TestClient, as_role) -> None:
    params = {"from": "2026-11-01", "to": "2026-11-24"}
    assert client.get("/api/v1/feedback/summary", params=params, headers=as_role("agent")).status_code == 403
