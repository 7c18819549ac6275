"""Console pages of the collections room: the collector's worklist, the account page (contact
history, the guard's verdict before sending, outcome and promise forms), the compliance page
(blocked attempts by code and agent, a text checker) and the strategy report."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from lenddesk.collections import guard, service
from lenddesk.collections.roles import CHECK_PAGE_READERS, COLLECTORS, REPORT_READERS
from lenddesk.core import audit
from lenddesk.core.calendar import business_today
from lenddesk.core.db import utcnow
from lenddesk.core.errors import Forbidden, LendDeskError, NotFound
from lenddesk.core.http import db_session
from lenddesk.core.models import User
from lenddesk.core.money import parse_yuan
from lenddesk.core.roles import LEADS, admits
from lenddesk.ledger import service as ledger
from lenddesk.web.console import add_nav, console_user, form_day, render

router = APIRouter(include_in_schema=False)
BorrowerId = Annotated[int, Path(ge=1, le=2**63 - 1)]

add_nav("催收工作台", "/collections", *COLLECTORS, area="催收")
add_nav("催收合规", "/collections/compliance", *CHECK_PAGE_READERS, area="催收")
add_nav("策略效果", "/collections/report", *REPORT_READERS, area="催收")

CHANNEL_LABELS = {
    "sms": "短信",
    "call_script": "电话",
    "email": "邮件",
    "app": "App 推送",
    "robocall": "语音机器人",
}
OUTCOME_LABELS = {
    "right_party": "联系到本人",
    "wrong_number": "号码错误",
    "no_answer": "无人接听",
    "refused": "拒绝沟通",
    "promise_to_pay": "承诺还款",
    "dispute": "异议/投诉",
    "hardship": "还款困难",
    "third_party": "联系到第三方",
    "new_contact": "新联系方式",
}
STATUS_LABELS = {
    "sent": "已发送",
    "blocked": "已拦截",
    "scheduled": "待发送",
    "expired": "已过期",
    "undeliverable": "无地址",
}
LABELS = {"channels": CHANNEL_LABELS, "outcomes": OUTCOME_LABELS, "statuses": STATUS_LABELS}


@router.get("/collections", response_class=HTMLResponse)
def worklist_page(
    request: Request, session: Session = db_session, user: User = console_user(*COLLECTORS)
) -> HTMLResponse:
    today = business_today()
    user_id = None if admits(user.role, LEADS) else user.id
    rows = service.worklist(session, user_id=user_id, day=today)
    return render(
        request, "collections/worklist.html", user, rows=rows, today=today, all_collectors=user_id is None
    )


def _account_context(session: Session, user: User, borrower_id: int) -> dict[str, object]:
    view = ledger.open_borrower_360(
        session,
        viewer=audit.Actor.of(user),
        borrower_id=borrower_id,
        case_reference=None,
        surface="console",
        today=business_today(),
    )
    page = service.account_page(session, borrower_id=borrower_id)
    return {"b": view, "page": page, "labels": LABELS, "masked": service.masked_details}


def _account(
    request: Request, session: Session, user: User, borrower_id: int, status_code: int = 200, **extra: object
) -> HTMLResponse:
    try:
        context = _account_context(session, user, borrower_id)
    except (NotFound, Forbidden) as exc:
        return render(request, "error.html", user, status_code=exc.status_code, message=exc.message_zh)
    form = {"channel": "sms", "recipient": "self", "text": ""} | dict(extra.pop("form", {}) or {})  # type: ignore[arg-type]
    return render(
        request, "collections/account.html", user, status_code=status_code, form=form, **context, **extra
    )


@router.get("/collections/accounts/{borrower_id}", response_class=HTMLResponse)
def account_page(
    request: Request,
    borrower_id: BorrowerId,
    session: Session = db_session,
    user: User = console_user(*COLLECTORS),
) -> HTMLResponse:
    return _account(request, session, user, borrower_id)


def _recipient(value: str) -> str | int:
    value = value.strip()
    return int(value) if value.isdigit() and len(value) < 19 else value


@router.post("/collections/accounts/{borrower_id}/contact", response_class=HTMLResponse)
def contact_action(
    request: Request,
    borrower_id: BorrowerId,
    action: str = Form("preview"),
    channel: str = Form("sms"),
    recipient: str = Form("self"),
    text: str = Form("", max_length=2000),
    session: Session = db_session,
    user: User = console_user(*COLLECTORS),
) -> Response:
    """`preview` shows the guard's verdict; `send` sends (or records the blocked attempt)."""
    actor = audit.Actor.of(user)
    form = {"channel": channel, "recipient": recipient, "text": text}
    now = utcnow()
    try:
        service.ensure_access(session, actor=actor, borrower_id=borrower_id)
        if action == "send":
            result = service.send_contact(
                session, actor=actor, borrower_id=borrower_id, recipient=_recipient(recipient),
                channel=channel, text=text, now=now,
            )  # fmt: skip
            if result.verdict.allowed:
                service.mark_worked(session, borrower_id=borrower_id, day=business_today())
                return RedirectResponse(f"/collections/accounts/{borrower_id}?sent=1", status_code=303)
            return _account(
                request, session, user, borrower_id, 422, verdict=result.verdict, blocked=True, form=form
            )
        verdict = service.check_what_if(
            session,
            borrower_id=borrower_id,
            recipient=_recipient(recipient),
            channel=channel,
            at=now,
            text=text,
        )
        return _account(request, session, user, borrower_id, verdict=verdict, form=form)
    except LendDeskError as exc:
        return _account(request, session, user, borrower_id, exc.status_code, error=exc.message_zh, form=form)


