"""HTTP API of the reports room: portfolio and operations reports as JSON, CSV or XLSX (every
export audited). Each route names who may read it; what it was asked (period, product, format)
arrives as one `Asked`, which also answers in the format asked for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from lenddesk.core import audit, auth
from lenddesk.core.calendar import business_today
from lenddesk.core.errors import Unprocessable
from lenddesk.core.http import db_session, errors
from lenddesk.core.models import User
from lenddesk.reports import operations, service, tables
from lenddesk.reports.definitions import DEFINITIONS, definition_rows
from lenddesk.reports.exports import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    Kind,
    StreamedTable,
    Table,
    csv_lines,
    xlsx_bytes,
)
from lenddesk.reports.roles import (
    CSAT_READERS,
    OWN_ROWS_ONLY,
    PORTFOLIO_READERS,
    PROMISE_READERS,
    SLA_READERS,
)
from lenddesk.reports.service import operational
from lenddesk.reports.states import month_of, parse_month, shift_month

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

Format = Literal["json", "csv", "xlsx"]
_CONTENT = {
    200: {
        "description": "The report as JSON, or as a file when format is csv or xlsx",
        "content": {"application/json": {}, CSV_MEDIA_TYPE: {}, XLSX_MEDIA_TYPE: {}},
    }
}
_RESPONSES = {**_CONTENT, **errors(401, 403, 422)}
FirstMonth = Query(None, alias="from", max_length=10, description="First month, YYYY-MM (or a date)")
LastMonth = Query(None, alias="to", max_length=10, description="Last month, YYYY-MM (default: latest)")
Product = Query(None, max_length=32, description="Product code (default: all products)")
FormatQuery = Query("json", alias="format", description="json, csv (UTF-8 with BOM) or xlsx")
TeamQuery = Query(None, max_length=32, description="A desk team's code (default: every team)")


def period_of(session: Session, first: str | None, last: str | None, product: str | None) -> service.Period:
    """`to` defaults to the latest snapshot (or last month); `from` to 11 months before `to`."""
    end = (
        parse_month(last)
        if last
        else service.latest_month(session) or shift_month(month_of(business_today()), -1)
    )
    start = parse_month(first) if first else shift_month(end, -11)
    if start > end:
        raise Unprocessable("开始月份晚于结束月份", "from is later than to", code="period_reversed")
    if len(range(int(start[:4]) * 12 + int(start[5:]), int(end[:4]) * 12 + int(end[5:]) + 1)) > 120:
        raise Unprocessable("区间最多 120 个月", "A period covers at most 120 months", code="period_too_long")
    return service.Period(start, end, product or None)


@dataclass(frozen=True)
class Asked:
    """A report request: the period (and product), the format, and the database session."""

    period: service.Period
    fmt: Format
    session: Session

    def own(self, user: User) -> int | None:
        """Agents and collectors see only their own rows."""
        return user.id if user.role in OWN_ROWS_ONLY else None

    def answer(
        self,
        user: User,
        report: str,
        body: Callable[[], dict[str, Any]],
        as_tables: Callable[[], list[Table]],
    ) -> Any:
        """JSON with the report's definition, or a CSV or XLSX file (an audited export)."""
        if self.fmt == "json":
            return {**body(), "definition": DEFINITIONS[report][1]}
        period = self.period
        audit.record(
            self.session,
            audit.Actor.of(user),
            "reports.export",
            ("report", report),
            None,
            {"format": self.fmt, "from": period.first, "to": period.last, "product": period.product},
        )
        name = f"{report}-{period.first}-{period.last}"
        if self.fmt == "csv":
            return StreamingResponse(
                csv_lines(as_tables()),
                media_type=CSV_MEDIA_TYPE,
                headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
            )
        return Response(
            content=xlsx_bytes(as_tables(), definition_rows(report)),
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )


