"""Use cases of the channels room: sealed settings, taking inbound messages to the desk's intake,
out-of-hours notices, calls, and the health view. Services take a Session and never commit."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lenddesk.channels.hours import ChannelHours, is_open, next_opening
from lenddesk.channels.models import (
    ChannelActivity,
    ChannelAttachment,
    ChannelAutoReply,
    ChannelCall,
    ChannelEventSeen,
    ChannelSetting,
)
from lenddesk.core import audit
from lenddesk.core.calendar import to_shanghai
from lenddesk.core.errors import ConfigurationError, Unprocessable
from lenddesk.core.policy import ChannelsPolicy, calendar_from_policy, get_policy
from lenddesk.core.settings import get_settings
from lenddesk.desk import service as desk
from lenddesk.ledger import service as ledger

CONFIGURABLE = ("email", "wechat", "sms", "cti")
SECRET_FIELDS = frozenset(
    {
        "password",
        "smtp_password",
        "app_secret",
        "token",
        "encoding_aes_key",
        "access_key_secret",
        "api_key",
        "webhook_secret",
    }
)
MASK = "******"
# Where each credential is sent: the host and account it logs in to. A stored secret is kept for a
# form that leaves it out only while these stay the same; pointing the channel at another host or
# account needs the secret typed again, or the app would hand the old one to whoever runs the new host.
SECRET_DESTINATIONS = {
    "password": ("imap_host", "smtp_host", "username"),
    "smtp_password": ("smtp_host", "smtp_username", "username"),
    "app_secret": ("api_base", "app_id"),
    "access_key_secret": ("endpoint", "access_key_id"),
    "api_key": ("api_base",),
}


def channels_policy() -> ChannelsPolicy:
    return get_policy().channels


# --- sealed settings ------------------------------------------------------------------------------


def _fernet() -> Fernet:
    key = hashlib.sha256(get_settings().resolved_channels_key().encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(values: dict[str, Any]) -> str:
    return _fernet().encrypt(json.dumps(values, ensure_ascii=False).encode()).decode()


def unseal(token: str) -> dict[str, Any]:
    try:
        return dict(json.loads(_fernet().decrypt(token.encode())))
    except InvalidToken as exc:
        raise ConfigurationError(
            "channel settings cannot be decrypted: LENDDESK_CHANNELS_KEY changed?"
        ) from exc


def mask(values: dict[str, Any]) -> dict[str, Any]:
    return {key: (MASK if key in SECRET_FIELDS and value else value) for key, value in values.items()}


# Unsealed settings by channel, kept while the sealed text is unchanged: every webhook reads its
# channel's secret, and decrypting costs more than the rest of the check.
_unsealed: dict[str, tuple[str, dict[str, Any]]] = {}
_SEALED_OF = select(ChannelSetting.sealed).where(ChannelSetting.channel == bindparam("channel"))


def channel_settings(session: Session, channel: str) -> dict[str, Any] | None:
    sealed = session.scalar(_SEALED_OF, {"channel": channel})
    if sealed is None:
        return None
    cached = _unsealed.get(channel)
    if cached is None or cached[0] != sealed:
        cached = (sealed, unseal(sealed))
        _unsealed[channel] = cached
    return dict(cached[1])


def _same_destination(secret: str, before: dict[str, Any], after: dict[str, Any]) -> bool:
    def where(values: dict[str, Any], field: str) -> str:
        return str(values.get(field) or "").strip().lower()

    return all(where(before, f) == where(after, f) for f in SECRET_DESTINATIONS.get(secret, ()))


def keep_stored_secrets(stored: dict[str, Any], submitted: dict[str, Any]) -> dict[str, Any]:
    """`submitted` with each stored secret it leaves out (absent, empty or masked) standing as the
    mask, which `save_settings` resolves: the stored secret, or a refusal when its host changed."""
    stored_secrets = {key: MASK for key in SECRET_FIELDS if stored.get(key)}
    given = {k: v for k, v in submitted.items() if not (k in SECRET_FIELDS and v in (MASK, "", None))}
    return {**stored_secrets, **given}


def save_settings(
    session: Session, *, channel: str, values: dict[str, Any], actor: audit.Actor, now: datetime
) -> dict[str, Any]:
    """Store a channel's settings sealed; a secret sent back masked or empty keeps the stored one,
    unless the host or account it is sent to changed (SECRET_DESTINATIONS): then it must be typed
    again (a masked one is refused; an empty one is cleared)."""
    row = session.get(ChannelSetting, channel, with_for_update=True)
    before = unseal(row.sealed) if row is not None else {}
    merged = dict(values)
    for key in SECRET_FIELDS & set(values):
        if values[key] not in (MASK, "", None) or not before.get(key):
            continue
        if _same_destination(key, before, values):
            merged[key] = before[key]
        elif values[key] == MASK:
            raise Unprocessable(
                f"连接地址或账号已更改，请重新输入 {key}",
                f"The host or account changed: enter {key} again",
                code="secret_reentry_required",
                details={"field": key},
            )
        else:
            merged[key] = ""
    if row is None:
        session.add(
            ChannelSetting(channel=channel, sealed=seal(merged), updated_at=now, updated_by=actor.name)
        )
    else:
        row.sealed, row.updated_at, row.updated_by = seal(merged), now, actor.name
    session.flush()
    audit.record(session, actor, "channel.settings", ("channel", channel), mask(before) or None, mask(merged))
    return mask(merged)


# --- inbound --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inbound:
    ticket_number: str
    ticket_id: int
    outcome: str  # created, joined, reopened, duplicate
    auto_reply: str | None  # the out-of-hours notice sent (or to send passively), if any


def channel_hours(channel: str) -> ChannelHours | None:
    configured = channels_policy().hours.get(channel)
    if configured is None:
        return None
    closes = "23:59" if configured.closes == "24:00" else configured.closes
    return ChannelHours.parse(
        configured.opens, closes, every_day=configured.every_day, always_open=configured.always_open
    )


def take_in(
    session: Session,
    *,
    channel: str,
    message_id: str,
    sender: str,
    text: str,
    received_at: datetime,
    now: datetime,
    thread_number: str | None = None,
    thread_outbox_id: int | None = None,
    passive_reply: bool = False,
) -> Inbound:
    """An inbound message to the desk's intake, then the out-of-hours notice when the channel is closed.

    The notice goes once per ticket and closed period (a unique row per next opening); with
    `passive_reply` (WeChat answers in its own response) it is recorded as delivered, else queued.
    """
    actor = audit.Actor.system(f"channel:{channel}")
    result = desk.intake(
        session,
        channel=channel,
        channel_message_id=message_id,
        sender=sender,
        text=text,
        received_at=received_at,
        now=now,
        actor=actor,
        thread_number=thread_number,
        thread_outbox_id=thread_outbox_id,
    )
    if result.outcome == "duplicate":
        return Inbound(result.ticket_number, result.ticket_id, result.outcome, None)
    _count_inbound(session, channel, now)
    notice = _out_of_hours_notice(session, channel, result.ticket_id, result.ticket_number, now)
    if notice is not None:
        desk.queue_outbound(
            session,
            ticket_id=result.ticket_id,
            body=notice,
            kind="auto_reply",
            now=now,
            delivered=passive_reply,
        )
    return Inbound(result.ticket_number, result.ticket_id, result.outcome, notice)


@lru_cache(maxsize=8)
def _activity_upsert(dialect: str, ignored: bool) -> Any:
    """Built once: building a statement costs more than running it (this runs on every message)."""
    table = ChannelActivity.__table__
    column = "ignored_count" if ignored else "inbound_count"
    values: dict[str, Any] = {"channel": bindparam("channel"), "inbound_count": 0, "ignored_count": 0}
    values[column] = 1
    changes: dict[str, Any] = {column: table.c[column] + 1}
    if not ignored:
        values["last_inbound_at"] = changes["last_inbound_at"] = bindparam("now")
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    return upsert(table).values(**values).on_conflict_do_update(index_elements=["channel"], set_=changes)


@lru_cache(maxsize=8)
def _insert_new(dialect: str, kind: str) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: a row back means this call made it first."""
    table, keys = {
        "auto_reply": (ChannelAutoReply.__table__, ["ticket_id", "opens_at"]),
        "event_seen": (ChannelEventSeen.__table__, ["channel", "event_id"]),
    }[kind]
    columns = [*keys, "at"] if kind == "event_seen" else keys
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    values = {name: bindparam(name) for name in columns}
    return upsert(table).values(**values).on_conflict_do_nothing(index_elements=keys).returning(table.c.id)


