"""The outbox's adapters per channel, built from the channels' sealed settings.

A channel without settings falls back to the delivery log (the demo); web chat goes into the
borrower's chat through the assistant room's adapter (channels/registry.py). Phone tickets are
answered by SMS to the caller; web-form tickets by e-mail or SMS, whichever address the borrower
left.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from lenddesk.channels import registry, service
from lenddesk.channels.delivery_log import log_adapters
from lenddesk.channels.http_client import TransportError
from lenddesk.channels.mail import SmtpConfig, SmtpSender, build_reply, tls_context
from lenddesk.channels.sms import AliyunSms
from lenddesk.channels.wechat import WeChatApi
from lenddesk.desk.delivery import Adapter, DeliveryResult, Outgoing


@dataclass
class SmsAdapter:
    provider: AliyunSms
    channel: str = "sms"

    def deliver(self, message: Outgoing, *, now: datetime) -> DeliveryResult:
        result = self.provider.send(
            message.recipient,
            message.body,
            idempotency_key=message.idempotency_key,
            code=message.secret if message.kind == "otp" else None,  # a survey link goes as text
        )
        return DeliveryResult(
            result.accepted,
            result.error,
            provider_message_id=result.provider_message_id,
            awaiting_receipt=result.accepted,
            permanent=result.permanent,
        )


@dataclass
class SmtpAdapter:
    sender: SmtpSender
    channel: str = "email"

    def deliver(self, message: Outgoing, *, now: datetime) -> DeliveryResult:
        if "@" not in message.recipient:
            return DeliveryResult(False, f"not an e-mail address: {message.recipient}", permanent=True)
        mail = build_reply(
            self.sender.config,
            outbox_id=message.outbox_id,
            recipient=message.recipient,
            body=message.body,
            ticket_number=message.ticket_number,
            in_reply_to=message.in_reply_to,
            automatic=message.kind == "auto_reply",
        )
        try:
            self.sender.send(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            return DeliveryResult(False, f"recipient refused: {exc.recipients}"[:200], permanent=True)
        except (smtplib.SMTPException, OSError) as exc:
            return DeliveryResult(False, f"SMTP: {exc}"[:200])
        return DeliveryResult(True, provider_message_id=str(mail["Message-ID"]))


@dataclass
class WeChatAdapter:
    api: WeChatApi
    channel: str = "wechat"

    def deliver(self, message: Outgoing, *, now: datetime) -> DeliveryResult:
        try:
            answer = self.api.send_text(message.recipient, message.body)
        except TransportError as exc:
            return DeliveryResult(False, f"WeChat API: {exc}"[:200])
        return DeliveryResult(answer.ok, answer.error, permanent=answer.permanent)


@dataclass
class ByAddress:
    """Web-form replies: e-mail to an address with @, SMS to a mobile number."""

    email: Adapter
    sms: Adapter
    channel: str = "web_form"

    def deliver(self, message: Outgoing, *, now: datetime) -> DeliveryResult:
        return (self.email if "@" in message.recipient else self.sms).deliver(message, now=now)


def _sms(settings: dict[str, Any]) -> SmsAdapter:
    return SmsAdapter(
        AliyunSms(
            access_key_id=settings["access_key_id"],
            access_key_secret=settings["access_key_secret"],
            sign_name=settings["sign_name"],
            template_code=settings["template_code"],
            otp_template_code=settings.get("otp_template_code") or None,
            endpoint=settings.get("endpoint") or "https://dysmsapi.aliyuncs.com",
        )
    )


def _smtp(settings: dict[str, Any]) -> SmtpAdapter:
    config = SmtpConfig(
        host=settings["smtp_host"],
        port=int(settings["smtp_port"]),
        security=settings.get("smtp_security", "starttls"),
        username=settings.get("smtp_username") or settings.get("username", ""),
        password=settings.get("smtp_password") or settings.get("password", ""),
        from_address=settings["from_address"],
    )
    return SmtpAdapter(SmtpSender(config, tls_context=tls_context(settings)))


def _wechat(settings: dict[str, Any]) -> WeChatAdapter:
    base = settings.get("api_base") or "https://api.weixin.qq.com"
    return WeChatAdapter(WeChatApi(base, settings["app_id"], settings["app_secret"]))


def build_adapters(session: Session, *, log_dir: Path) -> dict[str, Adapter]:
    adapters: dict[str, Adapter] = dict(log_adapters(log_dir))
    builders = {"sms": _sms, "email": _smtp, "wechat": _wechat}
    for channel, build in builders.items():
        settings = service.channel_settings(session, channel)
        if settings:
            adapters[channel] = build(settings)
    adapters["phone"] = adapters["sms"]
    adapters["web_form"] = ByAddress(adapters["email"], adapters["sms"])
    return registry.for_worker(adapters, session.get_bind())  # web chat: the assistant room's
