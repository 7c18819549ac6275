"""Sign-in, tokens and role checks.

Staff sign in with a password (argon2 hashes). The API takes a signed bearer token (OAuth2
password flow); the console keeps the same token in an HttpOnly cookie. Every route declares who
may call it with `allow(...)` or `public(...)`; a test walks the app and fails on any route that
declares neither.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.orm import Session

from lenddesk.core import audit, sqlite_gate, throttle
from lenddesk.core.db import utcnow
from lenddesk.core.errors import (
    Conflict,
    Forbidden,
    LendDeskError,
    NotFound,
    Unauthenticated,
    Unprocessable,
)
from lenddesk.core.http import db_session
from lenddesk.core.models import User
from lenddesk.core.policy import get_policy
from lenddesk.core.roles import ROLES
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

PASSWORD_MAX_LENGTH = 256  # argon2 takes any length; a bound keeps hashing cheap for everyone


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError, UnicodeEncodeError):
        return False


# Checked against unknown usernames so that they take as long to refuse as a wrong password.
_UNKNOWN_USER_HASH = _hasher.hash(secrets.token_urlsafe(16))


def check_new_password(password: str, *, username: str) -> str:
    """The password policy: long enough, not absurdly long, not the username, valid text."""
    minimum = get_policy().auth.password_min_length
    if len(password) < minimum:
        raise Unprocessable(
            f"密码至少需要 {minimum} 位",
            f"Password must be at least {minimum} characters",
            code="password_too_short",
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise Unprocessable(
            f"密码最多 {PASSWORD_MAX_LENGTH} 位",
            f"Password must be at most {PASSWORD_MAX_LENGTH} characters",
            code="password_too_long",
        )
    if password.casefold() == username.casefold():
        raise Unprocessable(
            "密码不能与用户名相同", "Password must differ from the username", code="password_weak"
        )
    try:
        password.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise Unprocessable(
            "密码含有无效字符", "Password contains invalid characters", code="password_invalid"
        ) from exc
    return password


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
    check_new_password(password, username=username)
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
    user.badge = badge_for(user.id)
    audit.record(
        session,
        actor,
        "user.create",
        ("user", user.id),
        None,
        {"username": username, "role": role, "badge": user.badge},
    )
    return user


def badge_for(user_id: int) -> str:
    """The staff number (工号) a user is given: public, printed on their card, unrelated to the
    sign-in name (migration 0010 gave existing users the same)."""
    return f"LD{user_id:06d}"


def _no_such_user(user_id: int) -> NotFound:
    return NotFound(f"用户不存在：{user_id}", f"No such user: {user_id}", code="user_not_found")


def lock_user(session: Session, user_id: int) -> User | None:
    """Lock a user's row for this transaction and read it afresh (sign-in state is an aggregate).

    PostgreSQL: SELECT … FOR UPDATE. SQLite: the database's write gate, taken before the read.
    """
    connection = session.connection().connection.dbapi_connection
    if isinstance(connection, sqlite_gate.GatedConnection):
        connection.acquire_gate()
    return session.scalar(
        select(User).where(User.id == user_id).with_for_update().execution_options(populate_existing=True)
    )


def update_user(
    session: Session,
    *,
    actor: audit.Actor,
    user_id: int,
    role: str | None = None,
    active: bool | None = None,
    display_name: str | None = None,
) -> User:
    user = lock_user(session, user_id)
    if user is None:
        raise _no_such_user(user_id)
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


def _revoke_tokens(session: Session, user: User) -> None:
    session.execute(update(User).where(User.id == user.id).values(token_version=User.token_version + 1))
    session.refresh(user, ["token_version"])


def unlock_user(session: Session, *, actor: audit.Actor, user_id: int) -> User:
    """An admin lifts a lock and clears the failure count (and with it the back-off)."""
    user = lock_user(session, user_id)
    if user is None:
        raise _no_such_user(user_id)
    before = {"failed_attempts": user.failed_attempts, "locked_until": user.locked_until}
    user.failed_attempts, user.locked_until = 0, None
    audit.record(session, actor, "user.unlock", ("user", user.id), before, {"failed_attempts": 0})
    return user


def reset_password(session: Session, *, actor: audit.Actor, user_id: int, new_password: str) -> User:
    """An admin sets a new password: the user's tokens are revoked and any lock is lifted."""
    user = lock_user(session, user_id)
    if user is None:
        raise _no_such_user(user_id)
    check_new_password(new_password, username=user.username)
    user.password_hash = hash_password(new_password)
    user.failed_attempts, user.locked_until = 0, None
    _revoke_tokens(session, user)
    audit.record(session, actor, "user.password_reset", ("user", user.id))
    return user