def portfolio_asked(
    first: str | None = FirstMonth,
    last: str | None = LastMonth,
    product: str | None = Product,
    fmt: Format = FormatQuery,
    team: str | None = Query(
        None, max_length=32, description="Not applicable: portfolio reports count loans, not teams (422)"
    ),
    session: Session = db_session,
) -> Asked:
    if team:
        raise Unprocessable(
            "组合报表（迁徙率、流动率、回收率、账龄、PAR）按贷款统计，不适用团队筛选；请按产品筛选",
            "The team filter does not apply to portfolio reports (roll, flow, cure, vintage, PAR):"
            " they count loans, which belong to no team; filter by product instead",
            code="filter_not_applicable",
            details={"filter": "team"},
        )
    return Asked(period_of(session, first, last, product), fmt, session)


def period_asked(
    first: str | None = FirstMonth,
    last: str | None = LastMonth,
    fmt: Format = FormatQuery,
    session: Session = db_session,
) -> Asked:
    return Asked(period_of(session, first, last, None), fmt, session)


AskedPortfolio = Depends(portfolio_asked)
AskedPeriod = Depends(period_asked)


# --- portfolio: roll, flow and cure rates, vintages, PAR --------------------------------------------


@router.get(
    "/roll-rates", summary="Month-end roll-rate matrices, count or balance basis", responses=_RESPONSES
)
def roll_rates(
    basis: Literal["count", "balance"] = Query("count"),
    asked: Asked = AskedPortfolio,
    user: User = auth.allow(*PORTFOLIO_READERS),
) -> Any:
    matrices = service.roll_rates(asked.session, asked.period, basis)
    return asked.answer(
        user,
        "roll-rates",
        lambda: {"basis": basis, "months": [matrix.as_dict() for matrix in matrices]},
        lambda: tables.roll_tables(matrices),
    )


@router.get("/flow-rates", summary="Flow rates into each bucket, month by month", responses=_RESPONSES)
def flow_rates(
    basis: Literal["count", "balance"] = Query("balance"),
    asked: Asked = AskedPortfolio,
    user: User = auth.allow(*PORTFOLIO_READERS),
) -> Any:
    rows = service.flow_rates(asked.session, asked.period, basis)
    months = [
        {"month": row["month"], "flows": {b: r.as_dict() for b, r in row["flows"].items()}}  # type: ignore[attr-defined]
        for row in rows
    ]
    return asked.answer(
        user, "flow-rates", lambda: {"basis": basis, "months": months}, lambda: tables.flow_table(rows)
    )


@router.get("/cure-rates", summary="Cure rates, with and without restructured loans", responses=_RESPONSES)
def cure_rates(asked: Asked = AskedPortfolio, user: User = auth.allow(*PORTFOLIO_READERS)) -> Any:
    rows = service.cure_rates(asked.session, asked.period)
    months = [
        {
            "month": row["month"],
            "all": row["all"].as_dict(),  # type: ignore[attr-defined]
            "excluding_restructured": row["excluding_restructured"].as_dict(),  # type: ignore[attr-defined]
        }
        for row in rows
    ]
    return asked.answer(user, "cure-rates", lambda: {"months": months}, lambda: tables.cure_table(rows))


@router.get(
    "/vintage", summary="Vintage curves by disbursement month, current or ever basis", responses=_RESPONSES
)
def vintage(
    basis: Literal["current", "ever"] = Query("current"),
    asked: Asked = AskedPortfolio,
    user: User = auth.allow(*PORTFOLIO_READERS),
) -> Any:
    curves = service.vintage(asked.session, asked.period, basis)
    return asked.answer(
        user,
        "vintage",
        lambda: {"basis": basis, "cohorts": curves},
        lambda: tables.vintage_table(curves, basis),
    )


