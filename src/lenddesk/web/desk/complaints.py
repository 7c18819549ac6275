"""Complaints: the actions on a ticket's complaint and the complaints list with its summary."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.http import db_session
from lenddesk.core.models import User
from lenddesk.desk import complaint_stages, service
from lenddesk.desk.roles import COMPLAINT_HANDLERS, COMPLAINT_READERS, COMPLAINT_SENIORS
from lenddesk.web.console import console_user, optional_int, render, request_time
from lenddesk.web.desk.tickets import act

router = APIRouter(include_in_schema=False)


@router.post("/desk/tickets/{number}/complaint")
def post_open_complaint(
    number: str,
    request: Request,
    source: str = Form("customer"),
    content: str = Form(""),
    session: Session = db_session,
    user: User = console_user(*COMPLAINT_HANDLERS),
) -> Response:
    def run(actor: audit.Actor, now: datetime) -> str:
        service.open_complaint(session, actor=actor, number=number, source=source, content=content, now=now)
        return "投诉已登记（受理）"

    return act(request, session, user, number, run, {"complaint": content})


@router.post("/desk/tickets/{number}/complaint/stage")
def post_complaint_stage(
    number: str,
    request: Request,
    stage: str = Form(""),
    content: str = Form(""),
    session: Session = db_session,
    user: User = console_user(*COMPLAINT_HANDLERS),
) -> Response:
    def run(actor: audit.Actor, now: datetime) -> str:
        service.advance_complaint(session, actor=actor, number=number, stage=stage, content=content, now=now)
        return f"投诉环节「{complaint_stages.STAGE_LABELS[stage]}」已记录"

    return act(request, session, user, number, run, {"stage": content})


@router.post("/desk/tickets/{number}/complaint/extend")
def post_complaint_extend(
    number: str,
    request: Request,
    days: str = Form(""),
    reason: str = Form(""),
    session: Session = db_session,
    user: User = console_user(*COMPLAINT_HANDLERS),
) -> Response:
    def run(actor: audit.Actor, now: datetime) -> str:
        wanted = optional_int(days, "延期天数", "extension days") or 0
        extension = service.extend_complaint(
            session, actor=actor, number=number, days=wanted, reason=reason, now=now
        )
        if extension.status == "pending":
            return f"延至 {wanted} 天的申请已提交，待另一位组长/合规人员批准"
        return f"处理期限已延至 {wanted} 天，并已通知投诉人"

    return act(request, session, user, number, run, {"extend": reason})


@router.post("/desk/tickets/{number}/complaint/extension/approve")
def post_extension_approve(
    number: str,
    request: Request,
    session: Session = db_session,
    user: User = console_user(*COMPLAINT_SENIORS),
) -> Response:
    def run(actor: audit.Actor, now: datetime) -> str:
        extension = service.approve_extension(session, actor=actor, number=number, now=now)
        return f"已批准延期，处理期限延至 {extension.days} 天，并已通知投诉人"

    return act(request, session, user, number, run)


@router.post("/desk/tickets/{number}/complaint/extension/reject")
def post_extension_reject(
    number: str,
    request: Request,
    reason: str = Form(""),
    session: Session = db_session,
    user: User = console_user(*COMPLAINT_SENIORS),
) -> Response:
    def run(actor: audit.Actor, now: datetime) -> str:
        service.reject_extension(session, actor=actor, number=number, reason=reason, now=now)
        return "已驳回延期申请"

    return act(request, session, user, number, run)


@router.post("/desk/tickets/{number}/complaint/close")
def post_complaint_close(
    number: str,
    request: Request,
    root_cause: str = Form(""),
    session: Session = db_session,
    user: User = console_user(*COMPLAINT_HANDLERS),
) -> Response:
    def run(actor: audit.Actor, now: datetime) -> str:
        service.close_complaint(session, actor=actor, number=number, root_cause=root_cause, now=now)
        return f"投诉已结案（根因：{complaint_stages.ROOT_CAUSES[root_cause]}）"

    return act(request, session, user, number, run)


# --- complaints -----------------------------------------------------------------------------------


@router.get("/desk/complaints", response_class=HTMLResponse)
def complaints_page(
    request: Request,
    state: str = "open",
    session: Session = db_session,
    user: User = console_user(*COMPLAINT_READERS),
) -> Response:
    now = request_time(request)
    state = state if state in ("open", "closed", "all") else "open"
    return render(
        request,
        "desk/complaints.html",
        user,
        summary=service.complaint_summary(session, now=now),
        rows=service.list_complaints(session, state=state, now=now),
        state=state,
        now=now,
        age_buckets=complaint_stages.AGE_BUCKETS,
        stages=complaint_stages.STAGES,
    )


@router.get("/desk/complaints/summary.csv")
def complaints_csv(
    request: Request, session: Session = db_session, user: User = console_user(*COMPLAINT_READERS)
) -> Response:
    text = service.complaint_summary_csv(service.complaint_summary(session, now=request_time(request)))
    return Response(
        content=text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="complaints-summary.csv"'},
    )