class WrongCurrentPassword(Forbidden):
    """The caller commits before answering with it: the failure counts towards the lockout."""

    default_code = "wrong_current_password"


def change_password(
    session: Session, *, user_id: int, current_password: str, new_password: str, now: datetime
) -> User:
    """The signed-in user changes their own password, proving the current one.

    A wrong current password counts as a failed sign-in (a stolen session must not become a
    guessing oracle); success revokes every token issued so far.
    """
    user = session.get(User, user_id)
    if user is None:
        raise _no_such_user(user_id)
    check_new_password(new_password, username=user.username)
    current_ok = verify_password(user.password_hash, current_password)
    user = lock_user(session, user_id)
    assert user is not None
    if not current_ok:
        _count_failure(session, user, now)
        raise WrongCurrentPassword("当前密码不正确", "The current password is wrong")
    if verify_password(user.password_hash, new_password):
        raise Unprocessable(
            "新密码不能与当前密码相同", "The new password must differ", code="password_unchanged"
        )
    user.password_hash = hash_password(new_password)
    _revoke_tokens(session, user)
    audit.record(session, audit.Actor.of(user), "auth.password_changed", ("user", user.id))
    return user


# --- signing in ----------------------------------------------------------------------------


class TooManySignIns(LendDeskError):
    status_code = 429
    default_code = "too_many_sign_ins"


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    reason: str = ""  # bad_credentials, locked, throttled
    locked_until: datetime | None = None


def lockout_minutes(failed_attempts: int) -> int:
    """How long the lock set by this failure lasts: doubling with each failure beyond the limit.

    The count is not reset when a lock ends, so after the first lock every wrong password locks
    again, each time twice as long (15, 30, 60 … minutes, capped by `lockout_max_minutes`).
    """
    policy = get_policy().auth
    beyond = max(failed_attempts - policy.lockout_attempts, 0)
    return min(policy.lockout_minutes * 2 ** min(beyond, 20), policy.lockout_max_minutes)


def _count_failure(session: Session, user: User, now: datetime, address: str = "") -> SignInResult:
    """Add one failure in SQL (the row is locked) and lock the account once past the limit."""
    failures = session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_attempts=User.failed_attempts + 1)
        .returning(User.failed_attempts)
    ).scalar_one()
    session.refresh(user, ["failed_attempts"])
    if failures < get_policy().auth.lockout_attempts:
        audit.record(
            session,
            audit.Actor.of(user),
            "auth.sign_in_failed",
            ("user", user.id),
            None,
            {"failed_attempts": failures, "address": address},
        )
        return SignInResult(None, "bad_credentials")
    minutes = lockout_minutes(failures)
    user.locked_until = now + timedelta(minutes=minutes)
    audit.record(
        session,
        audit.Actor.of(user),
        "auth.locked",
        ("user", user.id),
        None,
        {
            "failed_attempts": failures,
            "locked_minutes": minutes,
            "locked_until": user.locked_until,
            "address": address,
        },
    )
    return SignInResult(None, "locked", user.locked_until)


