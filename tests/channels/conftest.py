"""Channel fixtures: sealed settings for every channel, a stand-in provider server, signed requests."""

from __future__ import annotations

import os

os.environ.setdefault("LENDDESK_CHANNELS_KEY", "test-channels-key-distinct-from-the-token-key")

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from lenddesk.channels import service, signing, standins
from lenddesk.core import audit
from tests.desk.conftest import NOW, Clock, borrower, channel_keys, clock, desk_data  # noqa: F401
from tests.support.servers import free_port

SMS_SECRET = "sms-webhook-secret-123"
CTI_SECRET = "cti-webhook-secret-456"
ALIYUN_SECRET = "aliyun-access-key-secret"
# WeChat's published test account (WXBizMsgCrypt samples)
WECHAT_TOKEN = "QDG6eK"
WECHAT_APP_ID = "wx5823bf96d3bd56c7"
WECHAT_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"


class StandIn:
    def __init__(self, **options: Any) -> None:
        self.port = free_port()
        self.server = standins.StandInServer(self.port, ALIYUN_SECRET, **options).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def state(self) -> standins.State:
        return self.server.state

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def standin() -> Iterator[StandIn]:
    server = StandIn()
    yield server
    server.stop()


def configure(session: Session, url: str = "http://127.0.0.1:9") -> None:
    admin = audit.Actor.system("tests")
    settings = {
        "sms": {
            "provider": "aliyun",
            "access_key_id": "LTAI-test",
            "access_key_secret": ALIYUN_SECRET,
            "sign_name": "LendDesk",
            "template_code": "SMS_100",
            "otp_template_code": "SMS_200",
            "endpoint": url,
            "webhook_secret": SMS_SECRET,
        },
        "cti": {"api_base": url, "api_key": "cti-key", "webhook_secret": CTI_SECRET},
        "wechat": {
            "app_id": WECHAT_APP_ID,
            "app_secret": "wechat-app-secret",
            "token": WECHAT_TOKEN,
            "encoding_aes_key": WECHAT_AES_KEY,
            "api_base": url,
        },
    }
    for channel, values in settings.items():
        service.save_settings(session, channel=channel, values=values, actor=admin, now=NOW)
    session.commit()


def plain_mode(session: Session) -> None:
    """The WeChat channel configured without an EncodingAESKey: plaintext (明文模式)."""
    values = {k: v for k, v in service.channel_settings(session, "wechat").items() if k != "encoding_aes_key"}
    service.save_settings(
        session, channel="wechat", values=values, actor=audit.Actor.system("tests"), now=NOW
    )
    session.commit()


@pytest.fixture
def configured(session: Session, desk_data: dict[str, int], standin: StandIn) -> StandIn:  # noqa: F811
    configure(session, standin.url)
    return standin


def signed(body: bytes, secret: str, at: datetime = NOW) -> dict[str, str]:
    timestamp = str(int(at.timestamp()))
    return {
        signing.TIMESTAMP_HEADER: timestamp,
        signing.SIGNATURE_HEADER: signing.sign_body(secret, timestamp, body),
        "Content-Type": "application/json",
    }
