"""Defences for browsers: the CSRF check on cookie-authenticated writes and the security headers.

A request is authenticated by the session cookie when it carries the cookie and no Bearer header
(core.auth.token_from). Every such request that changes state (any method but GET, HEAD, OPTIONS)
must come from our own origin — a foreign `Origin` or `Referer` is refused — and carry the
session's CSRF token, in the form field `csrf_token` (console forms, rendered by `csrf_field()`)
or the `X-CSRF-Token` header (scripts and the API). Bearer tokens are never sent by a browser on
its own, so requests carrying one need neither. Signing in (`POST /login`, the token route) needs
no token, as there is no session yet, but a foreign origin is refused there too (login CSRF).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from urllib.parse import urlsplit

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lenddesk.core import auth
from lenddesk.core.errors import Forbidden

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SIGN_IN_PATHS = frozenset({"/login", "/api/v1/auth/token"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class CsrfRefused(Forbidden):
    default_code = "csrf_refused"


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _foreign_source(request: Request) -> bool:
    """True when the browser says the request comes from another site (Origin, else Referer)."""
    own = _origin_of(str(request.base_url))
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.lower() != own  # "null" (sandboxed frames, privacy redirects) is foreign too
    referer = request.headers.get("referer")
    return referer is not None and _origin_of(referer) != own


async def _submitted_token(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def csrf_protect(request: Request) -> None:
    """App-wide dependency: refuse cross-site and token-less writes that the session cookie authenticates."""
    if request.method in SAFE_METHODS:
        return
    token, from_cookie = auth.token_from(request)
    sign_in = request.url.path in SIGN_IN_PATHS
    if not (from_cookie and token) and not sign_in:
        return
    if _foreign_source(request):
        raise CsrfRefused(
            "请求来自其他网站，已拒绝",
            "Refused: the request comes from another site",
            code="csrf_foreign_origin",
        )
    if sign_in or not token:
        return
    submitted = await _submitted_token(request)
    if not hmac.compare_digest(submitted.encode(), auth.csrf_token_for(token).encode()):
        raise CsrfRefused(
            "页面已过期或缺少安全令牌，请刷新页面后重试",
            "Refused: the CSRF token is missing or wrong; reload the page and try again",
            code="csrf_token_invalid",
        )


def csrf_token(request: Request) -> str:
    """The token for forms on this page: empty when there is no session (the login page)."""
    token, from_cookie = auth.token_from(request)
    return auth.csrf_token_for(token) if token and from_cookie else ""


# --- security headers -----------------------------------------------------------------------

CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def api_docs_csp(html: str) -> str:
    """CSP for the Swagger UI and ReDoc pages: their one inline script allowed by its hash only."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
        "frame-ancestors 'none'"
    )


class SecurityHeaders:
    """ASGI middleware: security headers on every response (a route may set its own CSP first)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CONSOLE_CSP)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                if secure:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
