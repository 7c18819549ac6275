"""Request and response models of the core API (sign-in, users, audit, health) and the error body."""

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
    badge: str | None = None
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
    """The body of every error answer of the API (`core.errors.LendDeskError.to_body`)."""

    code: str = Field(description="Stable machine-readable code, e.g. ticket_not_found")
    message_zh: str = Field(description="Message for the user, in Chinese")
    message_en: str = Field(description="The same message in English")
    details: Any = Field(
        default=None, description="Optional facts behind the error: the invalid fields of a 422, a limit …"
    )