@router.post("/collections/accounts/{borrower_id}/outcome", response_class=HTMLResponse)
def outcome_action(
    request: Request,
    borrower_id: BorrowerId,
    kind: str = Form(...),
    note: str = Form("", max_length=500),
    promise_amount: str = Form(""),
    promise_date: str = Form(""),
    new_mobile: str = Form("", max_length=20),
    session: Session = db_session,
    user: User = console_user(*COLLECTORS),
) -> Response:
    actor = audit.Actor.of(user)
    try:
        service.ensure_access(session, actor=actor, borrower_id=borrower_id)
        service.record_outcome(
            session,
            actor=actor,
            borrower_id=borrower_id,
            kind=kind,
            now=utcnow(),
            note=note,
            promise_amount_fen=parse_yuan(promise_amount) if promise_amount.strip() else None,
            promise_date=form_day(promise_date, "承诺日期", "The promise date"),
            new_mobile=new_mobile or None,
        )
    except LendDeskError as exc:
        return _account(request, session, user, borrower_id, exc.status_code, error=exc.message_zh)
    return RedirectResponse(f"/collections/accounts/{borrower_id}?recorded=1", status_code=303)


@router.get("/collections/compliance", response_class=HTMLResponse)
def compliance_page(
    request: Request,
    days: int = 30,
    session: Session = db_session,
    user: User = console_user(*CHECK_PAGE_READERS),
) -> HTMLResponse:
    days = max(1, min(days, 366))
    figures = service.blocked_figures(session, since=utcnow() - timedelta(days=days))
    return render(
        request, "collections/compliance.html", user, figures=figures, days=days, labels=LABELS, checked=None
    )


@router.post("/collections/compliance/check", response_class=HTMLResponse)
def text_checker(
    request: Request,
    text: str = Form("", max_length=2000),
    recipient: str = Form("self"),
    session: Session = db_session,
    user: User = console_user(*CHECK_PAGE_READERS),
) -> HTMLResponse:
    """The text checker: the text rules (and, for a third party, the disclosure rule) — nothing is sent."""
    violations = guard.text_violations(text)
    if recipient == "third_party":
        disclosure = guard.third_party_violation(text)
        violations = ([disclosure] if disclosure else []) + violations
    figures = service.blocked_figures(session, since=utcnow() - timedelta(days=30))
    return render(
        request,
        "collections/compliance.html",
        user,
        figures=figures,
        days=30,
        labels=LABELS,
        checked={"text": text, "recipient": recipient, "violations": violations},
    )


@router.get("/collections/report", response_class=HTMLResponse)
def report_page(
    request: Request, session: Session = db_session, user: User = console_user(*REPORT_READERS)
) -> HTMLResponse:
    until = business_today()
    since = until - timedelta(days=90)
    reports = service.strategy_report(session, since=since, until=until)
    # Safe to mark up: the SVG is built from numbers, fixed labels and html-escaped strategy names.
    chart = Markup(service.report_chart_svg(reports)) if reports else None
    return render(
        request, "collections/report.html", user, reports=reports, metrics=service.METRICS, chart=chart,
        since=since, until=until,
    )  # fmt: skip
