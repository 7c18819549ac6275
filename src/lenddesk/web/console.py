"""The console kit: what every page of the console uses, so that no room writes it again.

- templates and filters (`yuan`, masks, `local_time`, `day`), the CSRF field;
- navigation (`add_nav`, grouped by work area and shown only to the roles that may open a page)
  and home-page figures (`add_home_cards`), banners above every page (`add_banner`);
- the page-level role check (`console_user`) and `render`, which also shows the pending flash;
- `request_time` (the request's 'now', pinned by tests through `app.state.desk_clock`);
- `redirect` (PRG with a one-shot flash message), `refused` (a LendDeskError rolled back and turned
  into a message on a page), `error_page`, `safe_back`;
- form values: `optional_int`, `form_day` (YYYY-MM-DD typed as text), `form_moment`.
See docs/ARCHITECTURE.md, "The console".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup
from sqlalchemy.orm import Session

from lenddesk.core import auth, browser
from lenddesk.core.calendar import SHANGHAI
from lenddesk.core.errors import Forbidden, LendDeskError, Unauthenticated, Unprocessable
from lenddesk.core.http import clock_now, db_session
from lenddesk.core.models import User
from lenddesk.core.money import format_fen
from lenddesk.core.pii import mask_id_number, mask_mobile, mask_name
from lenddesk.core.roles import admits

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters["yuan"] = lambda fen: format_fen(fen, thousands=True) if fen is not None else "—"
templates.env.filters["mask_mobile"] = mask_mobile
templates.env.filters["mask_id"] = mask_id_number
templates.env.filters["mask_name"] = mask_name
templates.env.globals["role_labels"] = auth.ROLE_LABELS_ZH


@pass_context
def csrf_field(context: Any) -> Markup:
    """`{{ csrf_field() }}` inside every POST form: the session's CSRF token as a hidden field."""
    token = browser.csrf_token(context["request"])
    return Markup('<input type="hidden" name="{}" value="{}">').format(browser.CSRF_FIELD, token)


templates.env.globals["csrf_field"] = csrf_field


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    roles: frozenset[str]
    area: str = ""  # one of AREAS; "" for the home page, which stands before every area


# The work areas of the second row of the top bar, in display order.
AREAS = ("工单", "账务", "催收", "协商", "质检", "渠道", "风控", "报表", "管理")

# Rooms add their pages here; an item shows only to the roles that may open it.
NAV: list[NavItem] = [NavItem("工作台", "/", frozenset(auth.ALL_STAFF))]


def add_nav(label: str, href: str, *roles: str, area: str) -> None:
    """Register a page in the navigation: `roles` should be the same role table as the page's
    `console_user(...)`, so that nobody is shown a link that answers 403."""
    if area not in AREAS:
        raise ValueError(f"unknown navigation area {area!r}; one of {AREAS}")
    if not any(item.href == href for item in NAV):
        NAV.append(NavItem(label, href, frozenset(roles) | {"admin"}, area))


def nav_areas(items: list[NavItem]) -> list[tuple[str, list[NavItem]]]:
    """The items grouped by work area, areas in AREAS order (empty areas left out)."""
    return [
        (area, [item for item in items if item.area == area])
        for area in AREAS
        if any(item.area == area for item in items)
    ]


@dataclass(frozen=True)
class HomeCard:
    """One figure on the home page: a label, a value and where to click for the list behind it."""

    label: str
    value: str
    href: str
    tone: str = ""  # "", "warn", "bad", or "detail" for a line of text rather than a number


# Rooms add functions (session, user, now) -> cards; each decides which roles see its cards.
HOME_CARDS: list[Callable[[Session, User, datetime], list[HomeCard]]] = []


def add_home_cards(provider: Callable[[Session, User, datetime], list[HomeCard]]) -> None:
    if provider not in HOME_CARDS:
        HOME_CARDS.append(provider)


# Rooms add panels to the borrower 360 here: (session, user, borrower_id) -> HTML (e.g. the risk score).
BORROWER_PANELS: list[Callable[[Session, User, int], Markup]] = []


def add_borrower_panel(provider: Callable[[Session, User, int], Markup]) -> None:
    if provider not in BORROWER_PANELS:
        BORROWER_PANELS.append(provider)


def borrower_panels(session: Session, user: User, borrower_id: int) -> list[Markup]:
    """The registered panels of a borrower the viewer may already see (the 360 checked access)."""
    return [provider(session, user, borrower_id) for provider in BORROWER_PANELS]


# Rooms add banners shown above every signed-in console page here: (request) -> HTML or None (an
# active incident). A provider reads through its own short session: `render` has none.
BANNERS: list[Callable[[Request], Markup | None]] = []


def add_banner(provider: Callable[[Request], Markup | None]) -> None:
    if provider not in BANNERS:
        BANNERS.append(provider)


def banners(request: Request) -> list[Markup]:
    return [banner for provider in BANNERS if (banner := provider(request)) is not None]


class SignInRequired(Exception):
    """A console page was opened without a valid session: send the browser to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def console_user(*roles: str) -> Any:
    """Like `auth.allow` for console pages: unauthenticated browsers are redirected to /login."""
    check = auth.require_roles(*roles)

    def dependency(request: Request, session: Session = db_session) -> User:
        try:
            return check(request, session)
        except Unauthenticated as exc:
            raise SignInRequired(request.url.path) from exc

    dependency.allowed_roles = check.allowed_roles  # type: ignore[attr-defined]
    return Depends(dependency)


FLASH_COOKIE = "lenddesk_flash"


def take_flash(request: Request) -> tuple[str, str] | None:
    """The one-shot message a redirect left: (kind, text), kind "info" or "error"."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        kind, text = json.loads(unquote(raw))
    except (ValueError, TypeError):
        return None
    return ("error" if kind == "error" else "info", str(text))


