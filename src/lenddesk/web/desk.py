"""Console pages of the desk room: queues, the ticket page, follow-ups, complaints and the team board.

Plain server-rendered forms: every action POSTs and redirects back (PRG) with a one-shot flash
message. A refused action (a LendDeskError from the service) rolls the request back and re-renders
the page with the message in Chinese, keeping what the agent typed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote, urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.calendar import SHANGHAI
from lenddesk.core.db import utcnow
from lenddesk.core.errors import LendDeskError, Unprocessable
from lenddesk.core.http import db_session
from lenddesk.core.models import User
from lenddesk.desk import categorise, complaints, macros, service
from lenddesk.desk.models import TICKET_STATUSES, Agent
from lenddesk.web.console import HomeCard, add_home_cards, add_nav, console_user, render, templates

router = APIRouter(include_in_schema=False)

# Who may do what: the same role sets as the desk API (admin is always allowed).
READERS = ("agent", "collector", "team_lead", "qa", "compliance")
DESK = ("agent", "team_lead", "collector")
LEADS = ("team_lead",)
COMPLAINT_HANDLERS = ("agent", "team_lead", "compliance")
COMPLAINT_READERS = ("agent", "team_lead", "collector", "qa", "compliance")
CONSULT_ANSWERERS = ("agent", "team_lead", "collector", "compliance")
COMPLAINT_SENIORS = ("team_lead", "compliance")
EXTENSION_STATUS_LABELS = {
    "applied": "已延期",
    "pending": "待批准",
    "approved": "已批准",
    "rejected": "已驳回",
}
NOTIFICATION_LABELS = {
    "sla_breach": "SLA 超时",
    "complaint_d3": "投诉 D-3",
    "complaint_d1": "投诉 D-1",
    "complaint_breach": "投诉超期",
}

add_nav("工单", "/desk", *READERS)
add_nav("今日跟进", "/desk/follow-ups", *DESK)
add_nav("投诉", "/desk/complaints", *COMPLAINT_READERS)
add_nav("组长看板", "/desk/board", *LEADS)
add_nav("通知", "/desk/notifications", *DESK)


def _my_desk_cards(session: Session, user: User, now: datetime) -> list[HomeCard]:
    if user.role not in DESK:
        return []
    mine = service.my_desk(session, viewer_id=user.id, now=now)
    return [
        HomeCard("我的待办工单", str(mine.open_tickets), "/desk?view=mine"),
        HomeCard("即将超时", str(mine.at_risk), "/desk?view=mine", "warn" if mine.at_risk else ""),
        HomeCard("已超时", str(mine.breached), "/desk?view=mine", "bad" if mine.breached else ""),
        HomeCard(
            "今日跟进", str(mine.follow_ups_due), "/desk/follow-ups", "warn" if mine.follow_ups_due else ""
        ),
        HomeCard(
            "未读通知",
            str(mine.unread_notifications),
            "/desk/notifications",
            "warn" if mine.unread_notifications else "",
        ),
    ]


add_home_cards(_my_desk_cards)

CHANNEL_LABELS = {
    "phone": "电话",
    "chat": "在线客服",
    "email": "邮件",
    "wechat": "微信",
    "sms": "短信",
    "web_form": "网页表单",
    "api": "接口",
}
SEVERITY_LABELS = {"P1": "P1 紧急", "P2": "P2 高", "P3": "P3 中", "P4": "P4 低"}
SLA_LABELS = {"ok": "正常", "at_risk": "即将超时", "breached": "已超时"}
AGENT_STATUS_LABELS = {"online": "在线", "away": "离开", "offline": "离线"}
EVENT_LABELS = {
    "inbound": "客户来信",
    "outbound": "回复客户",
    "note": "内部备注",
    "status": "状态变更",
    "assignment": "分配",
    "category": "分类",
    "consult": "部门咨询",
    "verification": "身份核验",
    "follow_up": "跟进",
    "sla": "时限",
    "complaint": "投诉",
    "delivery": "投递",
    "reopen": "重新打开",
    "call": "通话",
}
DELIVERY_LABELS = {
    "queued": "待投递",
    "sent": "已发送",
    "delivered": "已送达",
    "failed": "投递失败",
    "dead": "投递失败（死信）",
}
TAG_LABELS = {"complaint": "投诉", "regulator": "监管", "media": "媒体", "lawyer": "律师"}
LOAN_STATUS_LABELS = {"current": "正常", "overdue": "逾期", "settled": "已结清", "written_off": "已核销"}
SOURCE_LABELS = {"customer": "客户", "regulator": "监管转办", "media": "媒体", "lawyer": "律师"}
# Queue tabs in display order; "all" is where QA and compliance start.
TABS = (
    ("mine", "我的工单"),
    ("team", "团队队列"),
    ("queue", "待领取"),
    ("due_soon", "即将到期"),
    ("breached", "已超时"),
    ("all", "全部"),
)
FLASH_COOKIE = "lenddesk_flash"
PAGE_SIZE = 50


def _local(moment: datetime | None, pattern: str = "%m-%d %H:%M") -> str:
    return moment.astimezone(SHANGHAI).strftime(pattern) if moment else "—"


templates.env.filters["local_time"] = _local
templates.env.globals.update(
    channel_labels=CHANNEL_LABELS,
    severity_labels=SEVERITY_LABELS,
    sla_labels=SLA_LABELS,
    status_labels=service.STATUS_LABELS,
    category_labels=categorise.CATEGORIES,
    level_labels=macros.LEVEL_LABELS,
    agent_status_labels=AGENT_STATUS_LABELS,
    event_labels=EVENT_LABELS,
    delivery_labels=DELIVERY_LABELS,
    department_labels=service.DEPARTMENTS,
    stage_labels=complaints.STAGE_LABELS,
    root_cause_labels=complaints.ROOT_CAUSES,
    source_labels=SOURCE_LABELS,
    loan_status_labels=LOAN_STATUS_LABELS,
    tag_labels=TAG_LABELS,
    extension_status_labels=EXTENSION_STATUS_LABELS,
    notification_labels=NOTIFICATION_LABELS,
)


def request_now(request: Request) -> datetime:
    """The current time; tests may pin it with `app.state.desk_clock` (as the desk API does)."""
    clock = getattr(request.app.state, "desk_clock", None)
    return clock() if clock is not None else utcnow()


def may(user: User, roles: tuple[str, ...]) -> bool:
    return user.role == "admin" or user.role in roles


# --- flash messages and redirects -----------------------------------------------------------------


def redirect(url: str, message: str | None = None, kind: str = "info") -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    if message:
        value = quote(json.dumps([kind, message[:300]], ensure_ascii=False))
        response.set_cookie(FLASH_COOKIE, value, max_age=60, httponly=True, samesite="lax", path="/")
    return response


def take_flash(request: Request) -> tuple[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        kind, text = json.loads(unquote(raw))
    except (ValueError, TypeError):
        return None
    return ("error" if kind == "error" else "info", str(text))


def page(request: Request, template: str, user: User, status_code: int = 200, **context: Any) -> Response:
    """Render a desk page with the pending flash message (shown once)."""
    flash = context.pop("flash", None) or take_flash(request)
    response = render(request, template, user, status_code=status_code, flash=flash, **context)
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def error_page(request: Request, user: User, exc: LendDeskError) -> Response:
    return render(request, "error.html", user, status_code=exc.status_code, message=exc.message_zh)


def safe_back(target: str | None, default: str = "/desk") -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else default


def _optional_int(value: str, what_zh: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise Unprocessable(f"{what_zh}无效：{value}", f"Invalid {what_zh}: {value}") from exc


def _local_datetime(value: str) -> datetime:
    """A datetime-local form value (Shanghai wall time) as an aware datetime."""
    try:
        moment = datetime.fromisoformat((value or "").strip())
    except ValueError as exc:
        raise Unprocessable("请填写有效的跟进时间", "Give a valid follow-up time", code="bad_due_at") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


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
    now = request_now(request)
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
    return page(
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
            session, actor=audit.Actor.of(user), user_id=user.id, status=status, now=request_now(request)
        )
    except LendDeskError as exc:
        session.rollback()
        return redirect(safe_back(back), exc.message_zh, "error")
    return redirect(safe_back(back), f"坐席状态已改为「{AGENT_STATUS_LABELS[status]}」")


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
    now = request_now(request)
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
    return page(
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
        next_stage=complaints.next_stage(done) if view.complaint else None,
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
        sources=complaints.SOURCES,
        root_causes=complaints.ROOT_CAUSES,
        extension_days=(
            service.desk_policy().complaint_complex_days,
            service.desk_policy().complaint_senior_days,
        ),
        next_extension=service.next_extension_days(view.complaint) if view.complaint else None,
        pending_extension=next((e for e in view.extensions if e.status == "pending"), None),
        can_approve=may(user, COMPLAINT_SENIORS),
        default_follow_up=_local(now.replace(second=0, microsecond=0), "%Y-%m-%dT%H:%M"),
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


def _act(
    request: Request,
    session: Session,
    user: User,
    number: str,
    action: Callable[[audit.Actor, datetime], str | tuple[str, str]],
    draft: dict[str, str] | None = None,
) -> Response:
    """Run one service call; on success redirect back with its message, on refusal re-render."""
    try:
        outcome = action(audit.Actor.of(user), request_now(request))
    except LendDeskError as exc:
        session.rollback()
        return _ticket_page(
            request, session, user, number, error=exc.message_zh, status_code=exc.status_code, draft=draft
        )
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

    return _act(request, session, user, number, run, {"reply": text})


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

    return _act(request, session, user, number, run, {"note": text})


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

    return _act(request, session, user, number, run, {"reason": reason})


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

    return _act(request, session, user, number, run)


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
        owner = _optional_int(owner_id, "负责人")
        if owner is None and not team:
            raise Unprocessable("请选择负责人或团队", "Choose an owner or a team", code="assign_empty")
        service.assign(session, actor=actor, number=number, owner_id=owner, team_code=team or None, now=now)
        return "已重新分配"

    return _act(request, session, user, number, run)


@router.post("/desk/tickets/{number}/claim")
def post_claim(
    number: str, request: Request, session: Session = db_session, user: User = console_user(*DESK)
) -> Response:
    def run(actor: audit.Actor, now: datetime) -> str:
        service.claim(session, actor=actor, number=number, now=now)
        return "已认领该工单"

    return _act(request, session, user, number, run)


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

    return _act(request, session, user, number, run)


@router.post("/desk/tickets/{number}/verify/otp/send")
def post_send_otp(
    number: str, request: Request, session: Session = db_session, user: User = console_user(*DESK)
) -> Response:
    def run(actor: audit.Actor, now: datetime) -> str:
        outcome = service.send_otp(session, actor=actor, number=number, now=now)
        return f"验证码已发送至 {outcome.sent_to}，有效至 {_local(outcome.expires_at, '%H:%M')}"

    return _act(request, session, user, number, run)


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

    return _act(request, session, user, number, run)


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
        moment = _local_datetime(due_at)
        owner = _optional_int(owner_id, "跟进负责人")
        service.add_follow_up(
            session, actor=actor, number=number, due_at=moment, note=note, owner_id=owner, now=now
        )
        return f"已预约跟进：{_local(moment)}"

    return _act(request, session, user, number, run, {"follow_up": note})


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

    return _act(request, session, user, number, run, {"consult": question})


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

    return _act(request, session, user, number, run)


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

    return _act(request, session, user, number, run, {"complaint": content})


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
        return f"投诉环节「{complaints.STAGE_LABELS[stage]}」已记录"

    return _act(request, session, user, number, run, {"stage": content})


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
        wanted = _optional_int(days, "延期天数") or 0
        extension = service.extend_complaint(
            session, actor=actor, number=number, days=wanted, reason=reason, now=now
        )
        if extension.status == "pending":
            return f"延至 {wanted} 天的申请已提交，待另一位组长/合规人员批准"
        return f"处理期限已延至 {wanted} 天，并已通知投诉人"

    return _act(request, session, user, number, run, {"extend": reason})


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

    return _act(request, session, user, number, run)


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

    return _act(request, session, user, number, run)


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
        return f"投诉已结案（根因：{complaints.ROOT_CAUSES[root_cause]}）"

    return _act(request, session, user, number, run)


# --- follow-ups due today -------------------------------------------------------------------------


@router.get("/desk/follow-ups", response_class=HTMLResponse)
def follow_ups_page(
    request: Request,
    everyone: bool = False,
    session: Session = db_session,
    user: User = console_user(*DESK),
) -> Response:
    everyone = everyone and may(user, LEADS)
    rows = service.follow_ups_due(session, owner_id=None if everyone else user.id, now=request_now(request))
    names = {agent.user_id: agent.name for agent in service.list_agents(session)} | {
        user.id: user.display_name
    }
    return page(
        request,
        "desk/follow_ups.html",
        user,
        rows=rows,
        names=names,
        everyone=everyone,
        can_see_everyone=may(user, LEADS),
    )


@router.post("/desk/follow-ups/{follow_up_id}/done")
def post_follow_up_done(
    follow_up_id: int,
    request: Request,
    back: str = Form("/desk/follow-ups"),
    session: Session = db_session,
    user: User = console_user(*DESK),
) -> Response:
    try:
        service.complete_follow_up(
            session, actor=audit.Actor.of(user), follow_up_id=follow_up_id, now=request_now(request)
        )
    except LendDeskError as exc:
        session.rollback()
        return redirect(safe_back(back), exc.message_zh, "error")
    return redirect(safe_back(back), "跟进已完成")


# --- complaints -----------------------------------------------------------------------------------


@router.get("/desk/complaints", response_class=HTMLResponse)
def complaints_page(
    request: Request,
    state: str = "open",
    session: Session = db_session,
    user: User = console_user(*COMPLAINT_READERS),
) -> Response:
    now = request_now(request)
    state = state if state in ("open", "closed", "all") else "open"
    return page(
        request,
        "desk/complaints.html",
        user,
        summary=service.complaint_summary(session, now=now),
        rows=service.list_complaints(session, state=state, now=now),
        state=state,
        now=now,
        age_buckets=complaints.AGE_BUCKETS,
        stages=complaints.STAGES,
    )


@router.get("/desk/complaints/summary.csv")
def complaints_csv(
    request: Request, session: Session = db_session, user: User = console_user(*COMPLAINT_READERS)
) -> Response:
    text = service.complaint_summary_csv(service.complaint_summary(session, now=request_now(request)))
    return Response(
        content=text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="complaints-summary.csv"'},
    )


# --- notifications (SLA breaches, complaint deadline alerts) ---------------------------------------


@router.get("/desk/notifications", response_class=HTMLResponse)
def notifications_page(
    request: Request, show: str = "unread", session: Session = db_session, user: User = console_user(*DESK)
) -> Response:
    unread_only = show != "all"
    rows = service.notifications_for(session, user_id=user.id, unread_only=unread_only)
    numbers = service.ticket_numbers(session, [n.ticket_id for n in rows if n.ticket_id is not None])
    return page(request, "desk/notifications.html", user, rows=rows, numbers=numbers, unread_only=unread_only)


@router.post("/desk/notifications/{notification_id}/read")
def post_notification_read(
    notification_id: int,
    request: Request,
    session: Session = db_session,
    user: User = console_user(*DESK),
) -> Response:
    try:
        service.mark_notification_read(
            session, actor=audit.Actor.of(user), notification_id=notification_id, now=request_now(request)
        )
    except LendDeskError as exc:
        session.rollback()
        return redirect("/desk/notifications", exc.message_zh, "error")
    return redirect("/desk/notifications", "已标记为已读")


# --- team-lead board ------------------------------------------------------------------------------


@router.get("/desk/board", response_class=HTMLResponse)
def board_page(
    request: Request, session: Session = db_session, user: User = console_user(*LEADS)
) -> Response:
    teams = service.team_board(session)
    agents = service.list_agents(session)
    team_names = {team.team_id: team.name for team in teams}
    return page(
        request,
        "desk/board.html",
        user,
        teams=teams,
        agents=agents,
        team_names=team_names,
        totals={
            "active": sum(t.active for t in teams),
            "unassigned": sum(t.unassigned for t in teams),
            "at_risk": sum(t.at_risk for t in teams),
            "breached": sum(t.breached for t in teams),
        },
    )


@router.post("/desk/board/agents/{user_id}/status")
def post_board_agent_status(
    user_id: int,
    request: Request,
    status: str = Form(""),
    session: Session = db_session,
    user: User = console_user(*LEADS),
) -> Response:
    try:
        service.set_agent_status(
            session, actor=audit.Actor.of(user), user_id=user_id, status=status, now=request_now(request)
        )
    except LendDeskError as exc:
        session.rollback()
        return redirect("/desk/board", exc.message_zh, "error")
    return redirect("/desk/board", "坐席状态已更新")
