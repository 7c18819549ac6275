"""WeChat Official Account (公众号) protocol: callback messages, safe-mode crypto, passive replies and
the customer-service message API. No business rules: what a message means is the desk's intake.

Safe mode is WeChat's WXBizMsgCrypt: AES-256-CBC with the 43-character EncodingAESKey (base64 of the
key), the IV its first 16 bytes, PKCS#7 padding to 32-byte blocks; the plaintext is 16 random bytes,
the message length (4 bytes, big-endian), the message and the app id.
"""

from __future__ import annotations

import base64
import json
import secrets
import struct
import threading
import time
from dataclasses import dataclass
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as safe_xml
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import DefusedXmlException

from lenddesk.channels.http_client import HttpClient, TransportError
from lenddesk.channels.signing import wechat_signature

BLOCK = 32


class WeChatProtocolError(ValueError):
    """A callback that does not follow the protocol (bad XML, bad ciphertext, wrong app id)."""


@dataclass(frozen=True)
class WeChatMessage:
    to_user: str  # the Official Account
    from_user: str  # the follower's openid
    create_time: int
    msg_type: str  # text, image, voice, location, link, video, event
    msg_id: str | None
    content: str = ""
    pic_url: str = ""
    media_id: str = ""
    recognition: str = ""
    location: str = ""
    event: str = ""  # subscribe, unsubscribe, CLICK, VIEW, …
    event_key: str = ""

    @property
    def dedupe_id(self) -> str:
        """MsgId for messages; FromUserName + CreateTime for events (WeChat's own advice)."""
        return self.msg_id or f"event:{self.from_user}:{self.create_time}:{self.event}"

    def as_text(self) -> str | None:
        """The message as the text a ticket shows; None for what is no customer message."""
        if self.msg_type == "text":
            return self.content
        if self.msg_type == "image":
            return f"[图片] {self.pic_url}".strip()
        if self.msg_type == "voice":
            return f"[语音] {self.recognition}" if self.recognition else "[语音消息，无识别文本]"
        if self.msg_type == "location":
            return f"[位置] {self.location}"
        if self.msg_type in ("video", "shortvideo", "link", "file"):
            return f"[{self.msg_type}] {self.media_id or self.content}".strip()
        if self.msg_type == "event" and self.event == "CLICK":
            return f"[菜单] {self.event_key}"
        return None


def parse_xml(raw: bytes) -> Element:
    """Parse an XML body without DTDs or entities (no XML bombs, no external entities)."""
    try:
        return safe_xml.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, safe_xml.ParseError, ValueError) as exc:
        raise WeChatProtocolError(f"bad XML: {type(exc).__name__}") from exc


def _text(root: Element, name: str) -> str:
    node = root.find(name)
    return (node.text or "").strip() if node is not None else ""


def parse_message(root: Element) -> WeChatMessage:
    if root.tag != "xml":
        raise WeChatProtocolError("root element is not <xml>")
    create_time = _text(root, "CreateTime")
    if not create_time.isdigit() or len(create_time) > 12:
        raise WeChatProtocolError("CreateTime missing or not a number")
    sender, msg_type = _text(root, "FromUserName"), _text(root, "MsgType")
    if not sender or not msg_type:
        raise WeChatProtocolError("FromUserName or MsgType missing")
    label = _text(root, "Label")
    coordinates = f"{_text(root, 'Location_X')},{_text(root, 'Location_Y')}".strip(",")
    return WeChatMessage(
        to_user=_text(root, "ToUserName"),
        from_user=sender,
        create_time=int(create_time),
        msg_type=msg_type,
        msg_id=_text(root, "MsgId") or None,
        content=_text(root, "Content"),
        pic_url=_text(root, "PicUrl"),
        media_id=_text(root, "MediaId"),
        recognition=_text(root, "Recognition"),
        location=f"{label} ({coordinates})" if label else coordinates,
        event=_text(root, "Event"),
        event_key=_text(root, "EventKey"),
    )


# --- safe mode ------------------------------------------------------------------------------------


