"""The complaint root-cause Pareto: closed complaints of the period, most frequent first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.desk.complaint_stages import ROOT_CAUSES
from lenddesk.desk.models import Complaint, Ticket
from lenddesk.reports.operations import pareto_rows
from tests.ledger.conftest import open_ticket


def test_pareto_shares_and_cumulative_shares() -> None:
    rows = pareto_rows([("a", 3), ("b", 2), ("c", 1)], {"a": "甲"})
    assert [row["label"] for row in rows] == ["甲", "b", "c"]
    assert [row["share"] for row in rows] == [0.5, 0.333, 0.167]
    assert [row["cumulative_share"] for row in rows] == [0.5, 0.833, 1.0]


def test_root_causes_of_complaints_closed_in_april(client: TestClient, as_role, session: Session) -> None:  # type: ignore[no-untyped-def]
    first, second = list(ROOT_CAUSES)[:2]
    closed = datetime(2026, 4, 20, 3, tzinfo=UTC)
    causes = [first, first, second, first, second]
    closings = [closed, closed, closed, closed, closed + timedelta(days=30)]  # the last one in May
    for index, (cause, closed_at) in enumerate(zip(causes, closings, strict=True)):
        number = open_ticket(client, as_role, f"1350000000{index}", "agent")
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None
        session.add(
            Complaint(
                ticket_id=ticket.id,
                received_at=closed_at - timedelta(days=5),
                ack_due_at=closed_at,
                resolution_due_at=closed_at + timedelta(days=10),
                root_cause=cause,
                closed_at=closed_at,
            )
        )
        session.commit()  # before the next ticket: the API writes through its own connection
    body = client.get(
        "/api/v1/reports/complaints",
        params={"from": "2026-04", "to": "2026-04"},
        headers=as_role("compliance"),
    ).json()
    assert [(row["root_cause"], row["complaints"]) for row in body["rows"]] == [(first, 3), (second, 1)]
    assert body["rows"][0]["label"] == ROOT_CAUSES[first]
    assert body["rows"][-1]["cumulative_share"] == 1.0
