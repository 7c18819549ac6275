"""Profiles and consents: preferences round trip and their validation, consent evidence and its
retention after revocation, who may open a borrower's profile."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from lenddesk.care import service
from lenddesk.care.models import Consent
from lenddesk.core.audit import Actor
from lenddesk.core.db import session_factory
from lenddesk.core.models import AuditEntry
from lenddesk.ledger import service as ledger
from tests.care.conftest import NOW, Clock, consent

Headers = Callable[[str], dict[str, str]]


def _url(borrower_id: int) -> str:
    return f"/api/v1/care/borrowers/{borrower_id}/preferences"


def test_preferences_round_trip_and_land_on_the_borrower_row_collections_reads(
    client: TestClient, as_role: Headers, clock: Clock, borrowers: list[int], engine: Engine
) -> None:
    body = {
        "channel": "app",
        "contact_window": {"start": "18:00", "end": "21:00"},
        "topics": ["anti_fraud", "offers"],
        "personalised": True,
    }
    lead = as_role("team_lead")
    assert client.put(_url(borrowers[0]), json=body, headers=lead).json() == body
    assert client.get(_url(borrowers[0]), headers=as_role("compliance")).json() == body
    with session_factory(engine)() as session:
        found = ledger.contact_preferences(session, borrowers[0])
        assert found is not None and found.channel == "app" and found.window is not None
        assert found.window.text() == "18:00-21:00"
        changes = session.scalar(select(func.count()).where(AuditEntry.action == "care.preferences.update"))
        assert changes == 1
    cleared = {"channel": None, "contact_window": None, "topics": [], "personalised": False}
    assert client.put(_url(borrowers[0]), json=cleared, headers=lead).json() == cleared


@pytest.mark.parametrize(
    "window",
    [
        {"start": "21:00", "end": "09:00"},  # over midnight
        {"start": "10:00", "end": "10:00"},  # empty
        {"start": "25:00", "end": "26:00"},
        {"start": "09:60", "end": "10:00"},
        {"start": "9:00", "end": "10:00"},
        {"start": "09:00", "end": "24:01"},
    ],
)
def test_a_bad_contact_window_is_422(
    client: TestClient, as_role: Headers, clock: Clock, borrowers: list[int], window: dict[str, str]
) -> None:
    body = {"channel": "sms", "contact_window": window, "topics": [], "personalised": False}
    response = client.put(_url(borrowers[0]), json=body, headers=as_role("team_lead"))
    assert response.status_code == 422, response.text
    assert response.json()["message_zh"] and response.json()["message_en"]


@pytest.mark.parametrize(
    "body",
    [
        {"channel": "pigeon"},
        {"topics": ["gambling"]},
        {"topics": ["offers"] * 21},
        {"personalised": "maybe"},
        {"contact_window": {"start": "09:00"}},
        {"nickname": "x"},
    ],
)
def test_hostile_preference_bodies_are_422(
    client: TestClient, as_role: Headers, clock: Clock, borrowers: list[int], body: dict
) -> None:
    assert client.put(_url(borrowers[0]), json=body, headers=as_role("team_lead")).status_code == 422


def test_an_unknown_borrower_is_404_and_a_case_bound_agent_needs_a_case(
    client: TestClient, as_role: Headers, clock: Clock, borrowers: list[int]
) -> None:
    assert client.get(_url(999_999), headers=as_role("team_lead")).status_code == 404
    assert client.get(_url(borrowers[0]), headers=as_role("agent")).status_code == 403
    assert client.get(_url(borrowers[0])).status_code == 401


def test_a_second_identical_consent_changes_nothing_and_evidence_is_required(
    client: TestClient, as_role: Headers, clock: Clock, borrowers: list[int]
) -> None:
    lead = as_role("team_lead")
    first = consent(client, lead, borrowers[0])
    url = f"/api/v1/care/borrowers/{borrowers[0]}/consents"
    body = {"purpose": "marketing", "channel": "sms", "evidence": "again"}
    again = client.post(url, json=body, headers=lead)
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    for bad in (
        {**body, "evidence": ""},
        {**body, "evidence": "   "},
        {**body, "evidence": "a\x00b"},
        {**body, "purpose": "collections"},
        {**body, "channel": "phone"},
    ):
        assert client.post(url, json=bad, headers=lead).status_code == 422, bad
    listed = client.get(url, headers=lead).json()
    assert [(c["purpose"], c["active"]) for c in listed] == [("marketing", True)]


def _revoked_consent(engine: Engine, borrower_id: int, revoked_at: datetime) -> int:
    actor = Actor.system("tests")
    with session_factory(engine)() as session:
        view, _ = service.grant_consent(
            session, actor=actor, borrower_id=borrower_id, purpose="education", channel="sms", evidence="e",
            now=revoked_at - timedelta(days=1),
        )  # fmt: skip
        service.revoke_consent(
            session,
            actor=actor,
            borrower_id=borrower_id,
            consent_id=view.id,
            evidence="来电撤回",
            now=revoked_at,
        )
        session.commit()
        return view.id


def test_a_revoked_consent_is_kept_five_months_with_its_evidence_then_purged(
    engine: Engine, borrowers: list[int]
) -> None:
    revoked_at = NOW - timedelta(days=200)
    consent_id = _revoked_consent(engine, borrowers[0], revoked_at)
    with session_factory(engine)() as session:
        # 153 days (five months) after the revocation to the second: still kept.
        assert service.purge_revoked_consents(session, now=revoked_at + timedelta(days=153)) == 0
        kept = session.get(Consent, consent_id)
        assert kept is not None and kept.revocation_evidence == "来电撤回"
        assert service.purge_revoked_consents(session, now=revoked_at + timedelta(days=153, seconds=1)) == 1
        session.commit()
        assert session.get(Consent, consent_id) is None


def test_the_retention_cannot_be_set_below_five_months() -> None:
    from pydantic import ValidationError

    from lenddesk.core.policy import CarePolicy

    with pytest.raises(ValidationError):
        CarePolicy(consent_retention_days=120)
