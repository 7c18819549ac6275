"""The care console: 关怀活动 drafted, previewed with the exclusion reasons, approved by another
person, launched and its results shown; the 客户画像 panel on the borrower 360 (no contact details)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from lenddesk.care.models import Campaign
from lenddesk.core.db import session_factory
from lenddesk.ledger.models import Borrower
from tests.care.conftest import SIGNED, Clock, consent
from tests.conftest import PASSWORD, carry_csrf


def signed_in(app: FastAPI, role: str) -> TestClient:
    browser = TestClient(app)
    browser.post("/login", data={"username": role, "password": PASSWORD})
    return carry_csrf(browser)


def test_a_campaign_goes_from_draft_to_results_in_the_console(
    app: FastAPI, client: TestClient, as_role, clock: Clock, borrowers: list[int], engine: Engine
) -> None:
    consent(client, as_role("team_lead"), borrowers[0])
    lead = signed_in(app, "team_lead")
    assert "关怀活动" in lead.get("/").text
    refused = lead.post(
        "/care/campaigns", data={"name": "问候", "kind": "greeting", "channel": "sms", "text": "节日快乐"}
    )
    assert refused.status_code == 422 and "退订" in refused.text
    ids = ",".join(str(b) for b in borrowers[:2])
    made = lead.post(
        "/care/campaigns",
        data={"name": "问候", "kind": "greeting", "channel": "sms", "text": SIGNED, "borrower_ids": ids},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    with session_factory(engine)() as session:
        campaign_id = session.scalar(select(Campaign.id))
    page = lead.get(f"/care/campaigns/{campaign_id}")
    assert (
        page.status_code == 200
        and "未同意接收" in page.text
        and 'data-testid="preview-eligible">1<' in page.text
    )
    assert "批准" not in page.text.split("campaign-preview")[0].split("campaign-text")[1]  # not the creator's
    compliance = signed_in(app, "compliance")
    assert (
        compliance.post(f"/care/campaigns/{campaign_id}/approve", follow_redirects=False).status_code == 303
    )
    assert lead.post(f"/care/campaigns/{campaign_id}/launch", follow_redirects=False).status_code == 303
    results = lead.get(f"/care/campaigns/{campaign_id}")
    assert "已发送 1 人" in results.text and "已发送" in results.text


def test_the_profile_panel_on_the_360_shows_preferences_and_consents_without_contact_details(
    app: FastAPI, client: TestClient, as_role, clock: Clock, borrowers: list[int], engine: Engine
) -> None:
    lead_api = as_role("team_lead")
    body = {
        "channel": "wechat",
        "contact_window": {"start": "18:00", "end": "21:00"},
        "topics": [],
        "personalised": True,
    }
    client.put(f"/api/v1/care/borrowers/{borrowers[0]}/preferences", json=body, headers=lead_api)
    consent(client, lead_api, borrowers[0])
    page = signed_in(app, "team_lead").get(f"/borrowers/{borrowers[0]}")
    assert page.status_code == 200, page.text
    panel = page.text[page.text.index('data-testid="care-panel"') :]
    assert "客户画像" in panel and "微信" in panel and "18:00–21:00" in panel and "营销·短信：有效" in panel
    with session_factory(engine)() as session:
        borrower = session.get(Borrower, borrowers[0])
        assert borrower is not None
    assert borrower.mobile not in panel and "App 勾选" not in panel  # no number, no evidence text
