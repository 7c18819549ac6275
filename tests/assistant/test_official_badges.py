"""The official-staff check takes public staff numbers (工号), never sign-in names, and names neither
the sign-in name nor the role."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core.auth import ROLE_LABELS_ZH
from lenddesk.core.models import User


def _lookup(client: TestClient, **params: str) -> tuple[int, dict]:
    response = client.get("/api/v1/assistant/verify-official", params=params)
    return response.status_code, response.json()


def test_a_sign_in_name_is_not_confirmed(client: TestClient) -> None:
    for params in ({"agent_id": "team_lead"}, {"badge": "team_lead"}, {"badge": "agent"}):
        status, body = _lookup(client, **params)
        assert status == 422 and "official" not in body, params
        assert "team_lead" not in str(body.get("details", "")), params


def test_a_badge_is_confirmed_without_naming_the_user_or_the_role(
    client: TestClient, session: Session
) -> None:
    lead = session.scalar(select(User).where(User.username == "team_lead"))
    assert lead is not None and lead.badge and lead.badge != lead.username
    status, body = _lookup(client, badge=lead.badge.lower())
    assert status == 200 and body["official"] is True and body["kind"] == "badge"
    assert body["value"] == lead.badge
    text = str(body)
    assert "team_lead" not in text and ROLE_LABELS_ZH["team_lead"] not in text
    status, unknown = _lookup(client, badge="LD424242")
    assert status == 200 and unknown["official"] is False


def test_every_user_has_a_distinct_badge(session: Session) -> None:
    badges = session.scalars(select(User.badge)).all()
    assert badges and all(badges) and len(set(badges)) == len(badges)
