"""Request and response models of the core API (sign-in, users, audit, health)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: str


# The length policy itself (minimum from the policy file) is checked by core.auth.
Password = Annotated[str, Field(min_length=1, max_length=256)]


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    password: Password
    role: str
    display_name: str | None = Field(default=None, max_length=64)


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str | None = None
    active: bool | None = None
    display_name: str | None = Field(default=None, max_length=64)


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: Password
    new_password: Password


class PasswordResetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    new_password: Password


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str
    role: str
    active: bool
    locked_until: datetime | None = None


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    actor_name: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class HealthOut(BaseModel):
    status: str
    version: str
    database: str


class ErrorOut(BaseModel):
    """Every error answer: a stable code and the message in Chinese and English."""

    code: str
    message_zh: str
    message_en: str
    details: Any = None


_ERROR_MEANINGS = {
    400: "Bad request",
    401: "Not signed in, wrong credentials, or the token expired or was revoked",
    403: "Role not allowed, or the CSRF check failed",
    404: "Not found",
    409: "Conflict with the current state",
    422: "Invalid input",
    429: "Too many attempts; try again later",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the error statuses it can answer, each with the error body."""
    return {status: {"model": ErrorOut, "description": _ERROR_MEANINGS[status]} for status in statuses}