@router.get(
    "/par",
    summary="Portfolio at risk: PAR30 (over 30 days) and DPD30+ (30 days or more), PAR90, DPD90+",
    responses=_RESPONSES,
)
def portfolio_at_risk(asked: Asked = AskedPortfolio, user: User = auth.allow(*PORTFOLIO_READERS)) -> Any:
    rows = service.portfolio_at_risk(asked.session, asked.period)
    return asked.answer(
        user, "par", lambda: {"months": [row.as_dict() for row in rows]}, lambda: tables.par_table(rows)
    )


@router.get(
    "/pack.xlsx",
    summary="The monthly pack: every portfolio report of one month in one workbook",
    response_class=Response,
    responses={
        200: {"description": "An XLSX workbook", "content": {XLSX_MEDIA_TYPE: {}}},
        **errors(401, 403, 422),
    },
)
def monthly_pack(
    month: str = Query(..., max_length=10, description="The month, YYYY-MM"),
    session: Session = db_session,
    user: User = auth.allow(*PORTFOLIO_READERS),
) -> Response:
    chosen = parse_month(month)
    year_back = service.Period(shift_month(chosen, -11), chosen)
    this_month = service.Period(chosen, chosen)
    sheets = [
        *tables.roll_tables(service.roll_rates(session, this_month, "count")),
        *tables.roll_tables(service.roll_rates(session, this_month, "balance")),
        *tables.flow_table(service.flow_rates(session, year_back, "balance")),
        *tables.cure_table(service.cure_rates(session, year_back)),
        *tables.vintage_table(
            service.vintage(session, service.Period(shift_month(chosen, -23), chosen)), "current"
        ),
        *tables.par_table(service.portfolio_at_risk(session, year_back)),
    ]
    audit.record(session, audit.Actor.of(user), "reports.export", ("report", "pack"), None, {"month": chosen})
    return Response(
        content=xlsx_bytes(
            sheets, definition_rows("roll-rates", "flow-rates", "cure-rates", "vintage", "par")
        ),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="reports-pack-{chosen}.xlsx"'},
    )


MONTH_END_COLUMNS: list[tuple[str, Kind]] = [
    ("贷款编号 loan id", "int"),
    ("放款月 cohort", "text"),
    ("产品 product", "text"),
    ("月末状态 state", "text"),
    ("逾期天数 DPD", "int"),
    ("放款本金 principal", "yuan"),
    ("剩余本金 outstanding", "yuan"),
    ("逾期金额 overdue", "yuan"),
    ("重组 restructured", "text"),
]


@router.get(
    "/month-end.csv",
    summary="Every loan's month-end position (state, DPD, balances) as a streamed CSV; no personal data",
    response_class=StreamingResponse,
    responses={
        200: {"description": "CSV, UTF-8 with BOM", "content": {CSV_MEDIA_TYPE: {}}},
        **errors(401, 403, 422),
    },
)
def month_end_csv(
    month: str = Query(..., max_length=10, description="The month, YYYY-MM"),
    product: str | None = Product,
    session: Session = db_session,
    user: User = auth.allow(*PORTFOLIO_READERS),
) -> StreamingResponse:
    chosen = parse_month(month)
    audit.record(
        session,
        audit.Actor.of(user),
        "reports.export",
        ("report", "month-end"),
        None,
        {"format": "csv", "month": chosen, "product": product},
    )
    rows = (
        (*row[:8], "是" if row[8] else "否")
        for row in service.month_end_positions(session.get_bind(), month=chosen, product=product)  # type: ignore[arg-type]
    )
    table = StreamedTable("", MONTH_END_COLUMNS, rows)
    return StreamingResponse(
        csv_lines([table]),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="month-end-{chosen}.csv"'},
    )


# --- operations: SLA, promises, satisfaction, complaints, agents and collectors -------------------


@router.get(
    "/promises",
    summary="Promise-kept rate by count and by amount, per month or per collector",
    responses=_RESPONSES,
)
def promises(
    group_by: Literal["month", "collector"] = Query("month"),
    team: str | None = TeamQuery,
    asked: Asked = AskedPeriod,
    user: User = auth.allow(*PROMISE_READERS),
) -> Any:
    team_id = operational.team_id_of(asked.session, team)
    rows = operational.promises(asked.session, asked.period, group_by, asked.own(user), team_id)
    return asked.answer(
        user,
        "promises",
        lambda: {"group_by": group_by, "rows": rows},
        lambda: operations.promise_table(rows),
    )


