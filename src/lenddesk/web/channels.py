"""Console pages of the channels room: the public contact form, channel settings and health for
admins (dead letters for team leads too), and the incoming-call pop (server-sent events)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from sqlalchemy.orm import Session

from lenddesk.channels import schemas, service
from lenddesk.channels.roles import ADMIN, DESK, LEADS
from lenddesk.core import audit, auth, throttle
from lenddesk.core.db import utcnow
from lenddesk.core.errors import LendDeskError
from lenddesk.core.http import client_address, db_session
from lenddesk.core.models import User
from lenddesk.core.pii import is_valid_mobile, mask_mobile
from lenddesk.core.settings import get_settings
from lenddesk.desk import service as desk
from lenddesk.web.console import add_nav, console_user, render

router = APIRouter(include_in_schema=False)
add_nav("渠道", "/channels", *LEADS, area="渠道")

CHANNEL_NAMES = {"email": "邮件", "wechat": "微信公众号", "sms": "短信", "cti": "电话（CTI）"}
FIELD_LABELS = {
    "imap_host": "IMAP 服务器",
    "imap_port": "IMAP 端口",
    "imap_security": "IMAP 加密（ssl/starttls/none）",
    "username": "邮箱账号",
    "password": "邮箱密码",
    "smtp_host": "SMTP 服务器",
    "smtp_port": "SMTP 端口",
    "smtp_security": "SMTP 加密（ssl/starttls/none）",
    "smtp_username": "SMTP 账号（空则同邮箱账号）",
    "smtp_password": "SMTP 密码",
    "from_address": "发件地址",
    "folder": "收件夹",
    "tls_ca_file": "TLS 根证书文件（私有 CA，可空）",
    "app_id": "AppID",
    "app_secret": "AppSecret",
    "token": "Token（令牌）",
    "encoding_aes_key": "EncodingAESKey（安全模式，可空）",
    "api_base": "接口地址",
    "provider": "服务商",
    "access_key_id": "AccessKey ID",
    "access_key_secret": "AccessKey Secret",
    "sign_name": "短信签名",
    "template_code": "通知模板（变量 ${content}）",
    "otp_template_code": "验证码模板（变量 ${code}）",
    "endpoint": "接口地址",
    "webhook_secret": "回调签名密钥",
    "api_key": "接口密钥",
}


# --- the public contact form ----------------------------------------------------------------------


@router.get("/contact", response_class=HTMLResponse, dependencies=[auth.public()])
def contact_page(request: Request) -> HTMLResponse:
    return render(request, "channels/contact.html", None, form={}, error=None, done=None)


@router.post("/contact", response_class=HTMLResponse, dependencies=[auth.public()])
def contact_submit(
    request: Request,
    phone: str = Form("", max_length=40),
    email: str = Form("", max_length=254),
    name: str = Form("", max_length=40),
    message: str = Form("", max_length=2000),
    website: str = Form("", max_length=200),  # the honeypot: people never see it, bots fill it
    session: Session = db_session,
) -> HTMLResponse:
    form = {"phone": phone, "email": email, "name": name, "message": message}
    if website.strip():
        return render(request, "channels/contact.html", None, form={}, error=None, done="已收到")
    problem = _contact_problem(phone, email, name, message)
    if problem:
        return _contact_refused(request, form, 422, *problem)
    now = utcnow()
    limit = service.channels_policy().contact_form_per_hour
    window = throttle.Window.at(now, 60)
    counter = throttle.throttle_for(get_settings().redis_url, 60)
    if counter.hit(session, f"contact:{client_address(request)}", window) > limit:
        session.commit()  # the attempt counts even though it is refused
        return _contact_refused(
            request,
            form,
            429,
            "提交过于频繁，请稍后再试或拨打客服热线。",
            "Too many messages from this address; please try again later or call the hotline.",
        )
    sender = phone.strip() or email.strip()
    lines = [message.strip()] + [
        f"{label}：{value.strip()}" for label, value in (("称呼", name), ("邮箱", email)) if value.strip()
    ]
    try:
        inbound = service.take_in(
            session,
            channel="web_form",
            message_id=f"form:{uuid.uuid4().hex}",
            sender=sender,
            text="\n".join(lines),
            received_at=now,
            now=now,
        )
    except LendDeskError as exc:
        session.rollback()
        return _contact_refused(request, form, 422, exc.message_zh, exc.message_en)
    return render(request, "channels/contact.html", None, form={}, error=None, done=inbound.ticket_number)


def _contact_refused(
    request: Request, form: dict[str, str], status: int, chinese: str, english: str
) -> HTMLResponse:
    return render(
        request,
        "channels/contact.html",
        None,
        status_code=status,
        form=form,
        error=chinese,
        error_en=english,
        done=None,
    )


def _invalid_characters(text: str) -> bool:
    """Unpaired surrogates, or U+FFFD: what undecodable bytes in a form become (the text is lost)."""
    return any("\ud800" <= ch <= "\udfff" or ch == "\ufffd" for ch in text)


def _contact_problem(phone: str, email: str, name: str, message: str) -> tuple[str, str] | None:
    """What is wrong with the form, in Chinese and English; None when it can be taken."""
    if _invalid_characters(phone + email + name + message):
        return "内容含有无效字符，请重新输入。", "The text contains invalid characters; please type it again."
    if not message.strip():
        return "请填写您要咨询的问题。", "Please describe your question."
    if not phone.strip() and not email.strip():
        return "请留下手机号或邮箱，方便我们回复您。", "Please leave a mobile number or an e-mail address."
    if phone.strip() and not is_valid_mobile(phone.strip()):
        return "手机号格式不正确（11 位中国大陆手机号）。", "The mobile number is not valid (11 digits)."
    if email.strip() and not schemas.EMAIL.match(email.strip()):
        return "邮箱格式不正确。", "The e-mail address is not valid."
    return None


# --- settings and health --------------------------------------------------------------------------


@router.get("/channels", response_class=HTMLResponse)
def channels_page(
    request: Request, user: User = console_user(*LEADS), session: Session = db_session
) -> HTMLResponse:
    now = utcnow()
    settings = {}
    if user.role == "admin":
        settings = {
            channel: service.mask(service.channel_settings(session, channel) or {})
            for channel in CHANNEL_NAMES
        }
    return render(
        request,
        "channels/index.html",
        user,
        health=service.health(session, now=now),
        dead=desk.dead_letters(session, limit=50),
        settings=settings,
        models=schemas.SETTINGS_MODELS,
        names=CHANNEL_NAMES,
        labels=FIELD_LABELS,
        secret_fields=service.SECRET_FIELDS,
        message=request.query_params.get("saved"),
        error=None,
    )


@router.post("/channels/{channel}/settings", response_class=HTMLResponse)
async def save_channel_settings(
    request: Request, channel: str, user: User = console_user(*ADMIN), session: Session = db_session
) -> HTMLResponse:
    if channel not in schemas.SETTINGS_MODELS:
        return RedirectResponse("/channels", status_code=303)
    submitted = {key: str(value) for key, value in (await request.form()).items() if key in FIELD_LABELS}
    previous = service.channel_settings(session, channel) or {}
    merged = {**previous, **service.keep_stored_secrets(previous, submitted)}
    try:
        values = schemas.SETTINGS_MODELS[channel].model_validate(merged).model_dump()
    except ValueError as exc:
        return render(
            request,
            "channels/index.html",
            user,
            status_code=422,
            health=[],
            dead=[],
            settings={},
            models={},
            names=CHANNEL_NAMES,
            labels=FIELD_LABELS,
            secret_fields=service.SECRET_FIELDS,
            message=None,
            error=f"设置不正确：{exc}"[:300],
        )
    service.save_settings(session, channel=channel, values=values, actor=audit.Actor.of(user), now=utcnow())
    return RedirectResponse(f"/channels?saved={channel}", status_code=303)


@router.post("/channels/dead-letters/{outbox_id}/retry", response_class=HTMLResponse)
def retry_dead_letter_page(
    outbox_id: int, user: User = console_user(*LEADS), session: Session = db_session
) -> HTMLResponse:
    if 1 <= outbox_id < 2**63:
        desk.requeue_dead_letter(session, outbox_id=outbox_id, actor=audit.Actor.of(user), now=utcnow())
    return RedirectResponse("/channels", status_code=303)


# --- incoming-call pop ----------------------------------------------------------------------------


@router.get("/channels/calls/stream")
async def call_stream(request: Request, user: User = console_user(*DESK)) -> StreamingResponse:
    """Server-sent events: one `call` event per new ringing call (checked every second, any worker)."""
    factory = request.app.state.session_factory

    def latest() -> int:
        with factory() as session:
            return service.latest_call_id(session)

    def ringing(after: int) -> list[service.RingingCall]:
        with factory() as session:
            return service.ringing_calls(session, after_id=after)

    async def events() -> AsyncIterator[str]:
        after = await run_in_threadpool(latest)
        yield ": connected\n\n"
        for _ in range(3600):
            if await request.is_disconnected():
                return
            for call in await run_in_threadpool(ringing, after):
                after = call.id
                yield "event: call\ndata: " + json.dumps(_pop(call), ensure_ascii=False) + "\n\n"
            await asyncio.sleep(1)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


def _pop(call: service.RingingCall) -> dict[str, object]:
    ticket = f"/desk/tickets/{call.ticket_number}" if call.ticket_number else None
    borrower = f"/borrowers/{call.borrower_id}?ticket={call.ticket_number}" if call.borrower_id else None
    return {
        "caller": mask_mobile(call.caller),
        "ticket": ticket,
        "borrower": borrower,
        "at": _iso(call.ringing_at),
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat()