def _refuse(
    session: Session, result: SignInResult, *, username: str, address: str, user: User | None
) -> SignInResult:
    actor = audit.Actor.of(user) if user is not None else audit.Actor.system("sign-in")
    entity = ("user", user.id) if user is not None else ("username", username[:64])
    audit.record(session, actor, f"auth.refused_{result.reason}", entity, None, {"address": address})
    return result


def _throttle() -> throttle.Throttle:
    return throttle.throttle_for(get_settings().redis_url, get_policy().auth.throttle_minutes)


def sign_in(session: Session, *, username: str, password: str, address: str, now: datetime) -> SignInResult:
    """Check a password from a client address, counting failures and locking the account.

    The password is checked (argon2, slow) before the first write, so no lock is held meanwhile;
    then the address's throttle counter is bumped and the user's row locked, and the decision is
    taken on what the row says now. The caller commits the outcome even when sign-in fails.
    """
    policy = get_policy().auth
    address = (address or "unknown")[:64]
    window = throttle.Window.at(now, policy.throttle_minutes)
    counter = _throttle()
    user = session.scalar(select(User).where(User.username == username))
    if user is not None and not user.active:
        user = None
    if counter.estimate(session, address, window) >= policy.throttle_attempts:
        return _refuse(
            session, SignInResult(None, "throttled"), username=username, address=address, user=user
        )
    if user is not None and user.locked_until is not None and user.locked_until > now:
        counter.hit(session, address, window)
        verify_password(user.password_hash, password)  # as long as any other answer takes
        result = SignInResult(None, "locked", user.locked_until)
        return _refuse(session, result, username=username, address=address, user=user)
    password_ok = verify_password(user.password_hash if user else _UNKNOWN_USER_HASH, password)
    if counter.hit(session, address, window) > policy.throttle_attempts:
        return _refuse(
            session, SignInResult(None, "throttled"), username=username, address=address, user=user
        )
    if user is None:
        return _refuse(
            session, SignInResult(None, "bad_credentials"), username=username, address=address, user=None
        )
    user = lock_user(session, user.id)
    assert user is not None
    if user.locked_until is not None and user.locked_until > now:
        result = SignInResult(None, "locked", user.locked_until)
        return _refuse(session, result, username=username, address=address, user=user)
    if not password_ok:
        return _count_failure(session, user, now, address)
    counter.release(session, address, window)
    user.failed_attempts, user.locked_until = 0, None
    audit.record(session, audit.Actor.of(user), "auth.sign_in", ("user", user.id), None, {"address": address})
    return SignInResult(user)


def sign_in_error(result: SignInResult, now: datetime) -> LendDeskError:
    """What the client is told. A locked account, an unknown name and a wrong password read alike
    (the audit trail keeps them apart), so no answer confirms that a sign-in name exists."""
    if result.reason == "throttled":
        return TooManySignIns(
            "此地址登录失败次数过多，请稍后再试",
            "Too many failed sign-ins from this address; try again later",
        )
    return Unauthenticated(
        "用户名或密码错误，或账号暂时无法登录；多次失败请联系管理员",
        "Wrong username or password, or the account cannot sign in now; ask an administrator "
        "after repeated failures",
        code="bad_credentials",
    )


def sign_out(session: Session, *, user: User) -> None:
    """Revoke every token of the user (all devices): each token names the version it was issued under."""
    _revoke_tokens(session, user)
    audit.record(session, audit.Actor.of(user), "auth.sign_out", ("user", user.id))


# --- tokens --------------------------------------------------------------------------------


def issue_token(user: User, *, now: datetime | None = None, minutes: int | None = None) -> str:
    now = now or utcnow()
    lifetime = minutes if minutes is not None else get_policy().auth.token_minutes
    claims = {
        "sub": str(user.id),
        "role": user.role,
        "ver": user.token_version,
        "iat": now,
        "exp": now + timedelta(minutes=lifetime),
        "jti": secrets.token_urlsafe(12),  # two sign-ins in one second are still two sessions
    }
    return jwt.encode(claims, get_settings().resolved_secret_key(), algorithm="HS256")


