"""Console shell: sign-in, sign-out and the home page."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from lenddesk.core import auth
from lenddesk.core.calendar import business_date
from lenddesk.core.db import database_reachable, utcnow
from lenddesk.core.errors import Forbidden, Unauthenticated, Unprocessable
from lenddesk.core.http import client_address, db_session
from lenddesk.core.models import User
from lenddesk.core.policy import get_policy
from lenddesk.core.settings import get_settings
from lenddesk.web.console import (
    HOME_CARDS,
    SignInRequired,
    console_user,
    day_text,
    login_redirect_target,
    render,
)

router = APIRouter(include_in_schema=False)
PASSWORD_FORM_MAX = auth.PASSWORD_MAX_LENGTH


def _safe_next(next_path: str | None) -> str:
    # Only same-site paths: an open redirect would let a phishing link land on a fake page.
    if next_path and next_path.startswith("/") and not next_path.startswith("//"):
        return next_path
    return "/"


@router.get("/login", response_class=HTMLResponse, dependencies=[auth.public()])
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "login.html", None, next=_safe_next(next))


def _set_session_cookie(response: RedirectResponse, user: User) -> None:
    response.set_cookie(
        auth.SESSION_COOKIE,
        auth.issue_token(user),
        max_age=get_policy().auth.token_minutes * 60,
        httponly=True,
        samesite="lax",
        secure=get_settings().cookie_secure,
    )


@router.post("/login", response_model=None, dependencies=[auth.public()])
def login_submit(
    request: Request,
    username: str = Form(...),
    password: str = Form(...),
    next: str = Form("/"),
    session: Session = db_session,
) -> HTMLResponse | RedirectResponse:
    now = utcnow()
    result = auth.sign_in(
        session, username=username.strip(), password=password, address=client_address(request), now=now
    )
    session.commit()  # count failed attempts even though the page answers with an error
    if result.user is None:
        error = auth.sign_in_error(result, now)
        status = error.status_code
        return render(request, "login.html", None, status_code=status, error=error.message_zh, next=next)
    response = RedirectResponse(_safe_next(next), status_code=303)
    _set_session_cookie(response, result.user)
    return response


@router.post("/logout", dependencies=[auth.public()])
def logout(request: Request, session: Session = db_session) -> RedirectResponse:
    """Sign out: revoke the session's tokens on the server too, not only forget the cookie."""
    try:
        user = auth.current_user_or_none(request, session)
    except Unauthenticated:
        user = None  # an expired or revoked session: only the cookie is left to clear
    if user is not None:
        auth.sign_out(session, user=user)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE)
    return response


@router.get("/account/password", response_class=HTMLResponse)
def password_page(request: Request, user: User = console_user(*auth.ALL_STAFF)) -> HTMLResponse:
    return render(request, "password.html", user, minimum=get_policy().auth.password_min_length)


@router.post("/account/password", response_model=None)
def password_submit(
    request: Request,
    current_password: str = Form(..., max_length=PASSWORD_FORM_MAX),
    new_password: str = Form(..., max_length=PASSWORD_FORM_MAX),
    repeat_password: str = Form(..., max_length=PASSWORD_FORM_MAX),
    session: Session = db_session,
    user: User = console_user(*auth.ALL_STAFF),
) -> HTMLResponse | RedirectResponse:
    """Change one's own password; every other session of the user ends, this one gets a new cookie."""
    minimum = get_policy().auth.password_min_length
    if new_password != repeat_password:
        error = "两次输入的新密码不一致"
        return render(request, "password.html", user, status_code=422, error=error, minimum=minimum)
    try:
        changed = auth.change_password(
            session,
            user_id=user.id,
            current_password=current_password,
            new_password=new_password,
            now=utcnow(),
        )
    except auth.WrongCurrentPassword as exc:
        session.commit()  # the wrong password counts towards the lockout
        return render(request, "password.html", user, status_code=403, error=exc.message_zh, minimum=minimum)
    except Unprocessable as exc:
        return render(request, "password.html", user, status_code=422, error=exc.message_zh, minimum=minimum)
    response = RedirectResponse("/?password=changed", status_code=303)
    _set_session_cookie(response, changed)
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
        today=day_text(business_date(now)),
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
