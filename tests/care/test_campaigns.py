"""Care campaigns: texts (422 in Chinese and English), four-eyes approval, the preview's exclusions
at their boundaries, launch through the outbox once per borrower."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from lenddesk.care.models import Send
from lenddesk.core.db import session_factory
from lenddesk.desk.models import OutboxMessage
from lenddesk.ledger import service as ledger
from tests.care.conftest import CAMPAIGNS, NOW, SIGNED, Clock, consent, draft, make_borrowers, preview

Headers = Callable[[str], dict[str, str]]


def _outbox(engine: Engine) -> list[tuple[str, str, str]]:
    with session_factory(engine)() as session:
        rows = session.execute(
            select(OutboxMessage.recipient, OutboxMessage.kind, OutboxMessage.channel)
        ).all()
    return sorted((r.recipient, r.kind, r.channel) for r in rows)


# --- texts -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "text", "code"),
    [
        ("greeting", "祝您节日快乐！", "marketing_footer"),  # no signature, no 退订
        ("greeting", "祝您节日快乐！【LendDesk 消费金融】", "marketing_footer"),  # no 退订
        ("offer", "专享优惠，回复TD退订", "marketing_footer"),  # no signature
        ("offer", "回复TD退订【LendDesk 消费金融】还款享优惠", "marketing_footer"),  # not at the end
        ("education", "您已被列入黑名单", "blacklist_word"),
        ("education", "您已被列入黑 名 單", "blacklist_word"),  # spaced, Traditional
        ("greeting", "ＨＥＩＭＩＮＧＤＡＮ【LendDesk 消费金融】回复TD退订", "blacklist_word"),
        ("education", "再不还钱就抓你去坐牢", "guard_false_consequence"),
        ("revisit", "请回电，您登记的手机 13912345678 已停用", "guard_privacy"),
    ],
)
def test_a_text_that_breaks_a_rule_is_refused_with_422_in_both_languages(
    client: TestClient, as_role: Headers, clock: Clock, kind: str, text: str, code: str
) -> None:
    body = {"name": "x", "kind": kind, "channel": "sms", "text": text, "audience": {"segment": "all"}}
    response = client.post(CAMPAIGNS, json=body, headers=as_role("team_lead"))
    assert response.status_code == 422, response.text
    answer = response.json()
    assert code in answer["details"]["problems"]
    assert answer["message_zh"] and answer["message_en"] and answer["message_zh"] != answer["message_en"]


@pytest.mark.parametrize(
    "text",
    [
        SIGNED,
        "新春快乐！回T退订 —LendDesk 消费金融",  # instruction first, then the signature
        "中秋快乐。[LendDesk 消费金融] 退订回TD。",
        "中秋快乐。【ＬｅｎｄＤｅｓｋ 消费金融】回复ｔｄ退订",  # full-width, lower case
    ],
)
def test_a_marketing_text_ending_with_signature_and_opt_out_is_accepted(
    client: TestClient, as_role: Headers, clock: Clock, text: str
) -> None:
    assert draft(client, as_role("team_lead"), text=text)["status"] == "draft"


def test_an_education_text_needs_no_marketing_footer(
    client: TestClient, as_role: Headers, clock: Clock
) -> None:
    text = "防诈骗提示：我司工作人员不会索要您的验证码。"
    assert draft(client, as_role("team_lead"), kind="education", text=text)["status"] == "draft"


# --- four eyes ---------------------------------------------------------------------------------------------


def test_only_compliance_other_than_the_creator_approves(
    client: TestClient, as_role: Headers, clock: Clock, second_compliance: str
) -> None:
    mine = draft(client, as_role("compliance"))
    refused = client.post(f"{CAMPAIGNS}/{mine['id']}/approve", headers=as_role("compliance"))
    assert refused.status_code == 403 and refused.json()["code"] == "four_eyes"
    theirs = draft(client, as_role("team_lead"))
    assert client.post(f"{CAMPAIGNS}/{theirs['id']}/approve", headers=as_role("team_lead")).status_code == 403
    assert client.post(f"{CAMPAIGNS}/{theirs['id']}/approve", headers=as_role("agent")).status_code == 403
    approved = client.post(f"{CAMPAIGNS}/{mine['id']}/approve", headers=as_role(second_compliance))
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    again = client.post(f"{CAMPAIGNS}/{mine['id']}/approve", headers=as_role(second_compliance))
    assert again.status_code == 409


def test_a_draft_cannot_be_launched(
    client: TestClient, as_role: Headers, clock: Clock, borrowers: list[int]
) -> None:
    campaign = draft(client, as_role("team_lead"), borrowers)
    response = client.post(f"{CAMPAIGNS}/{campaign['id']}/launch", headers=as_role("team_lead"))
    assert response.status_code == 409 and response.json()["code"] == "not_approved"


# --- eligibility -------------------------------------------------------------------------------------------


def test_only_consented_borrowers_are_eligible_and_a_revoked_consent_stops(
    client: TestClient, as_role: Headers, clock: Clock, borrowers: list[int], approved: Callable[..., int]
) -> None:
    lead = as_role("team_lead")
    granted = consent(client, lead, borrowers[0])
    consent(client, lead, borrowers[1])
    consent(client, lead, borrowers[2], channel="email")  # another channel
    campaign = approved(borrowers)
    assert preview(client, lead, campaign) == {
        "campaign_id": campaign,
        "audience": 4,
        "eligible": 2,
        "excluded": {"no_consent": 2},
    }
    revoked = client.post(
        f"/api/v1/care/borrowers/{borrowers[0]}/consents/{granted['id']}/revoke",
        json={"evidence": "客户来电要求撤回，录音 R-1"},
        headers=lead,
    )
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert preview(client, lead, campaign)["excluded"] == {"no_consent": 3}


def test_an_active_incident_leaves_out_the_borrowers_it_covers(
    client: TestClient, as_role: Headers, clock: Clock, engine: Engine, approved: Callable[..., int]
) -> None:
    """Care reads the incidents room through its exclusion registry: an incident on another product
    leaves the audience alone; one on theirs (paused outbound or not) leaves them all out."""
    lead = as_role("team_lead")
    covered, elsewhere = make_borrowers(engine, 2), make_borrowers(engine, 1)
    for borrower in covered + elsewhere:
        consent(client, lead, borrower)
    with session_factory(engine)() as session:
        codes = {
            borrower: ledger.open_loan_products(session, borrower_id=borrower).popitem()[1]
            for borrower in covered + elsewhere
        }
    campaign = approved(covered)
    assert preview(client, lead, campaign)["eligible"] == 2
    declared = client.post(
        "/api/v1/incidents",
        json={
            "kind": "outage",
            "title": "还款通道故障",
            "public_notice": "部分还款渠道暂不可用，我们正在处理。",
            "pause_outbound": False,
            "products": [codes[elsewhere[0]]],
        },
        headers=lead,
    )
    assert declared.status_code == 201, declared.text
    assert preview(client, lead, campaign)["eligible"] == 2  # another product's incident
    client.post(
        "/api/v1/incidents",
        json={
            "kind": "outage",
            "title": "核心系统故障",
            "public_notice": "系统维护中。",
            "pause_outbound": False,
            "products": [codes[covered[0]]],
        },
        headers=lead,
    )
    assert preview(client, lead, campaign)["excluded"] == {"active_incident": 2}


@pytest.mark.parametrize(
    ("window", "eligible"),
    [
        (("10:00", "12:00"), True),  # opens exactly now (10:00): inside
        (("09:00", "10:00"), False),  # closes exactly now: outside (the end is exclusive)
        (("10:01", "18:00"), False),  # not yet open
        (("00:00", "24:00"), True),
    ],
)
def test_the_contact_window_edges(
    client: TestClient,
    as_role: Headers,
    clock: Clock,
    borrowers: list[int],
    approved: Callable[..., int],
    window: tuple[str, str],
    eligible: bool,
) -> None:
    lead = as_role("team_lead")
    consent(client, lead, borrowers[0])
    body = {
        "channel": "sms",
        "contact_window": {"start": window[0], "end": window[1]},
        "topics": [],
        "personalised": False,
    }
    assert (
        client.put(f"/api/v1/care/borrowers/{borrowers[0]}/preferences", json=body, headers=lead).status_code
        == 200
    )
    campaign = approved([borrowers[0]])
    expected = (
        {"eligible": 1, "excluded": {}} if eligible else {"eligible": 0, "excluded": {"outside_window": 1}}
    )
    found = preview(client, lead, campaign)
    assert {"eligible": found["eligible"], "excluded": found["excluded"]} == expected


def test_the_default_window_applies_to_a_borrower_without_one(
    client: TestClient, as_role: Headers, clock: Clock, borrowers: list[int], approved: Callable[..., int]
) -> None:
    lead = as_role("team_lead")
    consent(client, lead, borrowers[0])
    campaign = approved([borrowers[0]])
    clock.now = NOW.replace(hour=12)  # 20:00 in Shanghai: the default 09:00–20:00 has just closed
    assert preview(client, lead, campaign)["excluded"] == {"outside_window": 1}
    clock.now = NOW.replace(hour=11, minute=59)
    assert preview(client, lead, campaign)["eligible"] == 1


def test_two_marketing_messages_in_30_days_exclude_a_third(
    client: TestClient,
    as_role: Headers,
    clock: Clock,
    borrowers: list[int],
    approved: Callable[..., int],
    engine: Engine,
) -> None:
    lead = as_role("team_lead")
    first = borrowers[0]
    consent(client, lead, first)
    for name in ("一", "二"):
        campaign = approved([first], name=name)
        assert client.post(f"{CAMPAIGNS}/{campaign}/launch", headers=lead).json()["queued"] == 1
    third = approved([first], name="三")
    assert preview(client, lead, third)["excluded"] == {"marketing_cap": 1}
    # An education message is no marketing: it neither counts nor is capped.
    consent(client, lead, first, purpose="education")
    lesson = approved([first], kind="education", text="反诈提示：我们不会索要验证码。")
    assert preview(client, lead, lesson)["eligible"] == 1
    # Both went out at the same instant; a second before 30 days have passed they still count, at
    # exactly 30 days they have left the window (it is the 30 days before now, now excluded).
    with session_factory(engine)() as session:
        sent_at = session.scalar(select(func.max(Send.sent_at)))
    assert sent_at is not None
    clock.now = sent_at + timedelta(days=30, seconds=-1)
    assert preview(client, lead, third)["excluded"] == {"marketing_cap": 1}
    clock.now = sent_at + timedelta(days=30)
    assert preview(client, lead, third)["eligible"] == 1


def test_launch_queues_each_eligible_borrower_once_through_the_outbox(
    client: TestClient,
    as_role: Headers,
    clock: Clock,
    borrowers: list[int],
    approved: Callable[..., int],
    engine: Engine,
) -> None:
    lead = as_role("team_lead")
    for borrower in borrowers[:3]:
        consent(client, lead, borrower)
    campaign = approved(borrowers)
    first = client.post(f"{CAMPAIGNS}/{campaign}/launch", headers=lead)
    assert first.status_code == 200 and first.json() == {
        "campaign_id": campaign,
        "queued": 3,
        "already": 0,
        "status": "launched",
    }
    again = client.post(f"{CAMPAIGNS}/{campaign}/launch", headers=lead)
    assert again.json()["queued"] == 0
    outbox = _outbox(engine)
    assert len(outbox) == 3 and {kind for _, kind, _ in outbox} == {"marketing"}
    results = client.get(f"{CAMPAIGNS}/{campaign}/results", headers=lead).json()
    assert results == {"campaign_id": campaign, "sends": 3, "launches": 2, "delivery": {"queued": 3}}


def test_a_campaign_for_another_day_waits_for_it(
    client: TestClient, as_role: Headers, clock: Clock, borrowers: list[int], approved: Callable[..., int]
) -> None:
    lead = as_role("team_lead")
    consent(client, lead, borrowers[0])
    campaign = approved([borrowers[0]], festival="new_year")  # 2027-01-01
    found = client.get(f"{CAMPAIGNS}/{campaign}", headers=lead).json()
    assert found["send_on"] == "2027-01-01"
    refused = client.post(f"{CAMPAIGNS}/{campaign}/launch", headers=lead)
    assert refused.status_code == 409 and refused.json()["code"] == "not_send_day"


def test_a_greeting_for_the_spring_festival_2027_comes_from_the_lunar_calendar(
    client: TestClient, as_role: Headers, clock: Clock
) -> None:
    campaign = draft(client, as_role("team_lead"), festival="spring_festival")
    assert campaign["send_on"] == "2027-02-06"  # 正月初一 of 2027 (chinesecalendar stops at 2026)


# --- hostile input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "kind": "spam", "channel": "sms", "text": "t"},
        {"name": "x", "kind": "education", "channel": "pigeon", "text": "t"},
        {"name": "x", "kind": "education", "channel": "sms", "text": "t", "audience": {"borrower_ids": [0]}},
        {
            "name": "x",
            "kind": "education",
            "channel": "sms",
            "text": "t",
            "audience": {"borrower_ids": [2**63]},
        },
        {
            "name": "x",
            "kind": "education",
            "channel": "sms",
            "text": "t",
            "audience": {"borrower_ids": [1], "segment": "all"},
        },
        {
            "name": "x",
            "kind": "education",
            "channel": "sms",
            "text": "t",
            "audience": {"segment": "x' OR 1=1 --"},
        },
        {"name": "x", "kind": "education", "channel": "sms", "text": "t" * 501},
        {"name": "x", "kind": "education", "channel": "sms", "text": "t", "send_on": "2026-11-30"},
        {"name": "x", "kind": "education", "channel": "sms", "text": "t", "festival": "spring_festival"},
        {"name": "x", "kind": "greeting", "channel": "sms", "text": SIGNED, "festival": "halloween"},
        {"name": "   ", "kind": "education", "channel": "sms", "text": "t"},
        {"name": "x", "kind": "education", "channel": "sms", "text": "t", "admin": True},
    ],
)
def test_hostile_campaign_bodies_are_422(
    client: TestClient, as_role: Headers, clock: Clock, body: dict
) -> None:
    response = client.post(CAMPAIGNS, json=body, headers=as_role("team_lead"))
    assert response.status_code == 422, response.text


def test_campaign_ids_out_of_range_and_unknown(client: TestClient, as_role: Headers, clock: Clock) -> None:
    lead = as_role("team_lead")
    assert client.get(f"{CAMPAIGNS}/{2**63}/preview", headers=lead).status_code == 422
    assert client.get(f"{CAMPAIGNS}/999999/preview", headers=lead).status_code == 404
    assert client.post(f"{CAMPAIGNS}/999999/launch", headers=lead).status_code == 404
    assert client.get(f"{CAMPAIGNS}/1/preview").status_code == 401