def decode_token(token: str) -> dict[str, Any]:
    try:
        claims = _verified_claims(token, get_settings().resolved_secret_key())
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise Unauthenticated("登录凭证无效", "Invalid token", code="token_invalid") from exc
    if claims["exp"] <= time.time():  # as PyJWT judges it: expired at the second it names
        raise Unauthenticated(
            "登录已过期，请重新登录", "The token has expired; sign in again", code="token_expired"
        )
    return dict(claims)


@lru_cache(maxsize=4096)
def _verified_claims(token: str, key: str) -> dict[str, Any]:
    """The token's claims once its signature is checked. Every request of a session carries the same
    token, and checking it again cost a quarter of a millisecond a request (a posting takes two);
    only the expiry changes with time, so `decode_token` judges that on every call. Failures are not
    cached: an exception leaves no entry."""
    claims = jwt.decode(
        token, key, algorithms=["HS256"], options={"require": ["sub", "exp"], "verify_exp": False}
    )
    int(claims["sub"])
    if not isinstance(claims["exp"], int | float):
        raise jwt.InvalidTokenError("exp is not a number")
    return claims


def token_from(request: Request) -> tuple[str | None, bool]:
    """The request's token and whether it came from the session cookie (not a Bearer header)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip(), False
    return request.cookies.get(SESSION_COOKIE), True


def current_user_or_none(request: Request, session: Session) -> User | None:
    claims = _claims_of(request)
    if claims is None:
        return None
    user = session.get(User, int(claims["sub"]))
    _check_account(user, claims)
    return user


def _claims_of(request: Request) -> dict[str, Any] | None:
    """The claims of the request's token (401 when it is not valid), or None without a token."""
    token, _ = token_from(request)
    return decode_token(token) if token else None


def _check_account(user: User | Row[Any] | None, claims: dict[str, Any]) -> None:
    """401 unless the token's account exists, is active and has not revoked the token since."""
    if user is None or not user.active:
        raise Unauthenticated("账号不存在或已停用", "The account does not exist or is disabled")
    if claims.get("ver") != user.token_version:
        raise Unauthenticated(
            "登录已失效（已退出或已改密码），请重新登录",
            "The token was revoked (signed out or password changed); sign in again",
            code="token_revoked",
        )


# --- cross-site request forgery ------------------------------------------------------------


