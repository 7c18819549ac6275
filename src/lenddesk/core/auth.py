"""Sign-in, tokens and role checks.

Staff sign in with a password (argon2 hashes). The API takes a signed bearer token (OAuth2
password flow); the console keeps the same token in an HttpOnly cookie. Every route declares who
may call it with `allow(...)` or `public(...)`; a test walks the app and fails on any route that
declares neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.db import utcnow
from lenddesk.core.errors import Conflict, Forbidden, Unauthenticated, Unprocessable
from lenddesk.core.http import db_session
from lenddesk.core.models import ROLES, User
from lenddesk.core.policy import get_policy
from lenddesk.core.settings import get_settings

SESSION_COOKIE = "lenddesk_session"
_hasher = PasswordHasher()
ROLE_LABELS_ZH = {
    "agent": "客服专员",
    "collector": "贷后专员",
    "team_lead": "组长",
    "qa": "质检员",
    "compliance": "合规专员",
    "admin": "管理员",
}


# --- passwords and users -------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_role(role: str) -> str:
    if role not in ROLES:
        raise Unprocessable(
            f"未知角色：{role}（可选：{', '.join(ROLES)}）",
            f"Unknown role: {role} (one of: {', '.join(ROLES)})",
            code="unknown_role",
        )
    return role


def create_user(
    session: Session,
    *,
    actor: audit.Actor,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
) -> User:
    check_role(role)
    if len(password) < get_policy().auth.password_min_length:
        raise Unprocessable(
            f"密码至少需要 {get_policy().auth.password_min_length} 位",
            f"Password must be at least {get_policy().auth.password_min_length} characters",
            code="password_too_short",
        )
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"用户名已存在：{username}", f"Username already exists: {username}")
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", ("user", user.id), None, {"username": username, "role": role})
    return user


def update_user(
    session: Session,
    *,
    actor: audit.Actor,
    user_id: int,
    role: str | None = None,
    active: bool | None = None,
    display_name: str | None = None,
) -> User:
    user = session.get(User, user_id)
    if user is None:
        from lenddesk.core.errors import NotFound

        raise NotFound(f"用户不存在：{user_id}", f"No such user: {user_id}")
    before = {"role": user.role, "active": user.active, "display_name": user.display_name}
    if role is not None:
        user.role = check_role(role)
    if active is not None:
        user.active = active
    if display_name is not None:
        user.display_name = display_name
    after = {"role": user.role, "active": user.active, "display_name": user.display_name}
    audit.record(session, actor, "user.update", ("user", user.id), before, after)
    return user


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    reason: str = ""


def sign_in(session: Session, *, username: str, password: str, now: datetime) -> SignInResult:
    """Check a password, counting failures and locking the account after too many.

    The caller commits the outcome even when sign-in fails, so that failures are counted.
    """
    policy = get_policy().auth
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        return SignInResult(None, "bad_credentials")
    if user.locked_until is not None and user.locked_until > now:
        return SignInResult(None, "locked")
    if not verify_password(user.password_hash, password):
        user.failed_attempts += 1
        action = "auth.sign_in_failed"
        if user.failed_attempts >= policy.lockout_attempts:
            user.locked_until = now + timedelta(minutes=policy.lockout_minutes)
            user.failed_attempts = 0
            action = "auth.locked"
        audit.record(session, audit.Actor.of(user), action, ("user", user.id))
        return SignInResult(None, "locked" if action == "auth.locked" else "bad_credentials")
    user.failed_attempts = 0
    user.locked_until = None
    audit.record(session, audit.Actor.of(user), "auth.sign_in", ("user", user.id))
    return SignInResult(user)


def sign_in_error(reason: str) -> Unauthenticated:
    if reason == "locked":
        minutes = get_policy().auth.lockout_minutes
        return Unauthenticated(
            f"登录失败次数过多，账号已锁定 {minutes} 分钟",
            f"Too many failed sign-ins; the account is locked for {minutes} minutes",
            code="account_locked",
        )
    return Unauthenticated("用户名或密码错误", "Wrong username or password", code="bad_credentials")


# --- tokens --------------------------------------------------------------------------------


def issue_token(user: User, *, now: datetime | None = None, minutes: int | None = None) -> str:
    now = now or utcnow()
    lifetime = minutes if minutes is not None else get_policy().auth.token_minutes
    claims = {"sub": str(user.id), "role": user.role, "iat": now, "exp": now + timedelta(minutes=lifetime)}
    return jwt.encode(claims, get_settings().resolved_secret_key(), algorithm="HS256")


def decode_token(token: str) -> dict[str, Any]:
    try:
        return jwt.decode(token, get_settings().resolved_secret_key(), algorithms=["HS256"])
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated(
            "登录已过期，请重新登录", "The token has expired; sign in again", code="token_expired"
        ) from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated("登录凭证无效", "Invalid token", code="token_invalid") from exc


def _token_from(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(SESSION_COOKIE)


def current_user_or_none(request: Request, session: Session) -> User | None:
    token = _token_from(request)
    if not token:
        return None
    claims = decode_token(token)
    user = session.get(User, int(claims["sub"]))
    if user is None or not user.active:
        raise Unauthenticated("账号不存在或已停用", "The account does not exist or is disabled")
    return user


# --- route declarations -------------------------------------------------------------------


def require_roles(*roles: str) -> Callable[..., User]:
    """A dependency that admits signed-in users with one of `roles` (admins always)."""
    for role in roles:
        check_role(role)
    allowed = frozenset(roles) | {"admin"}

    def dependency(request: Request, session: Session = db_session) -> User:
        user = current_user_or_none(request, session)
        if user is None:
            raise Unauthenticated("请先登录", "Sign in first", code="not_signed_in")
        if user.role not in allowed:
            raise Forbidden(
                f"当前角色（{ROLE_LABELS_ZH[user.role]}）无权执行此操作",
                f"Role {user.role} may not do this",
                code="role_forbidden",
            )
        request.state.user = user
        # Give the connection back to the pool until the route runs: a request waiting for a worker
        # thread must not hold one, or threads waiting for the pool starve the requests holding it.
        session.commit()
        return user

    dependency.allowed_roles = allowed  # type: ignore[attr-defined]
    return dependency


def allow(*roles: str) -> Any:
    """`user: User = allow("agent", "team_lead")` — declare and enforce who may call a route."""
    return Depends(require_roles(*roles))


ALL_STAFF = ROLES


def public_route() -> None:
    """Marks a route as deliberately open (sign-in, health, public calculator)."""


public_route.is_public = True  # type: ignore[attr-defined]


def public() -> Any:
    return Depends(public_route)