def _count_inbound(session: Session, channel: str, now: datetime, *, ignored: bool = False) -> None:
    statement = _activity_upsert(session.get_bind().dialect.name, ignored)
    session.execute(statement, {"channel": channel, "now": now})


def count_ignored(session: Session, *, channel: str, now: datetime) -> None:
    """An inbound item that is no customer message (an auto-reply, a bounce, a follow event)."""
    _count_inbound(session, channel, now, ignored=True)


def _out_of_hours_notice(
    session: Session, channel: str, ticket_id: int, number: str, now: datetime
) -> str | None:
    hours = channel_hours(channel)
    calendar = calendar_from_policy()
    if hours is None or is_open(now, hours, calendar):
        return None
    opening = next_opening(now, hours, calendar)
    statement = _insert_new(session.get_bind().dialect.name, "auto_reply")
    inserted = session.execute(statement, {"ticket_id": ticket_id, "opens_at": opening}).first()
    if inserted is None:
        return None  # this ticket already got the notice for this closed period
    local = to_shanghai(opening)
    return channels_policy().out_of_hours_reply.format(
        ticket_number=number,
        hours=hours.label(),
        next_opening=f"{local.month}月{local.day}日 {local:%H:%M}",
        hotline=desk.desk_policy().hotline,
    )


