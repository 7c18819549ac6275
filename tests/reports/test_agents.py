"""Agent performance for a month: every agent for leads, only one's own row for an agent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from httpx import Response as HttpResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core.calendar import SHANGHAI
from lenddesk.core.models import User
from lenddesk.desk.models import Agent, Team, Ticket
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


def test_the_team_filter_narrows_agents_to_the_team_and_refuses_portfolio_reports(  # type: ignore[no-untyped-def]
    client: TestClient, as_role, session: Session
) -> None:
    resolved_at = datetime.now(UTC) - timedelta(hours=1)
    month = resolved_at.astimezone(SHANGHAI).strftime("%Y-%m")
    for index, owner in enumerate(("agent", "team_lead")):
        number = open_ticket(client, as_role, f"1361000000{index}", owner)
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None
        ticket.status, ticket.active, ticket.resolved_at = "resolved", False, resolved_at
    team = Team(code="general", name="综合服务组", skills=["*"], opens="09:00", closes="21:00")
    session.add(team)
    session.flush()
    agent_id = session.scalar(select(User.id).where(User.username == "agent"))
    seat = session.get(Agent, agent_id) or Agent(user_id=agent_id)
    seat.team_id = team.id
    session.add(seat)
    # A team's scorecard counts the tickets routed to the team (the desk's ticket.team_id).
    agents_ticket = session.scalar(select(Ticket).where(Ticket.owner_id == agent_id))
    assert agents_ticket is not None
    agents_ticket.team_id = team.id
    session.commit()
    lead = as_role("team_lead")

    def agents(**params: str) -> HttpResponse:
        return client.get("/api/v1/reports/agents", params={"month": month, **params}, headers=lead)

    assert len(agents().json()["rows"]) == 2
    assert [row["key"] for row in agents(team="general").json()["rows"]] == [str(agent_id)]
    by_team = agents(team="general", group_by="team").json()["rows"]
    assert [row["key"] for row in by_team] == [str(team.id)] and by_team[0]["handled"] == 1
    unknown = agents(team="nobody")
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_team"
    for report in ("roll-rates", "flow-rates", "cure-rates", "vintage", "par"):
        refused = client.get(f"/api/v1/reports/{report}", params={"team": "general"}, headers=lead)
        body = refused.json()
        assert refused.status_code == 422 and body["code"] == "filter_not_applicable", report
        assert "团队" in body["message_zh"] and "team filter does not apply" in body["message_en"]
        assert client.get(f"/api/v1/reports/{report}", headers=lead).status_code == 200
