"""Core routes: sign-in token, the current user, user administration, audit queries, health."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import fastapi_offline
from fastapi import APIRouter, Depends, Query, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk import __version__
from lenddesk.core import audit, auth, browser
from lenddesk.core.db import database_reachable, utcnow
from lenddesk.core.http import Id, Offset, client_address, db_session, errors
from lenddesk.core.models import User
from lenddesk.core.policy import get_policy
from lenddesk.core.schemas import (
    AuditOut,
    HealthOut,
    PasswordChangeIn,
    PasswordResetIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)

router = APIRouter()
# Swagger UI and ReDoc assets shipped inside the fastapi-offline wheel (no CDN at run time).
API_DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"


def _with_docs_csp(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = browser.api_docs_csp(bytes(page.body).decode())
    return page


@router.get("/docs", include_in_schema=False, dependencies=[auth.public()])
def swagger_ui(request: Request) -> HTMLResponse:
    return _with_docs_csp(
        get_swagger_ui_html(
            openapi_url=request.app.openapi_url,
            title="LendDesk API",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url="/static/apidocs/swagger-ui-bundle.js",
            swagger_css_url="/static/apidocs/swagger-ui.css",
            swagger_favicon_url="/static/apidocs/favicon.png",
        )
    )


@router.get("/docs/oauth2-redirect", include_in_schema=False, dependencies=[auth.public()])
def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc", include_in_schema=False, dependencies=[auth.public()])
def redoc(request: Request) -> HTMLResponse:
    return _with_docs_csp(
        get_redoc_html(
            openapi_url=request.app.openapi_url,
            title="LendDesk API",
            redoc_js_url="/static/apidocs/redoc.standalone.js",
            redoc_favicon_url="/static/apidocs/favicon.png",
            with_google_fonts=False,
        )
    )


@router.get(
    "/healthz",
    response_model=HealthOut,
    tags=["system"],
    dependencies=[auth.public()],
    summary="Health of the service and its database",
)
def healthz(request: Request) -> HealthOut:
    reachable = database_reachable(request.app.state.engine)
    return HealthOut(
        status="ok" if reachable else "degraded",
        version=__version__,
        database="ok" if reachable else "unreachable",
    )


@router.post(
    "/api/v1/auth/token",
    response_model=TokenOut,
    tags=["auth"],
    summary="Sign in with a password and get a bearer token",
    responses=errors(400, 401, 422, 429),
    dependencies=[auth.public()],
)
def token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: Session = db_session,
) -> TokenOut:
    now = utcnow()
    result = auth.sign_in(
        session, username=form.username, password=form.password, address=client_address(request), now=now
    )
    # Failed attempts must be counted even though this request answers with an error.
    session.commit()
    if result.user is None:
        raise auth.sign_in_error(result, now)
    return _token_out(result.user)


def _token_out(user: User) -> TokenOut:
    minutes = get_policy().auth.token_minutes
    return TokenOut(access_token=auth.issue_token(user), expires_in=minutes * 60, role=user.role)


@router.post(
    "/api/v1/auth/logout",
    status_code=204,
    tags=["auth"],
    summary="Sign out: revoke every token issued to the caller",
    responses=errors(401, 403),
)
def logout(session: Session = db_session, user: User = auth.allow(*auth.ALL_STAFF)) -> None:
    auth.sign_out(session, user=user)


@router.post(
    "/api/v1/auth/password",
    response_model=TokenOut,
    tags=["auth"],
    summary="Change one's own password (revokes every earlier token; returns a new one)",
    responses=errors(400, 401, 403, 422),
)
def change_password(
    body: PasswordChangeIn, session: Session = db_session, user: User = auth.allow(*auth.ALL_STAFF)
) -> TokenOut:
    try:
        changed = auth.change_password(
            session,
            user_id=user.id,
            current_password=body.current_password,
            new_password=body.new_password,
            now=utcnow(),
        )
    except auth.WrongCurrentPassword:
        session.commit()  # the failure counts towards the lockout even though the answer is an error
        raise
    return _token_out(changed)


@router.get(
    "/api/v1/me", response_model=UserOut, tags=["auth"], summary="The signed-in user", responses=errors(401)
)
def me(user: User = auth.allow(*auth.ALL_STAFF)) -> User:
    return user


@router.get(
    "/api/v1/users",
    response_model=list[UserOut],
    tags=["admin"],
    summary="List staff users",
    responses=errors(401, 403),
)
def list_users(session: Session = db_session, _: User = auth.allow("admin")) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


@router.post(
    "/api/v1/users",
    response_model=UserOut,
    status_code=201,
    tags=["admin"],
    summary="Create a staff user",
    responses=errors(400, 401, 403, 409, 422),
)
def create_user(body: UserIn, session: Session = db_session, actor: User = auth.allow("admin")) -> User:
    return auth.create_user(
        session,
        actor=audit.Actor.of(actor),
        username=body.username,
        password=body.password,
        role=body.role,
        display_name=body.display_name,
    )


@router.patch(
    "/api/v1/users/{user_id}",
    response_model=UserOut,
    tags=["admin"],
    summary="Change a staff user's role, status or name",
    responses=errors(400, 401, 403, 404, 422),
)
def update_user(
    user_id: Id, body: UserPatch, session: Session = db_session, actor: User = auth.allow("admin")
) -> User:
    return auth.update_user(
        session,
        actor=audit.Actor.of(actor),
        user_id=user_id,
        role=body.role,
        active=body.active,
        display_name=body.display_name,
    )


@router.post(
    "/api/v1/users/{user_id}/unlock",
    response_model=UserOut,
    tags=["admin"],
    summary="Lift a sign-in lock and clear the failure count",
    responses=errors(401, 403, 404, 422),
)
def unlock_user(user_id: Id, session: Session = db_session, actor: User = auth.allow("admin")) -> User:
    return auth.unlock_user(session, actor=audit.Actor.of(actor), user_id=user_id)


@router.post(
    "/api/v1/users/{user_id}/password",
    response_model=UserOut,
    tags=["admin"],
    summary="Set a new password for a staff account (revokes its tokens, lifts any lock)",
    responses=errors(400, 401, 403, 404, 422),
)
def reset_password(
    user_id: Id, body: PasswordResetIn, session: Session = db_session, actor: User = auth.allow("admin")
) -> User:
    return auth.reset_password(
        session, actor=audit.Actor.of(actor), user_id=user_id, new_password=body.new_password
    )


@router.get(
    "/api/v1/audit",
    response_model=list[AuditOut],
    tags=["audit"],
    summary="Search the audit trail",
    responses=errors(401, 403, 422),
)
def audit_log(
    session: Session = db_session,
    _: User = auth.allow("compliance"),
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    offset: Offset = 0,
) -> list[audit.AuditEntry]:
    return audit.query(
        session,
        entity_type=entity_type,
        entity_id=entity_id,
        actor_name=actor,
        action=action,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
