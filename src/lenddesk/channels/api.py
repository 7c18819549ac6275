"""HTTP API of the channels room: the providers' signed webhooks, WeChat's server URL, channel
settings, health and dead letters, click-to-call. Thin routes over channels.service and the desk.

Every webhook reads its body with a size limit (413), checks the signature and the timestamp
window before anything is written (401, nothing written), and runs its work in one transaction
on a worker thread (a duplicate racing its twin is retried once and finds the winner's work).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lenddesk.channels import schemas, service, signing, sms, wechat
from lenddesk.channels.http_client import HttpClient, TransportError
from lenddesk.channels.roles import ADMIN, DESK, LEADS
from lenddesk.core import audit, auth, throttle
from lenddesk.core.errors import BadRequest, Conflict, LendDeskError, NotFound, Unauthenticated, Unprocessable
from lenddesk.core.http import Id, db_session, errors, request_now
from lenddesk.core.models import User
from lenddesk.core.pii import mask_mobile
from lenddesk.core.schemas import ErrorOut
from lenddesk.core.settings import get_settings
from lenddesk.desk import service as desk

router = APIRouter(prefix="/api/v1/channels", tags=["channels"])
T = TypeVar("T")

WEBHOOK_ERRORS = {
    **errors(400, 401, 404, 422),
    413: {"model": ErrorOut, "description": "The body is over the webhook size limit"},
}
Channel = Annotated[str, Path(pattern="^(email|wechat|sms|cti)$", description="email, wechat, sms or cti")]


class PayloadTooLarge(LendDeskError):
    status_code = 413
    default_code = "payload_too_large"


Now = Depends(request_now)


async def read_limited(request: Request) -> bytes:
    """The raw body, refused with 413 past `webhook_max_bytes` (declared or streamed)."""
    limit = service.channels_policy().webhook_max_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"请求内容超过 {limit} 字节上限", f"The body is over the {limit}-byte limit")


def _unsigned() -> Unauthenticated:
    return Unauthenticated("签名无效或已过期", "Bad or expired signature", code="bad_signature")


def _settings_or_404(session_factory: Any, channel: str) -> dict[str, Any]:
    with session_factory() as session:
        settings = service.channel_settings(session, channel)
    if not settings:
        raise NotFound(
            f"渠道未配置：{channel}", f"Channel not configured: {channel}", code="channel_not_configured"
        )
    return settings


def in_transaction(session_factory: Any, work: Callable[[Session], T]) -> T:
    """`work` in one committed transaction; a unique-key race is retried once (the twin then exists)."""
    for attempt in (1, 2):
        with session_factory() as session:
            try:
                result = work(session)
                session.commit()
                return result
            except IntegrityError:
                session.rollback()
                if attempt == 2:
                    raise
    raise AssertionError("unreachable")


async def verified_body(
    request: Request, channel: str, timestamp: str, signature: str, now: datetime
) -> bytes:
    body = await read_limited(request)
    factory = request.app.state.session_factory
    settings = await run_in_threadpool(_settings_or_404, factory, channel)
    window = service.channels_policy().webhook_window_seconds
    if not signing.body_signature_valid(
        settings.get("webhook_secret", ""), timestamp, body, signature, now=now, window_seconds=window
    ):
        raise _unsigned()
    return body


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("请求内容不是 UTF-8 JSON", "The body is not UTF-8 JSON", code="bad_json") from exc


SignatureHeaders = tuple[str, str]


def signature_headers(
    x_lenddesk_timestamp: Annotated[str, Header(max_length=20)],
    x_lenddesk_signature: Annotated[str, Header(max_length=128)],
) -> SignatureHeaders:
    return x_lenddesk_timestamp, x_lenddesk_signature


# --- SMS ------------------------------------------------------------------------------------------


@router.post(
    "/sms/receipts",
    response_model=schemas.PushOut,
    summary="Alibaba Cloud SMS delivery reports (SmsReport), signed",
    responses=WEBHOOK_ERRORS,
    dependencies=[auth.public()],
)
async def sms_receipts(
    request: Request, headers: SignatureHeaders = Depends(signature_headers), now: datetime = Now
) -> schemas.PushOut:
    body = await verified_body(request, "sms", *headers, now)
    try:
        receipts = sms.parse_receipts(_json(body))
    except sms.SmsPushError as exc:
        raise Unprocessable(f"回执格式不正确：{exc}", f"Malformed receipts: {exc}", code="bad_push") from exc

    def apply(session: Session) -> schemas.PushOut:
        matched = 0
        for receipt in receipts:
            outbox_id = sms.outbox_id_of(receipt.out_id)
            matched += desk.record_receipt(
                session,
                channel=None,
                outbox_id=outbox_id,
                provider_message_id=None if outbox_id else receipt.biz_id,
                delivered=receipt.delivered,
                error=receipt.error,
                at=now,
            )
        return schemas.PushOut(accepted=matched, ignored=len(receipts) - matched)

    return await run_in_threadpool(in_transaction, request.app.state.session_factory, apply)


@router.post(
    "/sms/inbound",
    response_model=schemas.PushOut,
    summary="Alibaba Cloud SMS replies (SmsUp), signed; an opt-out reply (TD) opts the number out",
    responses=WEBHOOK_ERRORS,
    dependencies=[auth.public()],
)
async def sms_inbound(
    request: Request, headers: SignatureHeaders = Depends(signature_headers), now: datetime = Now
) -> schemas.PushOut:
    body = await verified_body(request, "sms", *headers, now)
    try:
        replies = sms.parse_replies(_json(body))
    except sms.SmsPushError as exc:
        raise Unprocessable(
            f"上行短信格式不正确：{exc}", f"Malformed replies: {exc}", code="bad_push"
        ) from exc

    def apply(session: Session) -> schemas.PushOut:
        opted_out = 0
        for reply in replies:
            if desk.is_opt_out_reply(reply.content):
                service.record_sms_opt_out(session, phone=reply.phone, now=now)
                opted_out += 1
                continue
            service.take_in(
                session,
                channel="sms",
                message_id=f"sms-up:{reply.sequence_id}",
                sender=reply.phone,
                text=reply.content,
                received_at=now,
                now=now,
            )
        return schemas.PushOut(accepted=len(replies) - opted_out, ignored=opted_out)

    return await run_in_threadpool(in_transaction, request.app.state.session_factory, apply)


# --- CTI ------------------------------------------------------------------------------------------


@router.post(
    "/cti/events",
    response_model=schemas.CtiEventOut,
    summary="Call events from the CTI (ringing, answered, ended, recording, transcript), signed",
    responses=WEBHOOK_ERRORS,
    dependencies=[auth.public()],
)
async def cti_events(
    request: Request, headers: SignatureHeaders = Depends(signature_headers), now: datetime = Now
) -> schemas.CtiEventOut:
    body = await verified_body(request, "cti", *headers, now)
    try:
        event_in = schemas.CtiEventIn.model_validate(_json(body))
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in error["loc"]) for error in exc.errors())
        raise Unprocessable(
            f"通话事件格式不正确：{fields}", f"Malformed call event: {fields}", code="bad_event"
        ) from exc
    at = min((event_in.at or now).astimezone(UTC) if (event_in.at or now).tzinfo else now, now)
    event = service.CallEvent(
        event_in.event_id,
        event_in.call_id,
        event_in.event,
        event_in.caller,
        event_in.agent,
        at,
        event_in.recording_url,
        event_in.transcript,
    )
    number = await run_in_threadpool(
        in_transaction,
        request.app.state.session_factory,
        lambda s: service.apply_call_event(s, event, now=now),
    )
    return schemas.CtiEventOut(ticket_number=number)


@router.post(
    "/cti/calls",
    response_model=schemas.ClickToCallOut,
    summary="Click-to-call: the CTI rings the agent, then the ticket's caller",
    responses=errors(400, 401, 403, 404, 422),
)
def click_to_call(
    body: schemas.ClickToCallIn,
    request: Request,
    user: User = auth.allow(*DESK),
    session: Session = db_session,
) -> schemas.ClickToCallOut:
    settings = service.channel_settings(session, "cti")
    if not settings or not settings.get("api_base"):
        raise NotFound("电话渠道未配置", "The CTI is not configured", code="channel_not_configured")
    ticket = desk.get_ticket(session, number=body.ticket_number)
    payload = json.dumps({"agent": user.username, "callee": ticket.sender, "ticket_number": ticket.number})
    client = HttpClient(settings["api_base"], timeout=5.0)
    try:
        answer = client.request(
            "POST",
            "/cti/dial",
            payload.encode(),
            {"Content-Type": "application/json", "Authorization": f"Bearer {settings.get('api_key', '')}"},
        )
    except TransportError as exc:
        raise Unprocessable(
            "呼叫中心无响应", f"The CTI did not answer: {exc}", code="cti_unreachable"
        ) from exc
    finally:
        client.close()
    if answer.status >= 400:
        raise Unprocessable(
            "呼叫中心拒绝了呼叫", f"The CTI refused the call (HTTP {answer.status})", code="cti_refused"
        )
    audit.record(session, audit.Actor.of(user), "channel.click_to_call", ("ticket", ticket.number), None, {})
    return schemas.ClickToCallOut(ticket_number=ticket.number, dialled=mask_mobile(ticket.sender))


# --- WeChat ---------------------------------------------------------------------------------------

WeChatQuery = Annotated[str, Query(max_length=128)]


def _wechat_settings(request: Request) -> dict[str, Any]:
    return _settings_or_404(request.app.state.session_factory, "wechat")


def _fresh(timestamp: str, now: datetime) -> bool:
    return signing.timestamp_fresh(
        timestamp, now=now, window_seconds=service.channels_policy().webhook_window_seconds
    )


@router.get(
    "/wechat",
    summary="WeChat server URL verification (echoes echostr when the signature is right)",
    responses=errors(401, 404, 422),
    dependencies=[auth.public()],
)
async def wechat_verify(
    request: Request,
    signature: WeChatQuery,
    timestamp: WeChatQuery,
    nonce: WeChatQuery,
    echostr: WeChatQuery,
    now: datetime = Now,
) -> Response:
    settings = await run_in_threadpool(_wechat_settings, request)
    if not _fresh(timestamp, now) or not signing.wechat_signature_valid(
        signature, settings.get("token", ""), timestamp, nonce
    ):
        raise _unsigned()
    return Response(echostr, media_type="text/plain")


def _plaintext_refused() -> BadRequest:
    return BadRequest(
        "已配置安全模式，拒绝明文消息",
        "Safe mode is configured; plaintext messages are refused",
        code="wechat_plaintext_refused",
    )


def _use_nonce(session: Session, timestamp: str, nonce: str, body: bytes, now: datetime) -> None:
    """Refuse a signed (timestamp, nonce) already used for another body.

    In plain mode WeChat's signature covers only the token, timestamp and nonce, so a captured
    query string would carry any body while the timestamp is fresh; the same body again is WeChat
    retrying (deduplicated by MsgId) and is let through. A replay carries the original timestamp,
    so it is fresh only within the policy window either side of it: counter windows twice that
    long (the shared throttle counters) always hold the first use. Counted in the caller's
    transaction, so a message whose handling failed may be retried."""
    minutes = max(1, math.ceil(2 * service.channels_policy().webhook_window_seconds / 60))
    counter, window = (
        throttle.throttle_for(get_settings().redis_url, minutes),
        throttle.Window.at(now, minutes),
    )
    signed = hashlib.sha256(f"{timestamp}:{nonce}".encode())
    uses = counter.hit(session, "wx-nonce:" + signed.hexdigest()[:40], window)
    signed.update(body)
    uses_with_this_body = counter.hit(session, "wx-nonce-body:" + signed.hexdigest()[:40], window)
    if uses > uses_with_this_body + 1e-9:
        raise Conflict(
            "重复的微信请求（nonce 已用于其他消息），已拒绝",
            "A WeChat nonce already used for another message was refused",
            code="wechat_nonce_reused",
        )


@router.post(
    "/wechat",
    summary="WeChat Official Account messages and events (plain or safe mode)",
    responses={**WEBHOOK_ERRORS, **errors(409)},
    dependencies=[auth.public()],
)
async def wechat_message(
    request: Request,
    signature: WeChatQuery,
    timestamp: WeChatQuery,
    nonce: WeChatQuery,
    encrypt_type: WeChatQuery = "raw",
    msg_signature: WeChatQuery = "",
    now: datetime = Now,
) -> Response:
    body = await read_limited(request)
    settings = await run_in_threadpool(_wechat_settings, request)
    token = settings.get("token", "")
    if not _fresh(timestamp, now) or not signing.wechat_signature_valid(signature, token, timestamp, nonce):
        raise _unsigned()
    crypt = None
    safe_mode = bool(settings.get("encoding_aes_key"))  # the configuration decides, not the request
    if safe_mode and encrypt_type != "aes":
        raise _plaintext_refused()
    try:
        root = wechat.parse_xml(body)
        if safe_mode:
            ciphertext = root.findtext("Encrypt") or ""
            if not signing.wechat_signature_valid(msg_signature, token, timestamp, nonce, ciphertext):
                raise _unsigned()
            crypt = wechat.MessageCrypt(token, settings.get("encoding_aes_key", ""), settings["app_id"])
            root = wechat.parse_xml(crypt.decrypt(ciphertext).encode())
        message = wechat.parse_message(root)
    except (wechat.WeChatProtocolError, ValueError) as exc:
        if isinstance(exc, LendDeskError):
            raise
        raise BadRequest(
            "微信消息格式不正确", f"Malformed WeChat message: {exc}", code="bad_wechat_message"
        ) from exc
    reply = await run_in_threadpool(
        in_transaction,
        request.app.state.session_factory,
        lambda s: _take_fresh_wechat(s, message, body, timestamp=timestamp, nonce=nonce, now=now),
    )
    if reply is None:
        return Response("success", media_type="text/plain")
    xml = wechat.text_reply(message, reply, now=int(now.timestamp()))
    if crypt is not None:
        xml = crypt.encrypted_reply(xml, timestamp=timestamp, nonce=nonce)
    return Response(xml, media_type="application/xml")


def _take_fresh_wechat(
    session: Session, message: wechat.WeChatMessage, body: bytes, *, timestamp: str, nonce: str, now: datetime
) -> str | None:
    _use_nonce(session, timestamp, nonce, body, now)
    return _take_wechat(session, message, now)


def _take_wechat(session: Session, message: wechat.WeChatMessage, now: datetime) -> str | None:
    """The message to the desk; the passive reply's text (the out-of-hours notice), if any."""
    if message.msg_type == "event" and message.event == "unsubscribe":
        desk.record_opt_out(
            session,
            channel="wechat",
            address=message.from_user,
            borrower_id=None,
            source="wechat_unsubscribe",
            now=now,
        )
        service.count_ignored(session, channel="wechat", now=now)
        return None
    text = message.as_text()
    if text is None:  # subscribe, view and other events: no customer message
        service.count_ignored(session, channel="wechat", now=now)
        return None
    received_at = min(datetime.fromtimestamp(message.create_time, UTC), now)
    inbound = service.take_in(
        session,
        channel="wechat",
        message_id=message.dedupe_id,
        sender=message.from_user,
        text=text,
        received_at=received_at,
        now=now,
        passive_reply=True,
    )
    return inbound.auto_reply


