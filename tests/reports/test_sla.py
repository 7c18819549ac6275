"""SLA attainment and first-contact resolution, on tickets whose times are set by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from lenddesk.core.calendar import SHANGHAI
from lenddesk.core.models import AuditEntry
from lenddesk.core.policy import get_policy
from lenddesk.desk import service as desk
from lenddesk.desk.models import Team, Ticket
from lenddesk.ledger.models import Loan
from tests.ledger.conftest import open_ticket
from tests.reports.test_pages import sign_in


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


def _resolve(session: Session, numbers: list[str], at: datetime) -> None:
    for number in numbers:
        ticket = _ticket(session, number)
        ticket.status, ticket.active, ticket.resolved_at = "resolved", False, at
    session.commit()


def _statements(session: Session, call) -> int:  # type: ignore[no-untyped-def]
    counted: list[str] = []
    engine = session.get_bind()

    def count(*args: object) -> None:
        counted.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(counted)


def test_first_contact_resolution_reads_the_same_few_statements_for_any_number_of_tickets(
    client: TestClient, as_role, session: Session
) -> None:  # type: ignore[no-untyped-def]
    numbers = [open_ticket(client, as_role, f"1360000000{i}", "agent") for i in range(6)]
    session.expire_all()
    at = _shanghai(15, 10)
    calendar = get_policy().calendar.work_calendar()

    def figures() -> list[desk.FcrFigures]:
        return desk.fcr_figures(session, first=date(2026, 4, 1), last=date(2026, 4, 30), calendar=calendar)

    _resolve(session, numbers[:2], at)
    few = _statements(session, figures)
    _resolve(session, numbers[2:], at)
    many = _statements(session, figures)
    assert figures()[0].resolved == 6
    assert many == few  # no statement per ticket


def test_team_filter_and_drill_down_to_the_tickets_behind_a_figure(
    client: TestClient, as_role, session: Session
) -> None:  # type: ignore[no-untyped-def]
    ours, theirs = (open_ticket(client, as_role, f"1350000000{i}", "agent") for i in range(2))
    session.expire_all()
    team = Team(code="general", name="综合服务组", skills=["*"], opens="09:00", closes="21:00")
    session.add(team)
    session.flush()
    for number in (ours, theirs):
        ticket = _ticket(session, number)
        ticket.resolution_due, ticket.resolved_at = _shanghai(20, 10), _shanghai(21, 10)  # both late
    _ticket(session, ours).team_id = team.id
    session.commit()
    april = {"from": "2026-04", "to": "2026-04"}
    lead = as_role("team_lead")
    body = client.get("/api/v1/reports/sla", params={**april, "team": "general"}, headers=lead).json()
    assert [row["resolution"]["breached"] for row in body["rows"]] == [1]
    everyone = client.get("/api/v1/reports/sla", params=april, headers=lead).json()
    assert [row["resolution"]["breached"] for row in everyone["rows"]] == [2]
    unknown = client.get("/api/v1/reports/sla", params={**april, "team": "nobody"}, headers=lead)
    assert unknown.status_code == 422 and "nobody" in unknown.json()["message_en"]
    page = sign_in(client, "team_lead").get(
        "/reports/tickets", params={"figure": "resolution_breached", **april, "team": "general"}
    )
    assert page.status_code == 200 and ours in page.text and theirs not in page.text
    operations = client.get("/reports/operations", params={"to": "2026-04"})
    assert "/reports/tickets?figure=resolution_breached&from=2026-04&to=2026-04" in operations.text
    session.expire_all()
    drilled = session.scalars(select(AuditEntry).where(AuditEntry.action == "reports.drilldown")).all()
    assert [entry.after["tickets"] for entry in drilled] == [1]  # type: ignore[index]