def render(request: Request, template: str, user: User | None, status_code: int = 200, **context: Any):  # type: ignore[no-untyped-def]
    """A console page: the user's navigation and the pending flash message (shown once)."""
    nav = [item for item in NAV if user is not None and user.role in item.roles]
    flash = context.pop("flash", None) or take_flash(request)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "nav": nav,
            "nav_areas": nav_areas(nav),
            "path": request.url.path,
            "flash": flash,
            "banners": banners(request) if user is not None else [],
            **context,
        },
        status_code=status_code,
    )
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def error_page(request: Request, user: User | None, exc: LendDeskError) -> Response:
    """The whole page refused (not found, not allowed): the message in Chinese, the error's status."""
    return render(request, "error.html", user, status_code=exc.status_code, message=exc.message_zh)


def request_time(request: Request) -> datetime:
    """The request's 'now' (tests pin it with `app.state.desk_clock`, as for the API)."""
    return clock_now(request)


def redirect(url: str, message: str | None = None, kind: str = "info") -> RedirectResponse:
    """Post/redirect/get: back to `url`, with `message` shown once on the next page."""
    response = RedirectResponse(url, status_code=303)
    if message:
        value = quote(json.dumps([kind, message[:300]], ensure_ascii=False))
        response.set_cookie(FLASH_COOKIE, value, max_age=60, httponly=True, samesite="lax", path="/")
    return response


def refused(session: Session, exc: LendDeskError, url: str | None = None) -> Any:
    """The one way a refused action (a LendDeskError) reaches the page: roll back what it wrote;
    with `url`, redirect there with the message as an error flash; without, give the context that
    re-renders the form (`render(..., **refused(session, exc), form=...)`): the message in Chinese
    as `error` and the error's HTTP status."""
    session.rollback()
    if url is not None:
        return redirect(url, exc.message_zh, "error")
    return {"error": exc.message_zh, "status_code": exc.status_code}


def safe_back(target: str | None, default: str = "/") -> str:
    """A same-site path to go back to (an open redirect would let a link land on a fake page)."""
    return target if target and target.startswith("/") and not target.startswith("//") else default


# --- form values and how times read ---------------------------------------------------------------

DAY_PATTERN = r"\d{4}-\d{2}-\d{2}"


def local_time(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (UTC) time as Shanghai wall time, YYYY-MM-DD HH:MM unless told otherwise."""
    return moment.astimezone(SHANGHAI).strftime(pattern) if moment else "—"


def day_text(day: date | datetime | None) -> str:
    """A date as the console shows it everywhere: YYYY-MM-DD."""
    return day.strftime("%Y-%m-%d") if day else "—"


def optional_int(value: str, what_zh: str, what_en: str | None = None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise Unprocessable(f"{what_zh}无效：{value}", f"Invalid {what_en or what_zh}: {value}") from exc


def form_day(value: str | None, what_zh: str, what_en: str) -> date | None:
    """A date typed as YYYY-MM-DD (a text box: a browser's date box follows its own locale);
    blank is None; anything else is refused in Chinese and English."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise Unprocessable(
            f"{what_zh}格式应为 YYYY-MM-DD（如 2026-11-10）：{text[:20]}",
            f"{what_en} must be YYYY-MM-DD (e.g. 2026-11-10): {text[:20]}",
            code="bad_date",
        ) from exc
    # The span the API accepts too: 9999-12-31 has no next day, year 1 no day before.
    if not date(1900, 1, 1) <= day <= date(2199, 12, 31):
        raise Unprocessable(
            f"{what_zh}须在 1900-01-01 至 2199-12-31 之间",
            f"{what_en} must fall between 1900-01-01 and 2199-12-31",
            code="bad_date",
        )
    return day


def form_moment(value: str | None, what_zh: str, what_en: str) -> datetime:
    """A time typed as YYYY-MM-DD HH:MM (Shanghai wall time) as an aware datetime."""
    text = (value or "").strip()
    try:
        moment = datetime.fromisoformat(text)
        if len(text) not in (16, 19):
            raise ValueError(text)
    except ValueError as exc:
        raise Unprocessable(
            f"{what_zh}格式应为 YYYY-MM-DD HH:MM（如 2026-11-10 14:30）",
            f"{what_en} must be YYYY-MM-DD HH:MM (e.g. 2026-11-10 14:30)",
            code="bad_due_at",
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


templates.env.filters["local_time"] = local_time
templates.env.filters["day"] = day_text
templates.env.globals["day_pattern"] = DAY_PATTERN


def may(user: User, roles: tuple[str, ...]) -> bool:
    """Whether the user may do what `roles` may (a role table of the room; admin always may)."""
    return admits(user.role, roles)


def login_redirect_target(next_path: str) -> str:
    return f"/login?next={quote(next_path)}"


__all__ = [
    "DAY_PATTERN",
    "Forbidden",
    "HomeCard",
    "NavItem",
    "add_home_cards",
    "add_nav",
    "console_user",
    "day_text",
    "error_page",
    "form_day",
    "form_moment",
    "local_time",
    "may",
    "optional_int",
    "redirect",
    "refused",
    "render",
    "request_time",
    "safe_back",
    "take_flash",
    "templates",
]
