"""Request and response models of the channels API. Strings are bounded; settings are per channel."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Text = Annotated[str, Field(max_length=500)]
Secret = Annotated[str, Field(max_length=500)]
Port = Annotated[int, Field(ge=1, le=65535)]
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EmailSettings(_Settings):
    imap_host: Text = ""
    imap_port: Port = 993
    imap_security: Literal["ssl", "starttls", "none"] = "ssl"
    username: Text = ""
    password: Secret = ""
    folder: Text = "INBOX"
    smtp_host: Text
    smtp_port: Port = 465
    smtp_security: Literal["ssl", "starttls", "none"] = "ssl"
    smtp_username: Text = ""
    smtp_password: Secret = ""
    from_address: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
    # A PEM file of the CA that issued the mail servers' certificates (a private CA); empty: the system's.
    tls_ca_file: Text = ""


class WeChatSettings(_Settings):
    app_id: Annotated[str, Field(min_length=1, max_length=64)]
    app_secret: Secret
    token: Annotated[str, Field(min_length=3, max_length=32)]
    encoding_aes_key: Annotated[str, Field(max_length=43)] = ""  # 43 characters: safe mode
    api_base: Text = "https://api.weixin.qq.com"


class SmsSettings(_Settings):
    provider: Literal["aliyun"] = "aliyun"
    access_key_id: Annotated[str, Field(min_length=1, max_length=128)]
    access_key_secret: Secret
    sign_name: Annotated[str, Field(min_length=1, max_length=64)]
    template_code: Annotated[str, Field(min_length=1, max_length=64)]
    otp_template_code: Annotated[str, Field(max_length=64)] = ""
    endpoint: Text = "https://dysmsapi.aliyuncs.com"
    webhook_secret: Secret


class CtiSettings(_Settings):
    api_base: Text = ""
    api_key: Secret = ""
    webhook_secret: Secret


SETTINGS_MODELS: dict[str, type[_Settings]] = {
    "email": EmailSettings,
    "wechat": WeChatSettings,
    "sms": SmsSettings,
    "cti": CtiSettings,
}


class SettingsOut(BaseModel):
    channel: str
    settings: dict[str, str | int | bool | None]


class CtiEventIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    event_id: Annotated[str, Field(min_length=1, max_length=128)]
    call_id: Annotated[str, Field(min_length=1, max_length=64)]
    event: Literal["ringing", "answered", "ended", "recording", "transcript"]
    caller: Annotated[str, Field(min_length=1, max_length=32)]
    agent: Annotated[str | None, Field(max_length=64)] = None
    at: datetime | None = None
    recording_url: Annotated[str | None, Field(max_length=500)] = None
    transcript: Annotated[str | None, Field(max_length=20000)] = None


class CtiEventOut(BaseModel):
    ticket_number: str | None


class ClickToCallIn(BaseModel):
    ticket_number: Annotated[str, Field(pattern=r"^[Tt]\d{8}-\d{6}$")]


class ClickToCallOut(BaseModel):
    ticket_number: str
    dialled: str  # masked


class PushOut(BaseModel):
    accepted: int
    ignored: int


class HealthOut(BaseModel):
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


class DeadLetterOut(BaseModel):
    outbox_id: int
    ticket_number: str | None
    channel: str
    recipient: str
    kind: str
    attempts: int
    last_error: str | None
    created_at: datetime


class DeliveryOut(BaseModel):
    """One "deliver now": accepted by a channel (delivered or sent awaiting a receipt), and not."""

    delivered: int
    failed: int
