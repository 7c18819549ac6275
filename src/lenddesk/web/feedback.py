"""Console pages of the feedback room: the borrower's public survey page and the CSAT/NPS dashboard.

`/survey/{token}` needs no sign-in: the unguessable token in the link is the borrower's only key,
so the page shows nothing about the account, and an unknown, expired or answered link says only
that.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from lenddesk.core import auth
from lenddesk.core.calendar import business_date
from lenddesk.core.db import utcnow
from lenddesk.core.errors import LendDeskError, Unprocessable
from lenddesk.core.http import db_session
from lenddesk.core.models import User
from lenddesk.feedback import analysis, service
from lenddesk.quality import charts
from lenddesk.web.console import add_nav, console_user, render

router = APIRouter(include_in_schema=False)

READERS = ("team_lead", "qa", "compliance")
DIMENSION_LABELS = {"team": "团队", "agent": "坐席", "category": "分类", "channel": "渠道", "week": "按周"}
SENTIMENT_LABELS = {"positive": "正面", "neutral": "中性", "negative": "负面"}

add_nav("满意度", "/feedback", *READERS)


def request_now(request: Request) -> datetime:
    clock = getattr(request.app.state, "desk_clock", None)
    return clock() if clock is not None else utcnow()


@router.get("/survey/{token}", response_class=HTMLResponse, dependencies=[auth.public()])
def survey_page(token: str, request: Request, session: Session = db_session) -> HTMLResponse:
    try:
        page = service.survey_page(session, token=token[:200], now=request_now(request))
    except LendDeskError as exc:
        return render(
            request, "feedback/survey.html", None, status_code=exc.status_code, error=exc.message_zh
        )
    return render(request, "feedback/survey.html", None, page=page, form={})


@router.post("/survey/{token}", response_class=HTMLResponse, dependencies=[auth.public()])
def survey_submit(
    token: str,
    request: Request,
    csat: str = Form(default="", max_length=4),
    nps: str = Form(default="", max_length=4),
    comment: str = Form(default="", max_length=service.COMMENT_MAX * 2),
    session: Session = db_session,
) -> HTMLResponse:
    form = {"csat": csat, "nps": nps, "comment": comment}
    now = request_now(request)
    try:
        if not csat.strip().isdigit():
            raise Unprocessable("请选择满意度评分", "Choose a CSAT score", code="bad_csat")
        nps_value = int(nps) if nps.strip().isdigit() else None
        survey = service.answer_survey(
            session, token=token[:200], csat=int(csat), nps=nps_value, comment=comment, now=now
        )
    except LendDeskError as exc:
        session.rollback()
        try:
            page = service.survey_page(session, token=token[:200], now=now)
        except LendDeskError:
            page = None
        return render(
            request,
            "feedback/survey.html",
            None,
            status_code=exc.status_code,
            page=page,
            error=exc.message_zh,
            form=form,
        )
    return render(request, "feedback/survey.html", None, thanks=True, csat=survey.csat)


def _default_range(now: datetime) -> tuple[date, date]:
    today = business_date(now)
    return today - timedelta(days=27), today


def _bounded(day: date) -> date:
    """A report date within the span the API accepts (1900–2199): 9999-12-31 has no next day."""
    if not date(1900, 1, 1) <= day <= date(2199, 12, 31):
        raise Unprocessable(
            "日期须在 1900-01-01 至 2199-12-31 之间",
            "Dates must fall between 1900-01-01 and 2199-12-31",
            code="bad_date",
        )
    return day


@router.get("/feedback", response_class=HTMLResponse)
def dashboard(
    request: Request,
    session: Session = db_session,
    user: User = console_user(*READERS),
    by: str = "team",
    start: str | None = None,
    end: str | None = None,
) -> HTMLResponse:
    first, last = _default_range(request_now(request))
    error = None
    try:
        first = _bounded(date.fromisoformat(start)) if start else first
        last = _bounded(date.fromisoformat(end)) if end else last
        by = by if by in DIMENSION_LABELS else "team"
        total, groups = service.summary(
            session, start=service.day_start(first), end=service.day_start(last) + timedelta(days=1), by=by
        )
        _, weeks = service.summary(
            session,
            start=service.day_start(first),
            end=service.day_start(last) + timedelta(days=1),
            by="week",
        )
    except (ValueError, LendDeskError) as exc:
        error = getattr(exc, "message_zh", "日期格式应为 YYYY-MM-DD")
        total, groups, weeks = service.Summary(), [], []
    trend = charts.line_chart(
        [w.key[-3:] for w in weeks],
        [
            ("CSAT %", [None if w.csat is None else round(100 * w.csat, 1) for w in weeks]),
            (
                "回复率 %",
                [None if w.response_rate is None else round(100 * w.response_rate, 1) for w in weeks],
            ),
        ],
        maximum=100,
        title="满意度与回复率（按周）",
        unit="%",
    )
    scores = charts.bar_chart(
        [f"{s} 分" for s in range(1, 6)], [total.by_score[s] for s in range(1, 6)], title="评分分布"
    )
    return render(
        request,
        "feedback/dashboard.html",
        user,
        total=total,
        groups=groups,
        by=by,
        start=first.isoformat(),
        end=last.isoformat(),
        error=error,
        trend=trend,
        scores=scores,
        dimension_labels=DIMENSION_LABELS,
        sentiment_labels=SENTIMENT_LABELS,
        topic_labels=analysis.TOPIC_LABELS,
    )