class MessageCrypt:
    def __init__(self, token: str, encoding_aes_key: str, app_id: str) -> None:
        if len(encoding_aes_key) != 43:
            raise ValueError("EncodingAESKey must be 43 characters")
        self.token, self.app_id = token, app_id
        self.key = base64.b64decode(encoding_aes_key + "=")
        if len(self.key) != 32:
            raise ValueError("EncodingAESKey does not decode to 32 bytes")

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def decrypt(self, ciphertext: str) -> str:
        try:
            data = base64.b64decode(ciphertext, validate=True)
        except ValueError as exc:
            raise WeChatProtocolError("ciphertext is not base64") from exc
        if not data or len(data) % 16:
            raise WeChatProtocolError("ciphertext length is not a whole number of blocks")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or len(plain) < 20 + pad:
            raise WeChatProtocolError("bad padding")
        content = plain[16:-pad]
        (length,) = struct.unpack(">I", content[:4])
        message, app_id = content[4 : 4 + length], content[4 + length :]
        if len(message) != length or app_id.decode("utf-8", "replace") != self.app_id:
            raise WeChatProtocolError("the message is not for this app id")
        try:
            return message.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WeChatProtocolError("the message is not UTF-8") from exc

    def encrypt(self, message: str, *, random_prefix: bytes | None = None) -> str:
        body = message.encode()
        plain = (random_prefix or secrets.token_bytes(16)) + struct.pack(">I", len(body)) + body
        plain += self.app_id.encode()
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def encrypted_reply(self, reply_xml: str, *, timestamp: str, nonce: str) -> str:
        ciphertext = self.encrypt(reply_xml)
        signature = wechat_signature(self.token, timestamp, nonce, ciphertext)
        return (
            f"<xml><Encrypt>{_cdata(ciphertext)}</Encrypt><MsgSignature>{_cdata(signature)}</MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce>{_cdata(nonce)}</Nonce></xml>"
        )


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(message: WeChatMessage, content: str, *, now: int) -> str:
    """A passive reply: the text goes straight back in the callback's response."""
    return (
        f"<xml><ToUserName>{_cdata(message.from_user)}</ToUserName>"
        f"<FromUserName>{_cdata(message.to_user)}</FromUserName><CreateTime>{now}</CreateTime>"
        f"<MsgType><![CDATA[text]]></MsgType><Content>{_cdata(content)}</Content></xml>"
    )


# --- customer-service message API (asynchronous replies) ------------------------------------------

# errcodes meaning the access token is invalid or expired: fetch a new one and try once more.
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
# refused for good: the follower has not written within 48 hours, unfollowed, or the openid is wrong.
PERMANENT_ERRORS = frozenset({45015, 43004, 40003, 45047})


@dataclass(frozen=True)
class ApiAnswer:
    ok: bool
    error: str | None = None
    permanent: bool = False


class WeChatApi:
    """The Official Account API (or a local stand-in at `base_url`), with a cached access token."""

    def __init__(self, base_url: str, app_id: str, app_secret: str, *, timeout: float = 5.0) -> None:
        self.http = HttpClient(base_url, timeout=timeout)
        self.app_id, self.app_secret = app_id, app_secret
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def access_token(self, *, refresh: bool = False) -> str:
        with self._lock:
            if not refresh and self._token and self._token[1] > time.monotonic():
                return self._token[0]
            query = (
                f"/cgi-bin/token?grant_type=client_credential&appid={self.app_id}&secret={self.app_secret}"
            )
            answer = json.loads(self.http.request("GET", query).body or b"{}")
            token = answer.get("access_token")
            if not token:
                raise TransportError(f"access token refused: {answer.get('errcode')} {answer.get('errmsg')}")
            # renew five minutes early (the token lives 7,200 s)
            self._token = (token, time.monotonic() + max(int(answer.get("expires_in", 7200)) - 300, 60))
            return token

    def send_text(self, openid: str, content: str) -> ApiAnswer:
        payload = json.dumps(
            {"touser": openid, "msgtype": "text", "text": {"content": content}}, ensure_ascii=False
        ).encode()
        for refresh in (False, True):
            token = self.access_token(refresh=refresh)
            response = self.http.request(
                "POST",
                f"/cgi-bin/message/custom/send?access_token={token}",
                payload,
                {"Content-Type": "application/json; charset=utf-8"},
            )
            if response.status >= 500:
                return ApiAnswer(False, f"HTTP {response.status}")
            try:
                answer = json.loads(response.body or b"{}")
            except ValueError:
                return ApiAnswer(False, f"HTTP {response.status}: not JSON")
            code = int(answer.get("errcode", 0) or 0)
            if code == 0:
                return ApiAnswer(True)
            if code not in TOKEN_ERRORS:
                error = f"errcode {code}: {answer.get('errmsg', '')}"[:200]
                return ApiAnswer(False, error, permanent=code in PERMANENT_ERRORS)
        return ApiAnswer(False, "access token refused twice")
