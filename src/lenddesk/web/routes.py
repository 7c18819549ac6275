"""Console shell: sign-in, sign-out and the home page."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from lenddesk.core import auth
from lenddesk.core.calendar import business_date
from lenddesk.core.db import database_reachable, utcnow
from lenddesk.core.errors import Forbidden
from lenddesk.core.http import db_session
from lenddesk.core.models import User
from lenddesk.core.policy import get_policy
from lenddesk.core.settings import get_settings
from lenddesk.web.console import HOME_CARDS, SignInRequired, console_user, login_redirect_target, render

router = APIRouter(include_in_schema=False)


def _safe_next(next_path: str | None) -> str:
    # Only same-site paths: an open redirect would let a phishing link land on a fake page.
    if next_path and next_path.startswith("/") and not next_path.startswith("//"):
        return next_path
    return "/"


@router.get("/login", response_class=HTMLResponse, dependencies=[auth.public()])
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "login.html", None, next=_safe_next(next))


@router.post("/login", response_model=None, dependencies=[auth.public()])
def login_submit(
    request: Request,
    username: str = Form(...),
    password: str = Form(...),
    next: str = Form("/"),
    session: Session = db_session,
) -> HTMLResponse | RedirectResponse:
    result = auth.sign_in(session, username=username.strip(), password=password, now=utcnow())
    session.commit()  # count failed attempts even though the page answers with an error
    if result.user is None:
        error = auth.sign_in_error(result.reason)
        return render(request, "login.html", None, status_code=401, error=error.message_zh, next=next)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        auth.SESSION_COOKIE,
        auth.issue_token(result.user),
        max_age=get_policy().auth.token_minutes * 60,
        httponly=True,
        samesite="lax",
        secure=get_settings().cookie_secure,
    )
    return response


@router.post("/logout", dependencies=[auth.public()])
def logout() -> RedirectResponse:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE)
    return response


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request, session: Session = db_session, user: User = console_user(*auth.ALL_STAFF)
) -> HTMLResponse:
    now = utcnow()
    return render(
        request,
        "home.html",
        user,
        cards=[card for provider in HOME_CARDS for card in provider(session, user, now)],
        database_ok=database_reachable(request.app.state.engine),
        today=business_date(now).strftime("%Y年%m月%d日"),
    )


def install_console_handlers(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def to_login(_request: Request, exc: SignInRequired) -> RedirectResponse:
        return RedirectResponse(login_redirect_target(exc.next_path), status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden):  # type: ignore[no-untyped-def]
        if request.url.path.startswith("/api/"):
            from fastapi.responses import JSONResponse

            return JSONResponse(exc.to_body(), status_code=exc.status_code)
        user = getattr(request.state, "user", None)
        return render(request, "error.html", user, status_code=403, message=exc.message_zh)
