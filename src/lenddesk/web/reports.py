"""Console pages of the reports room: roll-rate heat map, flow and cure trends with PAR, vintage
curves, and the masked list of loans behind any figure. Each page states its definitions."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import LendDeskError
from lenddesk.core.http import db_session
from lenddesk.core.models import User
from lenddesk.ledger import service as ledger
from lenddesk.ledger.service.positions import loan_labels
from lenddesk.quality.charts import bar_chart, line_chart
from lenddesk.reports import service, tables
from lenddesk.reports.api import period_of
from lenddesk.reports.charts import heat_map
from lenddesk.reports.definitions import DEFINITIONS
from lenddesk.reports.roles import PORTFOLIO_READERS
from lenddesk.reports.service import operational
from lenddesk.reports.states import BUCKETS, STATES, parse_month
from lenddesk.web.console import add_nav, console_user, error_page, render

router = APIRouter(include_in_schema=False)

add_nav("报表", "/reports", *PORTFOLIO_READERS, area="报表")


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _refused(request: Request, user: User, exc: LendDeskError) -> HTMLResponse:
    return error_page(request, user, exc)  # type: ignore[return-value]


@router.get("/reports", response_class=HTMLResponse)
def roll_page(
    request: Request,
    session: Session = db_session,
    user: User = console_user(*PORTFOLIO_READERS),
    month: str | None = None,
    basis: str = "count",
    product: str | None = None,
) -> HTMLResponse:
    try:
        period = period_of(session, month, month, product)
    except LendDeskError as exc:
        return _refused(request, user, exc)
    basis = basis if basis in ("count", "balance") else "count"
    matrices = service.roll_rates(session, service.Period(period.last, period.last, period.product), basis)
    heat = None
    if matrices:
        rows, columns, cells = tables.matrix_grid(matrices[0])
        heat = heat_map(
            rows,
            columns,
            cells,
            title=f"{period.last} 迁徙率",
            link=lambda f, t: "/reports/loans?" + urlencode({"month": period.last, "from": f, "to": t}),
        )
    return render(
        request,
        "reports/roll.html",
        user,
        month=period.last,
        basis=basis,
        product=period.product or "",
        matrix=matrices[0] if matrices else None,
        heat=heat,
        states=STATES,
        definition=DEFINITIONS["roll-rates"],
        state_rule=DEFINITIONS["state"],
        tab="roll",
    )


@router.get("/reports/trends", response_class=HTMLResponse)
def trends_page(
    request: Request,
    session: Session = db_session,
    user: User = console_user(*PORTFOLIO_READERS),
    to: str | None = None,
    product: str | None = None,
) -> HTMLResponse:
    try:
        period = period_of(session, None, to, product)
    except LendDeskError as exc:
        return _refused(request, user, exc)
    flows = service.flow_rates(session, period)
    cures = service.cure_rates(session, period)
    par = service.portfolio_at_risk(session, period)
    labels = [row["month"][2:] for row in flows]  # type: ignore[index]
    flow_chart = line_chart(
        labels,
        [
            (bucket, [_percent(row["flows"][bucket].value) for row in flows])  # type: ignore[index]
            for bucket in BUCKETS[1:4]
        ],
        maximum=100,
        title="迁移率（余额）",
        unit="%",
    )
    cure_chart = line_chart(
        labels,
        [
            ("全部", [_percent(row["all"].value) for row in cures]),  # type: ignore[attr-defined]
            ("不含重组", [_percent(row["excluding_restructured"].value) for row in cures]),  # type: ignore[attr-defined]
        ],
        maximum=100,
        title="回正率",
        unit="%",
    )
    return render(
        request,
        "reports/trends.html",
        user,
        period=period,
        flows=flows,
        cures=cures,
        par=[row.as_dict() for row in par],
        flow_chart=flow_chart,
        cure_chart=cure_chart,
        buckets=BUCKETS[1:],
        definitions=[DEFINITIONS[key] for key in ("flow-rates", "cure-rates", "par", "unavailable")],
        tab="trends",
    )


@router.get("/reports/vintage", response_class=HTMLResponse)
def vintage_page(
    request: Request,
    session: Session = db_session,
    user: User = console_user(*PORTFOLIO_READERS),
    to: str | None = None,
    basis: str = "current",
    product: str | None = None,
) -> HTMLResponse:
    try:
        period = period_of(session, None, to, product)
    except LendDeskError as exc:
        return _refused(request, user, exc)
    basis = basis if basis in ("current", "ever") else "current"
    curves = service.vintage(session, period, basis)
    longest = max((point["mob"] for points in curves.values() for point in points), default=0)
    mobs = list(range(int(longest) + 1))  # type: ignore[call-overload]
    series = []
    for cohort, points in sorted(curves.items())[-6:]:
        by_mob = {point["mob"]: point["dpd30"] for point in points}
        series.append((cohort, [_percent(by_mob.get(mob)) for mob in mobs]))  # type: ignore[arg-type]
    top = max((value for _, values in series for value in values if value is not None), default=1.0)
    chart = line_chart(
        [f"MOB{m}" for m in mobs], series, maximum=max(top, 1.0), title="DPD30+ 余额占比", unit="%"
    )
    return render(
        request,
        "reports/vintage.html",
        user,
        period=period,
        basis=basis,
        curves=curves,
        mobs=mobs,
        chart=chart,
        definitions=[DEFINITIONS[key] for key in ("vintage", "unavailable")],
        tab="vintage",
    )


@router.get("/reports/loans", response_class=HTMLResponse)
def loans_page(
    request: Request,
    session: Session = db_session,
    user: User = console_user(*PORTFOLIO_READERS),
    month: str = "",
    to: str = "",
    from_state: str | None = None,
) -> HTMLResponse:
    """The loans behind a matrix cell: `to` at the end of `month` (and `from` the month before)."""
    from_state = request.query_params.get("from", from_state)
    try:
        chosen = parse_month(month)
    except LendDeskError as exc:
        return _refused(request, user, exc)
    if to not in STATES or (from_state is not None and from_state not in STATES):
        return render(request, "error.html", user, status_code=422, message="状态不正确")
    ids = service.loans_behind(session, month=chosen, state=to, from_state=from_state)
    audit.record(
        session,
        audit.Actor.of(user),
        "reports.drilldown",
        ("report", "roll-rates"),
        None,
        {"month": chosen, "from": from_state, "to": to, "loans": len(ids)},
    )
    return render(
        request,
        "reports/loans.html",
        user,
        month=chosen,
        from_state=from_state,
        to=to,
        loans=loan_labels(session, ids),
        tab="roll",
    )


def _rate(row: dict[str, object], *path: str) -> float | None:
    value: object = row
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return _percent(value if isinstance(value, float | int) else None)


@router.get("/reports/operations", response_class=HTMLResponse)
def operations_page(
    request: Request,
    session: Session = db_session,
    user: User = console_user(*PORTFOLIO_READERS),
    to: str | None = None,
) -> HTMLResponse:
    """SLA, first-contact resolution, promises, CSAT over 12 months; root causes; agents of the month."""
    try:
        period = period_of(session, None, to, None)
    except LendDeskError as exc:
        return _refused(request, user, exc)
    sla_rows = {row["key"]: row for row in operational.sla(session, period, "month", None)}
    promise_rows = {row["key"]: row for row in operational.promises(session, period, "month", None)}
    _, csat_rows = operational.satisfaction(session, period, "month", None)
    csat_by_month = {row["key"]: row for row in csat_rows}
    months = period.months()
    labels = [month[2:] for month in months]
    trend = line_chart(
        labels,
        [
            (
                "首响达成",
                [_rate(sla_rows.get(m, {}), "first_response", "attainment", "rate") for m in months],
            ),
            ("解决达成", [_rate(sla_rows.get(m, {}), "resolution", "attainment", "rate") for m in months]),
            ("一次解决", [_rate(sla_rows.get(m, {}), "fcr", "rate") for m in months]),
        ],
        maximum=100,
        title="SLA 达成率与一次解决率",
        unit="%",
    )
    care = line_chart(
        labels,
        [
            ("承诺兑现", [_rate(promise_rows.get(m, {}), "kept_rate", "rate") for m in months]),
            ("CSAT", [_rate(csat_by_month.get(m, {}), "csat", "rate") for m in months]),
        ],
        maximum=100,
        title="承诺兑现率与满意度",
        unit="%",
    )
    causes = operational.complaints(session, period)
    pareto = bar_chart(
        [str(row["label"]) for row in causes],
        [int(row["complaints"]) for row in causes],
        title="投诉根因",  # type: ignore[call-overload]
    )
    agents = operational.agents(session, period.last, "agent", None)
    return render(
        request,
        "reports/operations.html",
        user,
        period=period,
        months=months,
        sla=sla_rows,
        promises=promise_rows,
        csat=csat_by_month,
        trend=trend,
        care=care,
        causes=causes,
        pareto=pareto,
        agents=agents,
        definitions=[DEFINITIONS[key] for key in ("sla", "promises", "csat", "complaints", "agents")],
        tab="operations",
    )


# --- drill-down from operations figures: the tickets and promises behind them ----------------------

FIGURE_TITLES = {
    "first_response_achieved": "首响达成",
    "first_response_breached": "首响超时",
    "resolution_achieved": "解决达成",
    "resolution_breached": "解决超时",
    "resolved": "已解决",
    "first_contact": "一次解决",
    "not_first_contact": "非一次解决",
    "complaints": "已结案投诉",
}


def _drill_audit(session: Session, user: User, report: str, asked: dict[str, object]) -> None:
    audit.record(session, audit.Actor.of(user), "reports.drilldown", ("report", report), None, asked)


@router.get("/reports/tickets", response_class=HTMLResponse)
def tickets_page(
    request: Request,
    session: Session = db_session,
    user: User = console_user(*PORTFOLIO_READERS),
    figure: str = "resolution_breached",
    to: str | None = None,
    team: str | None = None,
    agent: int | None = None,
    cause: str | None = None,
) -> HTMLResponse:
    """The tickets behind an SLA, FCR, complaint or agent figure (numbers, status, no customer data)."""
    first = request.query_params.get("from") or to
    try:
        period = period_of(session, first, to, None)
        team_id = operational.team_id_of(session, team)
    except LendDeskError as exc:
        return _refused(request, user, exc)
    if figure not in FIGURE_TITLES:
        return render(request, "error.html", user, status_code=422, message="指标不正确")
    tickets = operational.tickets_behind(
        session, period, figure, owner=agent, team=team_id, root_cause=cause or None
    )
    _drill_audit(
        session,
        user,
        "complaints" if figure == "complaints" else "sla",
        {"figure": figure, "from": period.first, "to": period.last, "team": team, "agent": agent,
         "cause": cause, "tickets": len(tickets)},
    )  # fmt: skip
    return render(
        request,
        "reports/tickets.html",
        user,
        period=period,
        title=FIGURE_TITLES[figure],
        tickets=tickets,
        tab="operations",
    )


@router.get("/reports/promises", response_class=HTMLResponse)
def promises_page(
    request: Request,
    session: Session = db_session,
    user: User = console_user(*PORTFOLIO_READERS),
    status: str | None = None,
    to: str | None = None,
    team: str | None = None,
) -> HTMLResponse:
    """The promises behind a promise-kept figure, borrower names masked."""
    first = request.query_params.get("from") or to
    try:
        period = period_of(session, first, to, None)
        team_id = operational.team_id_of(session, team)
    except LendDeskError as exc:
        return _refused(request, user, exc)
    if status not in (None, "", "kept", "broken", "open"):
        return render(request, "error.html", user, status_code=422, message="状态不正确")
    promises = operational.promises_behind(session, period, status or None, team=team_id)
    _drill_audit(
        session,
        user,
        "promises",
        {"status": status, "from": period.first, "to": period.last, "team": team, "promises": len(promises)},
    )
    names = {
        borrower_id: card.name
        for borrower_id in {promise.borrower_id for promise in promises}
        if (card := ledger.borrower_card(session, borrower_id)) is not None
    }
    return render(
        request,
        "reports/promises.html",
        user,
        period=period,
        status=status,
        promises=promises,
        names=names,
        tab="operations",
    )
