"""The reports API: who may read, JSON shape, CSV with BOM and XLSX read back, audited exports."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core.models import AuditEntry
from lenddesk.reports.exports import StreamedTable, Table, csv_lines, xlsx_bytes

PARAMS = {"from": "2026-03", "to": "2026-03"}


def test_only_leads_compliance_and_admins_read_portfolio_reports(client: TestClient, as_role) -> None:  # type: ignore[no-untyped-def]
    for role, status in (
        ("agent", 403),
        ("collector", 403),
        ("qa", 403),
        ("team_lead", 200),
        ("compliance", 200),
    ):
        response = client.get("/api/v1/reports/roll-rates", params=PARAMS, headers=as_role(role))
        assert response.status_code == status, (role, response.text)
    assert client.get("/api/v1/reports/roll-rates", params=PARAMS).status_code == 401


def test_roll_rates_json(client: TestClient, as_role, book) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/v1/reports/roll-rates", params=PARAMS, headers=as_role("team_lead")).json()
    assert body["basis"] == "count"
    (march,) = body["months"]
    assert march["month"] == "2026-03"
    assert march["counts"]["M1"] == {"M0": 1, "M1": 1, "M2": 1}
    assert march["rates"]["M1"]["M2"] == 0.333
    assert march["intervals"]["M1"]["M2"]["denominator"] == 3
    balance = client.get(
        "/api/v1/reports/roll-rates", params={**PARAMS, "basis": "balance"}, headers=as_role("team_lead")
    ).json()
    assert balance["basis"] == "balance" and "balances" in balance["months"][0]


def test_every_report_answers_json_csv_and_xlsx(client: TestClient, as_role, session: Session) -> None:  # type: ignore[no-untyped-def]
    headers = as_role("compliance")
    for report in ("roll-rates", "flow-rates", "cure-rates", "vintage", "par"):
        assert client.get(f"/api/v1/reports/{report}", params=PARAMS, headers=headers).status_code == 200
        text = client.get(f"/api/v1/reports/{report}", params={**PARAMS, "format": "csv"}, headers=headers)
        assert text.status_code == 200 and text.content.startswith("\ufeff".encode())
        book = client.get(f"/api/v1/reports/{report}", params={**PARAMS, "format": "xlsx"}, headers=headers)
        assert load_workbook(io.BytesIO(book.content)).sheetnames[-1] == "说明"
    exports = session.scalars(select(AuditEntry).where(AuditEntry.action == "reports.export")).all()
    assert len(exports) == 10


def test_a_third_shows_as_33_3_percent_in_json_csv_and_xlsx(client: TestClient, as_role) -> None:  # type: ignore[no-untyped-def]
    headers = as_role("team_lead")
    text = client.get("/api/v1/reports/roll-rates", params={**PARAMS, "format": "csv"}, headers=headers).text
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    m1_to_m2 = next(row for row in rows if row[2:4] == ["M1", "M2"])
    assert m1_to_m2[7] == "33.3%"
    content = client.get(
        "/api/v1/reports/roll-rates", params={**PARAMS, "format": "xlsx"}, headers=headers
    ).content
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    cells = next(row for row in sheet.iter_rows(min_row=2) if [c.value for c in row[2:4]] == ["M1", "M2"])
    assert cells[7].value == 0.333 and cells[7].number_format == "0.0%"
    assert cells[4].value == 1 and isinstance(cells[4].value, int)


def test_the_monthly_pack_has_every_report_and_the_definitions(client: TestClient, as_role) -> None:  # type: ignore[no-untyped-def]
    response = client.get(
        "/api/v1/reports/pack.xlsx", params={"month": "2026-03"}, headers=as_role("team_lead")
    )
    assert response.status_code == 200
    names = load_workbook(io.BytesIO(response.content)).sheetnames
    assert len(names) == 7 and names[-1] == "说明"


def test_bad_periods_are_refused_in_both_languages(client: TestClient, as_role) -> None:  # type: ignore[no-untyped-def]
    headers = as_role("team_lead")
    for params in (
        {"from": "2026-13"},
        {"from": "2026-04", "to": "2026-03"},
        {"from": "1990-01", "to": "2026-03"},
    ):
        response = client.get("/api/v1/reports/roll-rates", params=params, headers=headers)
        assert response.status_code == 422, params
        assert response.json()["message_zh"] and response.json()["message_en"]


def test_formula_like_text_is_written_as_text() -> None:
    table = Table("t", [("name", "text"), ("amount", "yuan"), ("share", "percent")])
    table.rows.append(['=HYPERLINK("http://evil.example","点我")', 123456, 2 / 3])
    table.rows.append(["@SUM(A1)", 1, None])
    table.rows.append(["\tTAB", 1, 0.5])
    text = "".join(csv_lines([table]))
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[2][0] == '\'=HYPERLINK("http://evil.example","点我")'
    assert rows[3][0] == "'@SUM(A1)" and rows[4][0] == "'\tTAB"
    assert rows[2][1] == "1234.56" and rows[2][2] == "66.7%"
    sheet = load_workbook(io.BytesIO(xlsx_bytes([table], [("t", "d")]))).worksheets[0]
    cell = sheet.cell(row=2, column=1)
    assert cell.value == '=HYPERLINK("http://evil.example","点我")' and cell.data_type == "s"
    assert float(sheet.cell(row=2, column=2).value) == 1234.56
    assert "¥" in sheet.cell(row=2, column=2).number_format


def test_the_month_end_export_lists_every_loan_and_is_audited(  # type: ignore[no-untyped-def]
    client: TestClient, as_role, session: Session, book
) -> None:
    response = client.get(
        "/api/v1/reports/month-end.csv", params={"month": "2026-03"}, headers=as_role("compliance")
    )
    assert response.status_code == 200 and response.text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0][0] == "贷款编号 loan id"
    states = {int(row[0]): row[3] for row in rows[1:]}
    assert states[book["A"]] == "M2" and states[book["C"]] == "settled" and states[book["G"]] == "WO"
    exported = session.scalars(select(AuditEntry).where(AuditEntry.action == "reports.export")).all()
    assert [entry.entity_id for entry in exported] == ["month-end"]
    refused = client.get(
        "/api/v1/reports/month-end.csv", params={"month": "2026-03"}, headers=as_role("agent")
    )
    assert refused.status_code == 403


def test_a_streamed_export_reads_its_rows_as_it_writes_them() -> None:
    read = 0

    def rows():  # type: ignore[no-untyped-def]
        nonlocal read
        for index in range(200_000):
            read += 1
            yield (index, f"=cmd{index}")

    chunks = csv_lines([StreamedTable("", [("n", "int"), ("text", "text")], rows())])
    next(chunks), next(chunks)  # the BOM, then the first ~64 KiB
    assert 0 < read < 10_000
    rest = "".join(chunks)
    assert read == 200_000 and rest.endswith("199999,'=cmd199999\r\n")