# --- settings, health, dead letters ---------------------------------------------------------------


@router.put(
    "/{channel}/settings",
    response_model=schemas.SettingsOut,
    summary="Set a channel's credentials and options (stored encrypted, answered masked)",
    responses=errors(400, 401, 403, 404, 422),
)
def put_settings(
    channel: Channel,
    body: dict[str, str | int | bool | None],
    user: User = auth.allow(*ADMIN),
    session: Session = db_session,
    now: datetime = Now,
) -> schemas.SettingsOut:
    model = schemas.SETTINGS_MODELS[channel]
    previous = service.channel_settings(session, channel) or {}
    merged = service.keep_stored_secrets(previous, body)
    try:
        values = model.model_validate(merged).model_dump()
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in error["loc"]) for error in exc.errors())
        raise Unprocessable(
            f"渠道设置不正确：{fields}",
            f"Invalid channel settings: {fields}",
            code="bad_channel_settings",
            details=[
                {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
            ],
        ) from exc
    aes_key = values.get("encoding_aes_key") or ""
    if channel == "wechat" and aes_key not in ("", service.MASK) and len(aes_key) != 43:
        raise Unprocessable(
            "EncodingAESKey 须为 43 位", "encoding_aes_key must be 43 characters", code="bad_channel_settings"
        )
    masked = service.save_settings(
        session, channel=channel, values=values, actor=audit.Actor.of(user), now=now
    )
    return schemas.SettingsOut(channel=channel, settings=masked)


@router.get(
    "/{channel}/settings",
    response_model=schemas.SettingsOut,
    summary="A channel's settings, secrets masked",
    responses=errors(401, 403, 404, 422),
)
def get_settings_masked(
    channel: Channel, user: User = auth.allow(*ADMIN), session: Session = db_session
) -> schemas.SettingsOut:
    values = service.channel_settings(session, channel)
    if values is None:
        raise NotFound(
            f"渠道未配置：{channel}", f"Channel not configured: {channel}", code="channel_not_configured"
        )
    return schemas.SettingsOut(channel=channel, settings=service.mask(values))


@router.get(
    "/health",
    response_model=list[schemas.HealthOut],
    summary="Per channel: last message in and out, queue, failures and dead letters",
    responses=errors(401, 403),
)
def channel_health(
    user: User = auth.allow(*LEADS), session: Session = db_session, now: datetime = Now
) -> list[schemas.HealthOut]:
    return [schemas.HealthOut(**row.__dict__) for row in service.health(session, now=now)]


@router.get(
    "/dead-letters",
    response_model=list[schemas.DeadLetterOut],
    summary="Outbound messages that kept failing, with their last error",
    responses=errors(401, 403, 422),
)
def list_dead_letters(
    channel: Annotated[str | None, Query(max_length=16)] = None,
    user: User = auth.allow(*LEADS),
    session: Session = db_session,
) -> list[schemas.DeadLetterOut]:
    return [schemas.DeadLetterOut(**row.__dict__) for row in desk.dead_letters(session, channel=channel)]


@router.post(
    "/dead-letters/{outbox_id}/retry",
    response_model=schemas.DeadLetterOut | None,
    summary="Queue a dead letter again (its attempts start over)",
    responses=errors(401, 403, 404, 422),
)
def retry_dead_letter(
    outbox_id: Id, user: User = auth.allow(*LEADS), session: Session = db_session, now: datetime = Now
) -> None:
    if not desk.requeue_dead_letter(session, outbox_id=outbox_id, actor=audit.Actor.of(user), now=now):
        raise NotFound("没有这条死信", "No such dead letter", code="dead_letter_not_found")
