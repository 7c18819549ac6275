"""Errors a user can cause, each with a status and a message in Chinese and English."""

from __future__ import annotations

from typing import Any


class LendDeskError(Exception):
    """Base of every error that reaches a user. Subclasses fix the HTTP status."""

    status_code = 400
    default_code = "bad_request"

    def __init__(
        self,
        message_zh: str,
        message_en: str,
        *,
        code: str | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message_en)
        self.code = code or self.default_code
        self.message_zh = message_zh
        self.message_en = message_en
        self.details = details

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.code,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


class BadRequest(LendDeskError):
    status_code = 400
    default_code = "bad_request"


class Unauthenticated(LendDeskError):
    status_code = 401
    default_code = "unauthenticated"


class Forbidden(LendDeskError):
    status_code = 403
    default_code = "forbidden"


class NotFound(LendDeskError):
    status_code = 404
    default_code = "not_found"


class Conflict(LendDeskError):
    status_code = 409
    default_code = "conflict"


class Unprocessable(LendDeskError):
    status_code = 422
    default_code = "unprocessable"


class ConfigurationError(Exception):
    """A bad setting or policy file: stops start-up with a message naming the key."""
