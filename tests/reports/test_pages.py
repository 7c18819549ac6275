"""The reports console: heat map and table side by side, trends, vintages, drill-down, definitions."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core.models import AuditEntry
from lenddesk.ledger.models import Loan
from tests.conftest import PASSWORD


def sign_in(client: TestClient, role: str) -> TestClient:
    response = client.post("/login", data={"username": role, "password": PASSWORD}, follow_redirects=False)
    assert response.status_code in (302, 303), response.text
    return client


def test_the_roll_page_shows_the_heat_map_beside_the_matrix(client: TestClient) -> None:
    page = sign_in(client, "team_lead").get("/reports", params={"month": "2026-03"})
    assert page.status_code == 200
    assert 'data-testid="roll-heat-map"' in page.text and "<svg" in page.text
    assert "33.3%" in page.text  # M1 → M2: one of three
    assert "Loans disbursed in t are not in t" in page.text  # the definition is on the page
    assert "/reports/loans?month=2026-03" in page.text


def test_trends_and_vintage_pages(client: TestClient) -> None:
    sign_in(client, "compliance")
    trends = client.get("/reports/trends", params={"to": "2026-03"})
    assert trends.status_code == 200 and 'data-testid="par"' in trends.text and "PAR30" in trends.text
    vintage = client.get("/reports/vintage", params={"to": "2026-03", "basis": "ever"})
    assert vintage.status_code == 200 and "MOB7" in vintage.text


def test_drill_down_lists_the_loans_masked_and_is_audited(
    client: TestClient, session: Session, book: dict[str, int]
) -> None:
    page = sign_in(client, "team_lead").get(
        "/reports/loans", params={"month": "2026-03", "from": "M1", "to": "M2"}
    )
    assert page.status_code == 200
    contract = session.get(Loan, book["A"]).contract_number  # type: ignore[union-attr]
    assert contract in page.text
    assert "测试" not in page.text  # the borrower's name is masked
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "reports.drilldown")).first()


def test_agents_do_not_see_reports_and_bad_months_are_refused(client: TestClient) -> None:
    assert sign_in(client, "agent").get("/reports").status_code == 403
    client.post("/logout")
    lead = sign_in(TestClient(client.app), "team_lead")
    for month in ("2026-13", "%ED%A0%80", "9999-99", "２０２６-03"):
        assert lead.get(f"/reports?month={month}").status_code == 422, month
    assert lead.get("/reports/loans", params={"month": "2026-03", "to": "M9"}).status_code == 422


def test_the_operations_page_shows_charts_beside_tables(client: TestClient) -> None:
    page = sign_in(client, "team_lead").get("/reports/operations", params={"to": "2026-03"})
    assert page.status_code == 200
    for table in ("sla", "promises-csat", "root-causes", "agents"):
        assert f'data-testid="{table}"' in page.text
    assert page.text.count("<svg") >= 3
    assert "First-contact resolution" in page.text
