"""The queue, the ticket page and the ticket's actions (reply, note, status, assignment,
verification, follow-ups, consults)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import LendDeskError, Unprocessable
from lenddesk.core.http import db_session
from lenddesk.core.models import User
from lenddesk.desk import categorise, complaint_stages, macros, service
from lenddesk.desk.models import TICKET_STATUSES, Agent
from lenddesk.desk.roles import COMPLAINT_HANDLERS, COMPLAINT_SENIORS, CONSULT_ANSWERERS, DESK, READERS
from lenddesk.web.console import (
    console_user,
    error_page,
    form_moment,
    local_time,
    may,
    optional_int,
    redirect,
    refused,
    render,
    request_time,
    safe_back,
)
from lenddesk.web.desk.labels import AGENT_STATUS_LABELS

router = APIRouter(include_in_schema=False)


# Queue tabs in display order; "all" is where QA and compliance start.
TABS = (
    ("mine", "我的工单"),
    ("team", "团队队列"),
    ("queue", "待领取"),
    ("due_soon", "即将到期"),
    ("breached", "已超时"),
    ("all", "全部"),
)
PAGE_SIZE = 50


# --- queue ----------------------------------------------------------------------------------------


def _queue_link(filters: dict[str, str], **changes: str | None) -> str:
    merged = {**filters, **changes}
    return "/desk?" + urlencode({k: v for k, v in merged.items() if v})


@router.get("/desk", response_class=HTMLResponse)
def queue(
    request: Request,
    session: Session = db_session,
    user: User = console_user(*READERS),
    view: str | None = None,
    status: str = "",
    category: str = "",
    severity: str = "",
    channel: str = "",
    q: str = "",
    after: str = "",
) -> Response:
    view = view or ("mine" if user.role in DESK else "all")
    filters = service.TicketFilters(
        view, status or None, category or None, severity or None, channel or None, q[:100] or None
    )
    now = request_time(request)
    error = None
    try:
        result = service.list_tickets(
            session, viewer=user, filters=filters, now=now, after=after or None, limit=PAGE_SIZE
        )
    except LendDeskError as exc:
        result, error = service.TicketPage([], None), exc.message_zh
    current = {
        "view": view,
        "status": status,
        "category": category,
        "severity": severity,
        "channel": channel,
        "q": q,
    }
    return render(
        request,
        "desk/queue.html",
        user,
        rows=result.rows,
        next_link=_queue_link(current, after=result.next_cursor) if result.next_cursor else None,
        first_link=_queue_link(current, after=None) if after else None,
        tabs=[(key, label, _queue_link(current, view=key, after=None)) for key, label in TABS],
        current=current,
        agent=session.get(Agent, user.id),
        can_set_status=may(user, DESK),
        channels=service.desk_policy().channels,
        statuses=TICKET_STATUSES,
        error=error,
        now=now,
    )


@router.post("/desk/agent-status")
def set_own_status(
    request: Request,
    status: str = Form(""),
    back: str = Form("/desk"),
    session: Session = db_session,
    user: User = console_user(*DESK),
) -> Response:
    try:
        service.set_agent_status(
            session, actor=audit.Actor.of(user), user_id=user.id, status=status, now=request_time(request)
        )
    except LendDeskError as exc:
        return refused(session, exc, safe_back(back, "/desk"))
    return redirect(safe_back(back, "/desk"), f"坐席状态已改为「{AGENT_STATUS_LABELS[status]}」")


# --- ticket page ----------------------------------------------------------------------------------


def _delivery_by_outbox(events: list[Any]) -> dict[int, str]:
    """The latest delivery outcome of each outbound message, from the timeline itself."""
    outcome: dict[int, str] = {}
    for event in events:
        data = event.data or {}
        if event.kind in ("outbound", "delivery") and data.get("outbox_id") is not None:
            outcome[int(data["outbox_id"])] = data.get("delivery", "queued")
    return outcome


def _ticket_page(
    request: Request,
    session: Session,
    user: User,
    number: str,
    *,
    error: str | None = None,
    status_code: int = 200,
    draft: dict[str, str] | None = None,
    macro: str | None = None,
) -> Response:
    now = request_time(request)
    try:
        view = service.ticket_detail(session, number=number)
    except LendDeskError as exc:
        return error_page(request, user, exc)
    ticket = view.ticket
    draft = dict(draft or {})
    if macro and may(user, DESK):
        try:
            draft["reply"] = service.render_macro(
                session,
                ticket=ticket,
                code=macro,
                agent_name=user.display_name,
                now=now,
                viewer=audit.Actor.of(user),
            )
        except LendDeskError as exc:
            error, status_code = exc.message_zh, 200
    # QA and compliance read tickets but not accounts (the API's panel is desk roles only).
    viewer = audit.Actor.of(user)
    panel = (
        service.borrower_panel(session, number=ticket.number, now=now, viewer=viewer)
        if may(user, DESK)
        else None
    )
    agents, teams = service.list_agents(session), service.list_teams(session)
    names = {agent.user_id: agent.name for agent in agents} | {user.id: user.display_name}
    done = [stage.stage for stage in view.complaint_stages]
    return render(
        request,
        "desk/ticket.html",
        user,
        status_code=status_code,
        view=view,
        ticket=ticket,
        verification_level=service.effective_level(session, ticket, now),
        panel=panel,
        delivery=_delivery_by_outbox(view.events),
        macros=service.list_macros(session) if may(user, DESK) else [],
        agents=agents,
        teams=teams,
        team_names={team.id: team.name for team in teams},
        names=names,
        transitions=[s for s in TICKET_STATUSES if s in service.TRANSITIONS[ticket.status]],
        next_stage=complaint_stages.next_stage(done) if view.complaint else None,
        stages_done=done,
        can_act=may(user, DESK),
        can_complain=may(user, COMPLAINT_HANDLERS),
        can_answer=may(user, CONSULT_ANSWERERS),
        error=error,
        draft=draft,
        chosen_macro=macro or "",
        now=now,
        categories=categorise.CATEGORIES,
        severities=categorise.SEVERITIES,
        departments=service.DEPARTMENTS,
        sources=complaint_stages.SOURCES,
        root_causes=complaint_stages.ROOT_CAUSES,
        extension_days=(
            service.desk_policy().complaint_complex_days,
            service.desk_policy().complaint_senior_days,
        ),
        next_extension=service.next_extension_days(view.complaint) if view.complaint else None,
        pending_extension=next((e for e in view.extensions if e.status == "pending"), None),
        can_approve=may(user, COMPLAINT_SENIORS),
        default_follow_up=local_time(now.replace(second=0, microsecond=0), "%Y-%m-%d %H:%M"),
    )


@router.get("/desk/tickets/{number}", response_class=HTMLResponse)
def ticket_page(
    number: str,
    request: Request,
    macro: str = "",
    session: Session = db_session,
    user: User = console_user(*READERS),
) -> Response:
    return _ticket_page(request, session, user, number, macro=macro or None)


def act(
    request: Request,
    session: Session,
    user: User,
    number: str,
    action: Callable[[audit.Actor, datetime], str | tuple[str, str]],
    draft: dict[str, str] | None = None,
) -> Response:
    """Run one service call; on success redirect back with its message, on refusal re-render."""
    try:
        outcome = action(audit.Actor.of(user), request_time(request))
    except LendDeskError as exc:
        return _ticket_page(request, session, user, number, draft=draft, **refused(session, exc))
    kind, message = outcome if isinstance(outcome, tuple) else ("info", outcome)
    return redirect(f"/desk/tickets/{number.strip().upper()}", message, kind)


@router.post("/desk/tickets/{number}/reply")
def post_reply(
    number: str,
    request: Request,
    text: str = Form(""),
    macro: str = Form(""),
    session: Session = db_session,
    user: User = console_user(*DESK),
) -> Response:
    def run(actor: audit.Actor, now: datetime) -> str:
        # Typed (or macro-filled and edited) text wins; an empty box sends the chosen macro.
        use_macro = macro if not text.strip() and macro else None
        service.reply(
            session,
            actor=actor,
            number=number,
            text=text,
            macro_code=use_macro,
            now=now,
            agent_name=user.display_name,
        )
        return "回复已发送（进入待投递队列）"

    return act(request, session, user, number, run, {"reply": text})


@router.post("/desk/tickets/{number}/note")
def post_note(
    number: str,
    request: Request,
    text: str = Form(""),
    session: Session = db_session,
    user: User = console_user(*DESK),
) -> Response:
    def run(actor: audit.Actor, now: datetime) -> str:
        service.add_note(session, actor=actor, number=number, text=text, now=now)
        return "备注已添加"

    return act(request, session, user, number, run, {"note": text})


@router.post("/desk/tickets/{number}/status")
def post_status(
    number: str,
    request: Request,
    status: str = Form(""),
    reason: str = Form(""),
    session: Session = db_session,
    user: User = console_user(*DESK),
) -> Response:
    def run(actor: audit.Actor, now: datetime) -> str:
        service.change_status(
            session, actor=actor, number=number, status=status, reason=reason.strip() or None, now=now
        )
        return f"状态已改为「{service.STATUS_LABELS[status]}」"

    return act(request, session, user, number, run, {"reason": reason})


@router.post("/desk/tickets/{number}/categorise")
def post_categorise(
    number: str,
    request: Request,
    category: str = Form(""),
    severity: str = Form(""),
    session: Session = db_session,
    user: User = console_user(*DESK),
) -> Response:
    def run(actor: audit.Actor, now: datetime) -> str:
        service.categorise_ticket(
            session, actor=actor, number=number, category=category, severity=severity, now=now
        )
        return f"分类已确认：{categorise.CATEGORIES[category]} / {severity}"

    return act(request, session, user, number, run)


@router.post("/desk/tickets/{number}/assign")
def post_assign(
    number: str,
    request: Request,
    owner_id: str = Form(""),
    team: str = Form(""),
    session: Session = db_session,
    user: User = console_user(*DESK),
) -> Response:
    def run(actor: audit.Actor, now: datetime) -> str:
        owner = optional_int(owner_id, "负责人", "owner")
        if owner is None and not team:
            raise Unprocessable("请选择负责人或团队", "Choose an owner or a team", code="assign_empty")
        service.assign(session, actor=actor, number=number, owner_id=owner, team_code=team or None, now=now)
        return "已重新分配"

    return act(request, session, user, number, run)


@router.post("/desk/tickets/{number}/claim")
def post_claim(
    number: str, request: Request, session: Session = db_session, user: User = console_user(*DESK)
) -> Response:
    def run(actor: audit.Actor, now: datetime) -> str:
        service.claim(session, actor=actor, number=number, now=now)
        return "已认领该工单"

    return act(request, session, user, number, run)


@router.post("/desk/tickets/{number}/verify/knowledge")
def post_verify_knowledge(
    number: str,
    request: Request,
    name: str = Form(""),
    id_last6: str = Form(""),
    contract_number: str = Form(""),
    phone: str = Form(""),
    session: Session = db_session,
    user: User = console_user(*DESK),
) -> Response:
    def run(actor: audit.Actor, now: datetime) -> tuple[str, str]:
        if not name.strip() or len(id_last6.strip()) != 6:
            raise Unprocessable(
                "请填写借款人姓名和身份证号后 6 位",
                "Give the borrower's name and the last six of the ID number",
                code="verification_input",
            )
        outcome = service.verify_knowledge(
            session,
            actor=actor,
            number=number,
            name=name,
            id_last6=id_last6,
            contract_number=contract_number.strip() or None,
            phone=phone.strip() or None,
            now=now,
        )
        if outcome.verified:
            return "info", f"身份核验通过（{macros.LEVEL_LABELS[outcome.level]}）"
        return "error", f"核验信息不符，还可尝试 {outcome.attempts_left} 次"

    return act(request, session, user, number, run)


@router.post("/desk/tickets/{number}/verify/otp/send")
def post_send_otp(
    number: str, request: Request, session: Session = db_session, user: User = console_user(*DESK)
) -> Response:
    def run(actor: audit.Actor, now: datetime) -> str:
        outcome = service.send_otp(session, actor=actor, number=number, now=now)
        return f"验证码已发送至 {outcome.sent_to}，有效至 {local_time(outcome.expires_at, '%H:%M')}"

    return act(request, session, user, number, run)


OTP_FAILURES = {
    "wrong": "验证码错误，还可尝试 {left} 次",
    "locked": "验证码错误次数过多，请重新发送",
    "expired": "验证码已过期，请重新发送",
}


@router.post("/desk/tickets/{number}/verify/otp/check")
def post_check_otp(
    number: str,
    request: Request,
    code: str = Form(""),
    session: Session = db_session,
    user: User = console_user(*DESK),
) -> Response:
    def run(actor: audit.Actor, now: datetime) -> tuple[str, str]:
        outcome = service.check_otp(session, actor=actor, number=number, code=code, now=now)
        if outcome.verified:
            return "info", f"短信验证码核验通过（{macros.LEVEL_LABELS[outcome.level]}）"
        return "error", OTP_FAILURES.get(outcome.reason, "验证未通过").format(left=outcome.attempts_left)

    return act(request, session, user, number, run)


@router.post("/desk/tickets/{number}/follow-ups")
def post_follow_up(
    number: str,
    request: Request,
    due_at: str = Form(""),
    note: str = Form(""),
    owner_id: str = Form(""),
    session: Session = db_session,
    user: User = console_user(*DESK),
) -> Response:
    def run(actor: audit.Actor, now: datetime) -> str:
        moment = form_moment(due_at, "跟进时间", "The follow-up time")
        owner = optional_int(owner_id, "跟进负责人", "follow-up owner")
        service.add_follow_up(
            session, actor=actor, number=number, due_at=moment, note=note, owner_id=owner, now=now
        )
        return f"已预约跟进：{local_time(moment)}"

    return act(request, session, user, number, run, {"follow_up": note})


@router.post("/desk/tickets/{number}/consults")
def post_consult(
    number: str,
    request: Request,
    department: str = Form(""),
    question: str = Form(""),
    session: Session = db_session,
    user: User = console_user(*DESK),
) -> Response:
    def run(actor: audit.Actor, now: datetime) -> str:
        service.open_consult(
            session, actor=actor, number=number, department=department, question=question, now=now
        )
        return f"已咨询{service.DEPARTMENTS[department]}，工单转为等待内部"

    return act(request, session, user, number, run, {"consult": question})


@router.post("/desk/tickets/{number}/consults/{consult_id}/answer")
def post_consult_answer(
    number: str,
    consult_id: int,
    request: Request,
    answer: str = Form(""),
    session: Session = db_session,
    user: User = console_user(*CONSULT_ANSWERERS),
) -> Response:
    def run(actor: audit.Actor, now: datetime) -> str:
        service.answer_consult(session, actor=actor, consult_id=consult_id, answer=answer, now=now)
        return "咨询已答复"

    return act(request, session, user, number, run)
