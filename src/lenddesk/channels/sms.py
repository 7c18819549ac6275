"""SMS through Alibaba Cloud SMS (阿里云短信服务, dysmsapi `SendSms`, RPC signature v1) and its pushes.

Outbound: `SendSms` with the account's sign name and a template whose one variable `${content}`
carries the desk's text (`${code}` for one-time codes, with their own template). `OutId` carries our
idempotency key and comes back in the delivery receipt. Inbound: Alibaba Cloud pushes delivery
reports (`SmsReport`) and replies (`SmsUp`) as JSON arrays; LendDesk takes them at its signed
webhooks (see signing.py). Everything a provider needs is behind `SmsProvider`, so another provider
(Tencent Cloud) is one class.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import quote

from lenddesk.channels.http_client import HttpClient, TransportError


@lru_cache(maxsize=4096)  # the names and most values repeat from one message to the next
def percent_encode(value: str) -> str:
    """RFC 3986 encoding as Alibaba Cloud's signature wants it (space → %20, * → %2A, ~ kept)."""
    return quote(value, safe="~")


def canonical_query(parameters: dict[str, str]) -> str:
    """The parameters sorted and percent-encoded: what is signed, and a valid form body too."""
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(parameters.items()))


def _sign(method: str, canonical: str, secret: str) -> str:
    string_to_sign = f"{method}&%2F&{quote(canonical, safe='~')}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def rpc_signature(method: str, parameters: dict[str, str], secret: str) -> str:
    return _sign(method, canonical_query(parameters), secret)


@dataclass(frozen=True)
class SmsSendResult:
    accepted: bool
    provider_message_id: str | None = None
    error: str | None = None
    permanent: bool = False


class SmsProvider(Protocol):
    def send(self, phone: str, text: str, *, idempotency_key: str, code: str | None) -> SmsSendResult: ...


# Error codes that retrying cannot fix (bad number, template or signature; the account's keys).
_PERMANENT = {
    "isv.MOBILE_NUMBER_ILLEGAL",
    "isv.INVALID_PARAMETERS",
    "isv.SMS_TEMPLATE_ILLEGAL",
    "isv.SMS_SIGNATURE_ILLEGAL",
    "isv.BLACK_KEY_CONTROL_LIMIT",
    "isv.PARAM_LENGTH_LIMIT",
    "InvalidAccessKeyId.NotFound",
    "SignatureDoesNotMatch",
}


class AliyunSms:
    """`SendSms` of Alibaba Cloud's dysmsapi (2017-05-25), against `endpoint` (or a local stand-in)."""

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        template_code: str,
        otp_template_code: str | None = None,
        endpoint: str = "https://dysmsapi.aliyuncs.com",
        timeout: float = 10.0,
    ) -> None:
        self.access_key_id, self.secret = access_key_id, access_key_secret
        self.sign_name, self.template_code = sign_name, template_code
        self.otp_template_code = otp_template_code or template_code
        self.http = HttpClient(endpoint, timeout=timeout)

    def signed_body(self, phone: str, text: str, *, idempotency_key: str, code: str | None) -> bytes:
        """The form body of a signed `SendSms`: the canonical query (already encoded) and its signature."""
        parameters = self.unsigned_parameters(phone, text, idempotency_key=idempotency_key, code=code)
        canonical = canonical_query(parameters)
        return f"{canonical}&Signature={quote(_sign('POST', canonical, self.secret), safe='~')}".encode()

    def signed_parameters(
        self, phone: str, text: str, *, idempotency_key: str, code: str | None
    ) -> dict[str, str]:
        parameters = self.unsigned_parameters(phone, text, idempotency_key=idempotency_key, code=code)
        parameters["Signature"] = rpc_signature("POST", parameters, self.secret)
        return parameters

    def unsigned_parameters(
        self, phone: str, text: str, *, idempotency_key: str, code: str | None
    ) -> dict[str, str]:
        template, variables = (
            (self.otp_template_code, {"code": code}) if code else (self.template_code, {"content": text})
        )
        parameters = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "RegionId": "cn-hangzhou",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
            "PhoneNumbers": phone,
            "SignName": self.sign_name,
            "TemplateCode": template,
            "TemplateParam": json.dumps(variables, ensure_ascii=False),
            "OutId": idempotency_key,
        }
        return parameters

    def send(self, phone: str, text: str, *, idempotency_key: str, code: str | None = None) -> SmsSendResult:
        body = self.signed_body(phone, text, idempotency_key=idempotency_key, code=code)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        try:
            response = self.http.request("POST", "/", body, headers)
        except TransportError as exc:
            return SmsSendResult(False, error=f"transport: {exc}"[:200])
        try:
            answer: dict[str, Any] = json.loads(response.body or b"{}")
        except ValueError:
            return SmsSendResult(False, error=f"HTTP {response.status}: not JSON")
        code_ = str(answer.get("Code", ""))
        if code_ == "OK":
            return SmsSendResult(True, provider_message_id=str(answer.get("BizId") or "") or None)
        error = f"{code_ or response.status}: {answer.get('Message', '')}"[:200]
        return SmsSendResult(False, error=error, permanent=code_ in _PERMANENT)


# --- pushes: delivery reports and replies ---------------------------------------------------------


@dataclass(frozen=True)
class SmsReceipt:
    phone: str
    delivered: bool
    biz_id: str | None
    out_id: str | None
    error: str | None
    reported_at: str


@dataclass(frozen=True)
class SmsReply:
    phone: str
    content: str
    sequence_id: str
    sent_at: str


class SmsPushError(ValueError):
    pass


def _items(payload: Any) -> list[dict[str, Any]]:
    if not isinstance(payload, list) or not all(isinstance(item, dict) for item in payload):
        raise SmsPushError("the push is not a JSON array of objects")
    if len(payload) > 1000:
        raise SmsPushError("more than 1,000 items in one push")
    return payload


def _string(item: dict[str, Any], key: str, *, required: bool = True, limit: int = 2000) -> str:
    value = item.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool) or len(str(value)) > limit:
        raise SmsPushError(f"{key} missing or malformed")
    return str(value)


def parse_receipts(payload: Any) -> list[SmsReceipt]:
    receipts = []
    for item in _items(payload):
        success = item.get("success")
        if not isinstance(success, bool):
            raise SmsPushError("success must be true or false")
        receipts.append(
            SmsReceipt(
                phone=_string(item, "phone_number", limit=32),
                delivered=success,
                biz_id=_string(item, "biz_id", required=False, limit=128) or None,
                out_id=_string(item, "out_id", required=False, limit=128) or None,
                error=None
                if success
                else f"{item.get('err_code', '')} {item.get('err_msg', '')}".strip()[:200],
                reported_at=_string(item, "report_time", required=False, limit=32),
            )
        )
    return receipts


def parse_replies(payload: Any) -> list[SmsReply]:
    return [
        SmsReply(
            phone=_string(item, "phone_number", limit=32),
            content=_string(item, "content", limit=2000),
            sequence_id=_string(item, "sequence_id", limit=64),
            sent_at=_string(item, "send_time", required=False, limit=32),
        )
        for item in _items(payload)
    ]


def outbox_id_of(out_id: str | None) -> int | None:
    """Our outbox id from an idempotency key `lenddesk-<id>` (or `lenddesk-<id>-<attempt>`)."""
    if not out_id or not out_id.startswith("lenddesk-"):
        return None
    head = out_id.removeprefix("lenddesk-").split("-", 1)[0]
    return int(head) if head.isdigit() and len(head) < 19 else None
