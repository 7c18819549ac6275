"""SLA attainment and first-contact resolution, on tickets whose times are set by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core.calendar import SHANGHAI
from lenddesk.desk.models import Ticket
from lenddesk.ledger.models import Loan
from tests.ledger.conftest import open_ticket


def _ticket(session: Session, number: str) -> Ticket:
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    assert ticket is not None
    return ticket


def _shanghai(day: int, hour: int) -> datetime:
    return datetime(2026, 4, day, hour, tzinfo=SHANGHAI).astimezone(UTC)


def test_attainment_counts_targets_in_the_month_they_fell_due(
    client: TestClient, as_role, session: Session
) -> None:  # type: ignore[no-untyped-def]
    met, late, open_past_due, not_yet = (
        open_ticket(client, as_role, f"1390000000{i}", "agent") for i in range(4)
    )
    session.expire_all()
    times = {
        met: (_shanghai(10, 10), _shanghai(10, 9), _shanghai(12, 18), _shanghai(12, 17)),
        late: (_shanghai(11, 10), _shanghai(11, 11), _shanghai(13, 18), _shanghai(14, 9)),
        open_past_due: (_shanghai(30, 23), None, datetime(2099, 1, 1, tzinfo=UTC), None),
        # Due in April 2026 but answered on 1 May at 00:30 Shanghai: breached, counted in April.
        not_yet: (_shanghai(30, 23), datetime(2026, 5, 1, 0, 30, tzinfo=SHANGHAI), _shanghai(30, 23), None),
    }
    for number, (first_due, first_at, resolution_due, resolved_at) in times.items():
        ticket = _ticket(session, number)
        ticket.first_response_due, ticket.first_response_at = first_due, first_at
        ticket.resolution_due, ticket.resolved_at = resolution_due, resolved_at
    session.commit()
    body = client.get(
        "/api/v1/reports/sla", params={"from": "2026-04", "to": "2026-04"}, headers=as_role("team_lead")
    ).json()
    (april,) = body["rows"]
    assert april["key"] == "2026-04"
    assert (april["first_response"]["achieved"], april["first_response"]["breached"]) == (1, 3)
    assert april["first_response"]["attainment"]["rate"] == 0.25
    # Resolution: met on time, resolved late, and not resolved though due on 04-30.
    assert (april["resolution"]["achieved"], april["resolution"]["breached"]) == (1, 2)
    mine = client.get(
        "/api/v1/reports/sla", params={"from": "2026-04", "to": "2026-04"}, headers=as_role("agent")
    ).json()
    assert mine["group_by"] == "agent"
    assert client.get("/api/v1/reports/sla", headers=as_role("collector")).status_code == 403


def test_first_contact_resolution(
    client: TestClient, as_role, session: Session, book: dict[str, int]
) -> None:  # type: ignore[no-untyped-def]
    once, came_back, later = (open_ticket(client, as_role, f"1370000000{i}", "agent") for i in range(3))
    session.expire_all()
    resolved_at = datetime.now(UTC) - timedelta(hours=2)
    for number in (once, came_back):
        ticket = _ticket(session, number)
        ticket.status, ticket.active, ticket.resolved_at = "resolved", False, resolved_at
    # The same borrower is back an hour later with a new ticket (another number of theirs).
    borrower = session.get(Loan, book["A"]).borrower_id  # type: ignore[union-attr]
    _ticket(session, came_back).borrower_id = borrower
    _ticket(session, later).borrower_id = borrower
    _ticket(session, later).created_at = resolved_at + timedelta(hours=1)
    session.commit()
    month = resolved_at.astimezone(SHANGHAI).strftime("%Y-%m")
    body = client.get(
        "/api/v1/reports/sla", params={"from": month, "to": month}, headers=as_role("compliance")
    ).json()
    row = next(row for row in body["rows"] if row["key"] == month)
    assert (row["fcr"]["numerator"], row["fcr"]["denominator"]) == (1, 2)
