"""Shared console plumbing: templates, navigation, and the page-level role check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup
from sqlalchemy.orm import Session

from lenddesk.core import auth, browser
from lenddesk.core.errors import Forbidden, Unauthenticated
from lenddesk.core.http import db_session
from lenddesk.core.models import User
from lenddesk.core.money import format_fen
from lenddesk.core.pii import mask_id_number, mask_mobile, mask_name

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


# Rooms add their pages here; an item shows only to the roles that may open it.
NAV: list[NavItem] = [NavItem("工作台", "/", frozenset(auth.ALL_STAFF))]


def add_nav(label: str, href: str, *roles: str) -> None:
    if not any(item.href == href for item in NAV):
        NAV.append(NavItem(label, href, frozenset(roles) | {"admin"}))


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


def render(request: Request, template: str, user: User | None, status_code: int = 200, **context: Any):  # type: ignore[no-untyped-def]
    nav = [item for item in NAV if user is not None and user.role in item.roles]
    return templates.TemplateResponse(
        request,
        template,
        {"user": user, "nav": nav, "path": request.url.path, **context},
        status_code=status_code,
    )


def login_redirect_target(next_path: str) -> str:
    return f"/login?next={quote(next_path)}"


__all__ = ["Forbidden", "NavItem", "add_nav", "console_user", "render", "templates"]