def csrf_token_for(session_token: str) -> str:
    """The CSRF token of a console session: an HMAC of its cookie, so it changes at each sign-in."""
    key = get_settings().resolved_secret_key().encode()
    digest = hmac.new(key, b"csrf:" + session_token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# --- route declarations -------------------------------------------------------------------


def _allowed(roles: tuple[str, ...]) -> frozenset[str]:
    for role in roles:
        check_role(role)
    return frozenset(roles) | {"admin"}


def _signed_in_as(request: Request, session: Session, allowed: frozenset[str]) -> User:
    """The signed-in user if their role is `allowed`; 401 or 403 otherwise."""
    user = current_user_or_none(request, session)
    if user is None:
        raise _not_signed_in()
    _check_role(user.role, allowed)
    request.state.user = user
    return user


def _not_signed_in() -> Unauthenticated:
    return Unauthenticated("请先登录", "Sign in first", code="not_signed_in")


def _check_role(role: str | None, allowed: frozenset[str]) -> None:
    if role not in allowed:
        raise Forbidden(
            f"当前角色（{ROLE_LABELS_ZH.get(role or '', role)}）无权执行此操作",
            f"Role {role} may not do this",
            code="role_forbidden",
        )


def require_roles(*roles: str) -> Callable[..., User]:
    """A dependency that admits signed-in users with one of `roles` (admins always)."""
    allowed = _allowed(roles)

    def dependency(request: Request, session: Session = db_session) -> User:
        user = _signed_in_as(request, session, allowed)
        # Give the connection back to the pool until the route runs: a request waiting for a worker
        # thread must not hold one, or threads waiting for the pool starve the requests holding it.
        session.commit()
        return user

    dependency.allowed_roles = allowed  # type: ignore[attr-defined]
    return dependency


def allow(*roles: str) -> Any:
    """`user: User = allow("agent", "team_lead")` — declare and enforce who may call a route."""
    return Depends(require_roles(*roles))


def allow_for_own_transaction(*roles: str) -> Any:
    """`signed_in: SignedIn = allow_for_own_transaction("agent")` — `allow` for an async route that
    runs its whole transaction on a session of its own, in one trip to a worker thread (a hot write
    path). The token is checked here, on the event loop, before the body is validated: 401 without
    a valid one, 403 when the role it was signed in with may not act. The account behind it (active,
    not signed out since, its role as stored allowed: 401 or 403) is checked by `SignedIn.caller`
    on the route's own session, first thing in its trip; a check of its own would cost a second
    trip and a second session per request."""
    allowed = _allowed(roles)

    async def dependency(request: Request) -> SignedIn:
        claims = _claims_of(request)
        if claims is None:
            raise _not_signed_in()
        _check_role(claims.get("role"), allowed)  # the role it was signed in with; as stored, below
        return SignedIn(claims, allowed)

    dependency.allowed_roles = allowed  # type: ignore[attr-defined]
    return Depends(dependency)


# What the checks read of the caller; built once (an ORM load of the whole user costs more than the
# statement on a route that does nothing else with the user).
_CALLER = select(
    *(User.__table__.c[name] for name in ("id", "username", "role", "active", "token_version"))
).where(User.__table__.c.id == bindparam("user_id"))


@dataclass(frozen=True)
class SignedIn:
    """A request's valid token, and the roles its route admits (`allow_for_own_transaction`)."""

    claims: dict[str, Any]
    allowed: frozenset[str]

    def caller(self, session: Session) -> audit.Actor:
        """The account behind the token, read on `session` before anything else (on SQLite before
        the write gate is taken: a refused caller never holds it); 401 or 403 unless it may act."""
        caller = session.connection().execute(_CALLER, {"user_id": int(self.claims["sub"])}).first()
        _check_account(caller, self.claims)
        assert caller is not None
        _check_role(caller.role, self.allowed)
        return audit.Actor(user_id=caller.id, name=caller.username, role=caller.role)


@dataclass(frozen=True)
class ChannelCaller:
    """Who posts as a channel: an adapter with its key (`integration` names it), or an admin."""

    actor: audit.Actor
    integration: str | None


async def channel_or_admin(request: Request) -> ChannelCaller:
    """A channel adapter with its key (X-LendDesk-Key, from settings.channel_keys), or an admin.

    Async and without a session dependency, so that a channel's request (the hot path) makes no trip
    to a worker thread here; only the admin's, which reads the database, goes to one.
    """
    key = request.headers.get("x-lenddesk-key")
    if key is None:
        admin = await run_in_threadpool(_signed_in_admin, request)
        return ChannelCaller(audit.Actor.of(admin), None)
    for name, expected in get_settings().channel_keys.items():
        if hmac.compare_digest(key.encode(), expected.encode()):
            return ChannelCaller(audit.Actor.system(f"channel:{name}"), name)
    raise Unauthenticated("渠道密钥无效", "Invalid channel key", code="bad_channel_key")


def _signed_in_admin(request: Request) -> User:
    with request.app.state.session_factory() as session:
        return _signed_in_as(request, session, frozenset({"admin"}))


channel_or_admin.allowed_roles = frozenset({"admin", "channel"})  # type: ignore[attr-defined]


ALL_STAFF = ROLES


async def public_route() -> None:
    """Marks a route as deliberately open (sign-in, health, public calculator)."""


public_route.is_public = True  # type: ignore[attr-defined]


def public() -> Any:
    return Depends(public_route)