def first_time(session: Session, *, channel: str, event_id: str, now: datetime) -> bool:
    """Whether this provider event id is new (recorded now); False for a retried push."""
    statement = _insert_new(session.get_bind().dialect.name, "event_seen")
    inserted = session.execute(statement, {"channel": channel, "event_id": event_id[:128], "at": now})
    return inserted.first() is not None


def store_attachments(
    session: Session, *, ticket_number: str, message_id: str, attachments: Any, now: datetime
) -> int:
    count = 0
    for attachment in attachments:
        session.add(
            ChannelAttachment(
                ticket_number=ticket_number,
                channel_message_id=message_id[:255],
                filename=attachment.filename,
                content_type=attachment.content_type,
                size=len(attachment.data),
                sha256=attachment.sha256,
                data=attachment.data,
                created_at=now,
            )
        )
        count += 1
    return count


# --- phone calls ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallEvent:
    event_id: str
    call_id: str
    kind: str  # ringing, answered, ended, recording, transcript
    caller: str
    agent: str | None
    at: datetime
    recording_url: str | None = None
    transcript: str | None = None


CALL_LABELS = {
    "answered": "通话已接通",
    "ended": "通话结束",
    "recording": "通话录音",
    "transcript": "通话转写",
}


def apply_call_event(session: Session, event: CallEvent, *, now: datetime) -> str | None:
    """A CTI event on its call: ringing opens or joins the caller's phone ticket; the others go on its
    timeline. Idempotent by event id. Returns the ticket number."""
    if not first_time(session, channel="cti", event_id=event.event_id, now=now):
        return session.scalar(select(ChannelCall.ticket_number).where(ChannelCall.call_id == event.call_id))
    call = session.scalar(select(ChannelCall).where(ChannelCall.call_id == event.call_id).with_for_update())
    if call is None:
        inbound = take_in(
            session,
            channel="phone",
            message_id=f"call:{event.call_id}",
            sender=event.caller,
            text=f"来电：{event.caller}",
            received_at=event.at,
            now=now,
        )
        call = ChannelCall(
            call_id=event.call_id,
            caller=event.caller,
            ringing_at=event.at,
            ticket_number=inbound.ticket_number,
        )
        session.add(call)
        session.flush()
        _count_inbound(session, "cti", now)
    if event.kind == "ringing":
        return call.ticket_number
    ticket = desk.get_ticket(session, number=call.ticket_number or "")
    body, data = _call_line(call, event)
    desk.add_channel_event(session, ticket_id=ticket.id, kind="call", body=body, data=data, at=event.at)
    return call.ticket_number


