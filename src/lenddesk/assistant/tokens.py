"""The web chat's session token: a secret the borrower's browser holds, never put in a URL.

The browser gets it in an HttpOnly cookie (`lenddesk_chat`, SameSite=Strict) with its first message;
an API client may send it in the `X-Chat-Token` header instead. The server keeps only the session's
public id, a keyed hash of the token: the id may appear in the agents' console URLs, the desk's
sender (`chat:<id>`) and logs, and alone opens nothing — reading a transcript or writing into a
chat takes the token.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from lenddesk.core.settings import get_settings

COOKIE = "lenddesk_chat"
HEADER = "X-Chat-Token"
COOKIE_MAX_AGE = 30 * 24 * 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,128}")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def well_formed(token: str | None) -> bool:
    return token is not None and _TOKEN.fullmatch(token) is not None


def presented(header: str | None, cookie: str | None) -> str | None:
    """The token a request carries: the header first, then the cookie; None when neither is one."""
    for token in (header, cookie):
        if well_formed(token):
            return token
    return None


def public_id_of(token: str) -> str:
    """The session's id as the database and the desk know it: 32 hex characters of a keyed hash."""
    key = get_settings().resolved_secret_key().encode()
    return hmac.new(key, f"chat-session:{token}".encode(), hashlib.sha256).hexdigest()[:32]