@router.get(
    "/csat",
    summary="CSAT (share of 4-5), NPS and response rate, per month, team or agent",
    responses=_RESPONSES,
)
def csat(
    group_by: Literal["month", "team", "agent"] = Query("month"),
    team: str | None = TeamQuery,
    asked: Asked = AskedPeriod,
    user: User = auth.allow(*CSAT_READERS),
) -> Any:
    own = asked.own(user)
    team_id = operational.team_id_of(asked.session, team)
    total, rows = operational.satisfaction(asked.session, asked.period, group_by, own, team_id)
    shown = "agent" if own is not None else group_by
    return asked.answer(
        user,
        "csat",
        lambda: {"group_by": shown, "total": total, "rows": rows},
        lambda: operations.csat_table(rows),
    )


@router.get(
    "/sla",
    summary="SLA attainment (first response, resolution) and first-contact resolution",
    responses=_RESPONSES,
)
def sla(
    group_by: Literal["month", "team", "agent"] = Query("month"),
    team: str | None = TeamQuery,
    asked: Asked = AskedPeriod,
    user: User = auth.allow(*SLA_READERS),
) -> Any:
    own = asked.own(user)
    team_id = operational.team_id_of(asked.session, team)
    rows = operational.sla(asked.session, asked.period, group_by, own, team_id)
    shown = "agent" if own is not None else group_by
    return asked.answer(
        user, "sla", lambda: {"group_by": shown, "rows": rows}, lambda: operations.sla_table(rows)
    )


@router.get(
    "/complaints",
    summary="Complaint root causes as a Pareto: complaints closed in the period, most frequent first",
    responses=_RESPONSES,
)
def complaint_root_causes(
    team: str | None = TeamQuery, asked: Asked = AskedPeriod, user: User = auth.allow(*PORTFOLIO_READERS)
) -> Any:
    rows = operational.complaints(asked.session, asked.period, operational.team_id_of(asked.session, team))
    return asked.answer(user, "complaints", lambda: {"rows": rows}, lambda: operations.pareto_table(rows))


@router.get(
    "/collectors",
    summary="Collector performance: contacts, right-party contacts, promises, kept rate, recovered",
    responses=_RESPONSES,
)
def collectors(
    team: str | None = TeamQuery, asked: Asked = AskedPeriod, user: User = auth.allow(*PROMISE_READERS)
) -> Any:
    team_id = operational.team_id_of(asked.session, team)
    rows = operational.collectors(asked.session, asked.period, asked.own(user), team_id)
    return asked.answer(user, "collectors", lambda: {"rows": rows}, lambda: operations.collector_table(rows))


@router.get(
    "/agents",
    summary="Agent or team performance for one month: handled, times, SLA, QA, CSAT, complaints",
    responses=_RESPONSES,
)
def agents(
    month: str | None = Query(None, max_length=10, description="The month, YYYY-MM (default: this month)"),
    group_by: Literal["agent", "team"] = Query("agent"),
    team: str | None = TeamQuery,
    fmt: Format = FormatQuery,
    session: Session = db_session,
    user: User = auth.allow(*SLA_READERS),
) -> Any:
    chosen = parse_month(month) if month else month_of(business_today())
    asked = Asked(service.Period(chosen, chosen), fmt, session)
    own = asked.own(user)
    rows = operational.agents(session, chosen, group_by, own, operational.team_id_of(session, team))
    shown = "agent" if own is not None else group_by
    return asked.answer(
        user,
        "agents",
        lambda: {"month": chosen, "group_by": shown, "rows": rows},
        lambda: operations.agent_table(rows),
    )
