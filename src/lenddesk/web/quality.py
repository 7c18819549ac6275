"""Console pages of the quality room: the review queue and the review page (verdicts, the agent's
acknowledgement, saving a case), scorecards with trend charts, and the case library.

Plain server-rendered forms that POST and redirect back; a refused action re-renders the page
with the message in Chinese.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import LendDeskError
from lenddesk.core.http import db_session
from lenddesk.core.models import User
from lenddesk.core.roles import admits
from lenddesk.quality import charts, rubric, sampling, scorecards, service
from lenddesk.quality.roles import AGENTS, READERS, REVIEWERS
from lenddesk.web.console import (
    HomeCard,
    add_home_cards,
    add_nav,
    console_user,
    error_page,
    refused,
    render,
    request_time,
)
from lenddesk.web.desk import labels as desk_labels

router = APIRouter(include_in_schema=False)

RESULT_LABELS = {"pass": "通过", "fail": "不通过", "n/a": "不适用"}
STATUS_LABELS = {"pending": "待复核", "reviewed": "已复核", "acknowledged": "坐席已确认"}

add_nav("质检", "/quality", *READERS, area="质检")
add_nav("案例库", "/quality/cases", *READERS, area="质检")
desk_labels.NOTIFICATION_LABELS.setdefault("qa_severe", "质检严重问题")


def _quality_cards(session: Session, user: User, now: datetime) -> list[HomeCard]:
    if not admits(user.role, REVIEWERS):
        return []
    pending = service.review_queue(session, viewer=user, status="pending", limit=500)
    severe = sum(1 for row in pending if row.review.reason == "severe")
    return [
        HomeCard("待复核会话", str(len(pending)), "/quality", "warn" if pending else ""),
        HomeCard("严重质检问题", str(severe), "/quality?reason=severe", "bad" if severe else ""),
    ]


add_home_cards(_quality_cards)


def _labels() -> dict[str, object]:
    return {
        "code_labels": rubric.CODE_LABELS,
        "result_labels": RESULT_LABELS,
        "review_status_labels": STATUS_LABELS,
        "reason_labels": sampling.REASON_LABELS,
        "case_kinds": service.CASE_KINDS,
    }


@router.get("/quality", response_class=HTMLResponse)
def queue(
    request: Request,
    session: Session = db_session,
    user: User = console_user(*READERS),
    status: str = "pending",
    reason: str | None = None,
) -> HTMLResponse:
    reviewer = user.role in service.REVIEWERS
    if not reviewer and status == "pending":
        status = ""
    rows = service.review_queue(session, viewer=user, status=status or None, reason=reason or None, limit=200)
    return render(
        request,
        "quality/queue.html",
        user,
        rows=rows,
        status=status,
        reason=reason,
        reviewer=reviewer,
        **_labels(),
    )


def _review_page(
    request: Request,
    session: Session,
    user: User,
    review_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    detail = service.review_detail(session, viewer=user, review_id=review_id)
    review = detail.row.review
    return render(
        request,
        "quality/review.html",
        user,
        status_code=status_code,
        detail=detail,
        review=review,
        can_review=user.role in service.REVIEWERS
        and review.status == "pending"
        and review.agent_id != user.id,
        can_acknowledge=review.status == "reviewed" and review.agent_id == user.id,
        can_save_case=user.role in service.REVIEWERS and review.status != "pending",
        error=error,
        done=request.query_params.get("done"),
        speaker_labels={"agent": "客服", "borrower": "客户", "bot": "机器人", "note": "内部备注"},
        **_labels(),
    )


@router.get("/quality/reviews/{review_id}", response_class=HTMLResponse)
def review_page(
    review_id: int, request: Request, session: Session = db_session, user: User = console_user(*READERS)
) -> HTMLResponse:
    if not 1 <= review_id <= 2**63 - 1:
        return render(request, "error.html", user, status_code=404, message="复核记录不存在")
    try:
        return _review_page(request, session, user, review_id)
    except LendDeskError as exc:
        return error_page(request, user, exc)


def _after(review_id: int, done: str) -> RedirectResponse:
    return RedirectResponse(f"/quality/reviews/{review_id}?done={quote(done)}", status_code=303)


def _refused(
    request: Request, session: Session, user: User, review_id: int, exc: LendDeskError
) -> HTMLResponse:
    shown = refused(session, exc)
    try:
        return _review_page(request, session, user, review_id, **shown)
    except LendDeskError as missing:
        return error_page(request, user, missing)


@router.post("/quality/reviews/{review_id}", response_model=None)
async def submit_review(
    review_id: int, request: Request, session: Session = db_session, user: User = console_user(*REVIEWERS)
) -> HTMLResponse | RedirectResponse:
    form = await request.form()
    verdicts = []
    for code in rubric.CODES:
        result = form.get(f"result_{code}")
        if isinstance(result, str) and result:
            comment = form.get(f"comment_{code}")
            verdicts.append(
                service.ItemVerdictIn(code, result, comment[:2000] if isinstance(comment, str) else None)
            )
    comment = form.get("comment")
    try:
        service.submit_review(
            session,
            actor=audit.Actor.of(user),
            review_id=review_id,
            verdicts=verdicts,
            comment=comment[:5000] if isinstance(comment, str) else None,
            now=request_time(request),
        )
    except LendDeskError as exc:
        return _refused(request, session, user, review_id, exc)
    return _after(review_id, "复核已提交")


@router.post("/quality/reviews/{review_id}/acknowledge", response_model=None)
async def acknowledge(
    review_id: int, request: Request, session: Session = db_session, user: User = console_user(*AGENTS)
) -> HTMLResponse | RedirectResponse:
    form = await request.form()
    comment = form.get("comment")
    try:
        service.acknowledge_review(
            session,
            actor=audit.Actor.of(user),
            review_id=review_id,
            comment=comment[:2000] if isinstance(comment, str) else None,
            now=request_time(request),
        )
    except LendDeskError as exc:
        return _refused(request, session, user, review_id, exc)
    return _after(review_id, "已确认复核意见")


@router.post("/quality/reviews/{review_id}/case", response_model=None)
async def save_case(
    review_id: int, request: Request, session: Session = db_session, user: User = console_user(*REVIEWERS)
) -> HTMLResponse | RedirectResponse:
    form = await request.form()

    def text(name: str, limit: int) -> str:
        value = form.get(name)
        return value[:limit] if isinstance(value, str) else ""

    try:
        service.save_case(
            session,
            actor=audit.Actor.of(user),
            review_id=review_id,
            kind=text("kind", 8),
            title=text("title", 100),
            lesson=text("lesson", 5000),
            tags=[t for t in text("tags", 500).replace("，", ",").split(",")][:20],
            now=request_time(request),
        )
    except LendDeskError as exc:
        return _refused(request, session, user, review_id, exc)
    return _after(review_id, "已收入案例库")


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


@router.get("/quality/scorecards", response_class=HTMLResponse)
def scorecards_page(
    request: Request,
    session: Session = db_session,
    user: User = console_user(*READERS),
    period: str | None = None,
    scope: str = "agent",
) -> HTMLResponse:
    now = request_time(request)
    chosen = (period or scorecards.period_of(now, "week").label)[:10]
    only = str(user.id) if user.role in ("agent", "collector") else None
    scope = "agent" if only else (scope if scope in scorecards.SCOPES else "agent")
    try:
        cards = scorecards.scorecards(session, period=chosen, scope=scope, key=only)
    except LendDeskError as exc:
        return error_page(request, user, exc)
    trend = charts.line_chart(
        [t.period[-3:] for t in cards.trend],
        [("质检分", [t.qa_score for t in cards.trend]), ("CSAT %", [_percent(t.csat) for t in cards.trend])],
        maximum=100,
        title="质检分与满意度趋势",
    )
    week = scorecards.period_of(now, "week").label
    month = scorecards.period_of(now, "month").label
    return render(
        request,
        "quality/scorecards.html",
        user,
        cards=cards,
        trend=trend,
        period=chosen,
        scope=scope,
        own_only=bool(only),
        this_week=week,
        this_month=month,
        previous=scorecards.previous(cards.period).label,
    )


@router.get("/quality/cases", response_class=HTMLResponse)
def cases_page(
    request: Request,
    session: Session = db_session,
    user: User = console_user(*READERS),
    q: str | None = None,
    tag: str | None = None,
    kind: str | None = None,
) -> HTMLResponse:
    found = service.search_cases(
        session,
        q=(q or "")[:100] or None,
        tag=(tag or "")[:32] or None,
        kind=kind if kind in service.CASE_KINDS else None,
    )
    return render(
        request,
        "quality/cases.html",
        user,
        cases=found,
        q=q or "",
        tag=tag or "",
        kind=kind or "",
        **_labels(),
    )
