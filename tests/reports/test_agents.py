"""Agent performance for a month: every agent for leads, only one's own row for an agent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core.calendar import SHANGHAI
from lenddesk.core.models import User
from lenddesk.desk.models import Ticket
from tests.ledger.conftest import open_ticket


def test_agent_rows_and_own_rows_only(client: TestClient, as_role, session: Session) -> None:  # type: ignore[no-untyped-def]
    resolved_at = datetime.now(UTC) - timedelta(hours=1)
    month = resolved_at.astimezone(SHANGHAI).strftime("%Y-%m")
    for index, owner in enumerate(("agent", "team_lead")):
        number = open_ticket(client, as_role, f"1360000000{index}", owner)
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None
        ticket.status, ticket.active, ticket.resolved_at = "resolved", False, resolved_at
        ticket.reopened_count = index  # the lead's ticket was reopened once
    session.commit()
    body = client.get("/api/v1/reports/agents", params={"month": month}, headers=as_role("team_lead")).json()
    assert sorted(row["handled"] for row in body["rows"]) == [1, 1]
    assert sorted(row["reopen_rate"] for row in body["rows"]) == [0.0, 1.0]
    agent_id = session.scalar(select(User.id).where(User.username == "agent"))
    mine = client.get("/api/v1/reports/agents", params={"month": month}, headers=as_role("agent")).json()
    assert [row["key"] for row in mine["rows"]] == [str(agent_id)]
    csv_text = client.get(
        "/api/v1/reports/agents", params={"month": month, "format": "csv"}, headers=as_role("team_lead")
    ).text
    assert csv_text.startswith("\ufeff") and "100.0%" in csv_text  # the reopen rate of the lead's row
    assert (
        client.get("/api/v1/reports/agents", params={"month": "2026-13"}, headers=as_role("qa")).status_code
        == 422
    )
    assert client.get("/api/v1/reports/agents", headers=as_role("collector")).status_code == 403
