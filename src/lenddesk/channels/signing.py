"""Signatures and replay windows of inbound webhooks (pure: the clock is a parameter).

* LendDesk webhooks (SMS receipts and replies, CTI events): headers `X-LendDesk-Timestamp` (Unix
  seconds) and `X-LendDesk-Signature` = hex HMAC-SHA256(secret, "<timestamp>." + raw body).
* WeChat: SHA-1 over the sorted token, timestamp and nonce (and, in safe mode, the ciphertext).

Every comparison is constant-time; a timestamp outside the window is refused like a bad signature,
so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

TIMESTAMP_HEADER = "X-LendDesk-Timestamp"
SIGNATURE_HEADER = "X-LendDesk-Signature"


def sign_body(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def timestamp_fresh(timestamp: str, *, now: datetime, window_seconds: int) -> bool:
    """Whether a Unix-seconds timestamp lies within `window_seconds` of now (either side)."""
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    return abs(now.timestamp() - int(timestamp)) <= window_seconds


def body_signature_valid(
    secret: str, timestamp: str, body: bytes, signature: str, *, now: datetime, window_seconds: int
) -> bool:
    if not secret or not timestamp_fresh(timestamp, now=now, window_seconds=window_seconds):
        return False
    expected = sign_body(secret, timestamp, body)
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode("ascii", "replace"))


def wechat_signature(token: str, timestamp: str, nonce: str, *extra: str) -> str:
    """WeChat's signature: SHA-1 of the sorted, concatenated parts."""
    return hashlib.sha1("".join(sorted((token, timestamp, nonce, *extra))).encode()).hexdigest()


def wechat_signature_valid(signature: str, token: str, timestamp: str, nonce: str, *extra: str) -> bool:
    if not token:
        return False
    expected = wechat_signature(token, timestamp, nonce, *extra)
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode("ascii", "replace"))
