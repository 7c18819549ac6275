"""What the desk's pages share: who may do what, the request's time, flash messages and redirects,
and the parsing of form values."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from lenddesk.core.calendar import SHANGHAI
from lenddesk.core.db import utcnow
from lenddesk.core.errors import LendDeskError, Unprocessable
from lenddesk.core.models import User
from lenddesk.web.console import render

# Who may do what: the same role sets as the desk API (admin is always allowed).
READERS = ("agent", "collector", "team_lead", "qa", "compliance")
DESK = ("agent", "team_lead", "collector")
LEADS = ("team_lead",)
COMPLAINT_HANDLERS = ("agent", "team_lead", "compliance")
COMPLAINT_READERS = ("agent", "team_lead", "collector", "qa", "compliance")
CONSULT_ANSWERERS = ("agent", "team_lead", "collector", "compliance")
COMPLAINT_SENIORS = ("team_lead", "compliance")

FLASH_COOKIE = "lenddesk_flash"


def local_time(moment: datetime | None, pattern: str = "%m-%d %H:%M") -> str:
    return moment.astimezone(SHANGHAI).strftime(pattern) if moment else "—"


def request_now(request: Request) -> datetime:
    """The current time; tests may pin it with `app.state.desk_clock` (as the desk API does)."""
    clock = getattr(request.app.state, "desk_clock", None)
    return clock() if clock is not None else utcnow()


def may(user: User, roles: tuple[str, ...]) -> bool:
    return user.role == "admin" or user.role in roles


# --- flash messages and redirects -----------------------------------------------------------------


def redirect(url: str, message: str | None = None, kind: str = "info") -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    if message:
        value = quote(json.dumps([kind, message[:300]], ensure_ascii=False))
        response.set_cookie(FLASH_COOKIE, value, max_age=60, httponly=True, samesite="lax", path="/")
    return response


def take_flash(request: Request) -> tuple[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        kind, text = json.loads(unquote(raw))
    except (ValueError, TypeError):
        return None
    return ("error" if kind == "error" else "info", str(text))


def page(request: Request, template: str, user: User, status_code: int = 200, **context: Any) -> Response:
    """Render a desk page with the pending flash message (shown once)."""
    flash = context.pop("flash", None) or take_flash(request)
    response = render(request, template, user, status_code=status_code, flash=flash, **context)
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def error_page(request: Request, user: User, exc: LendDeskError) -> Response:
    return render(request, "error.html", user, status_code=exc.status_code, message=exc.message_zh)


def safe_back(target: str | None, default: str = "/desk") -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else default


def optional_int(value: str, what_zh: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise Unprocessable(f"{what_zh}无效：{value}", f"Invalid {what_zh}: {value}") from exc


def local_datetime(value: str) -> datetime:
    """A datetime-local form value (Shanghai wall time) as an aware datetime."""
    try:
        moment = datetime.fromisoformat((value or "").strip())
    except ValueError as exc:
        raise Unprocessable("请填写有效的跟进时间", "Give a valid follow-up time", code="bad_due_at") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)