def _call_line(call: ChannelCall, event: CallEvent) -> tuple[str, dict[str, Any]]:
    data: dict[str, Any] = {"channel": "phone", "call_id": call.call_id, "event": event.kind}
    label = CALL_LABELS.get(event.kind, event.kind)
    if event.kind == "answered":
        call.state, call.answered_at, call.agent = "answered", event.at, event.agent or call.agent
        return f"{label}（坐席 {call.agent or '—'}）", data
    if event.kind == "ended":
        call.state, call.ended_at = "ended", event.at
        seconds = int((event.at - call.answered_at).total_seconds()) if call.answered_at else 0
        data["seconds"] = seconds
        return f"{label}，通话 {seconds} 秒" if call.answered_at else f"{label}（未接通）", data
    if event.kind == "recording":
        call.recording_url = event.recording_url
        data["recording_url"] = event.recording_url
        return f"{label}：{event.recording_url}", data
    return f"{label}：{event.transcript or ''}", data


@dataclass(frozen=True)
class RingingCall:
    id: int
    call_id: str
    caller: str
    ticket_number: str | None
    borrower_id: int | None
    ringing_at: datetime


def ringing_calls(session: Session, *, after_id: int) -> list[RingingCall]:
    """Calls still ringing with an id above `after_id` (what the console's screen pop streams)."""
    rows = session.execute(
        select(
            ChannelCall.id,
            ChannelCall.call_id,
            ChannelCall.caller,
            ChannelCall.ticket_number,
            ChannelCall.ringing_at,
        )
        .where(ChannelCall.id > after_id, ChannelCall.state == "ringing")
        .order_by(ChannelCall.id)
        .limit(20)
    ).all()
    calls = []
    for row in rows:
        ticket = desk.get_ticket(session, number=row.ticket_number) if row.ticket_number else None
        borrower_id = ticket.borrower_id if ticket is not None else None
        calls.append(
            RingingCall(row.id, row.call_id, row.caller, row.ticket_number, borrower_id, row.ringing_at)
        )
    return calls


def latest_call_id(session: Session) -> int:
    return session.scalar(select(ChannelCall.id).order_by(ChannelCall.id.desc()).limit(1)) or 0


# --- health ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelHealth:
    channel: str
    configured: bool
    last_inbound_at: datetime | None
    inbound_count: int
    ignored_count: int
    last_delivered_at: datetime | None
    queued: int
    sending: int
    failed: int
    dead: int
    last_error: str | None


HEALTH_CHANNELS = ("email", "wechat", "sms", "phone", "web_form", "chat")
SETTINGS_OF = {
    "email": "email",
    "wechat": "wechat",
    "sms": "sms",
    "phone": "cti",
    "web_form": None,
    "chat": None,
}


def health(session: Session, *, now: datetime) -> list[ChannelHealth]:
    outbox = desk.outbox_health(session, now=now)
    activity = {row.channel: row for row in session.scalars(select(ChannelActivity))}
    configured = set(session.scalars(select(ChannelSetting.channel)))
    rows = []
    for channel in HEALTH_CHANNELS:
        seen = activity.get(channel) or activity.get(SETTINGS_OF.get(channel) or "")
        box = outbox.get(channel)
        setting = SETTINGS_OF[channel]
        rows.append(
            ChannelHealth(
                channel=channel,
                configured=setting is None or setting in configured,
                last_inbound_at=seen.last_inbound_at if seen else None,
                inbound_count=seen.inbound_count if seen else 0,
                ignored_count=seen.ignored_count if seen else 0,
                last_delivered_at=box.last_delivered_at if box else None,
                queued=box.queued if box else 0,
                sending=box.sending if box else 0,
                failed=box.failed if box else 0,
                dead=box.dead if box else 0,
                last_error=box.last_error if box else None,
            )
        )
    return rows


def mark_calls_ended_before(session: Session, *, before: datetime) -> int:
    """Calls left ringing by a lost `ended` event stop popping after a while."""
    result = session.execute(
        update(ChannelCall)
        .where(ChannelCall.state == "ringing", ChannelCall.ringing_at < before)
        .values(state="ended")
    )
    return int(result.rowcount or 0)


def record_sms_opt_out(session: Session, *, phone: str, now: datetime) -> None:
    """A 退订 / TD reply: the number is opted out of SMS, and the borrower it belongs to with it. A reply
    to a marketing message stops marketing only — reminders continue (docs/CARE.md "Opt-out scope")."""
    desk.record_opt_out(
        session,
        channel="sms",
        address=phone,
        borrower_id=ledger.find_borrower_id(session, mobile=desk.normalise_sender(phone)),
        source="sms_reply",
        now=now,
        scope=desk.reply_scope(session, channel="sms", address=phone),
    )
