"""Business policy: one TOML file with documented defaults (see docs/POLICY.md).

Every section is a strict Pydantic model, so an unknown or mistyped key stops start-up with a
message that names it. Rooms own their section class here; the rules that use them stay in
the rooms.
"""

from __future__ import annotations

import tomllib
from datetime import date
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lenddesk.core.errors import ConfigurationError


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MoneyPolicy(Section):
    rounding: Literal["half_up", "half_even"] = "half_up"


class AuthPolicy(Section):
    token_minutes: int = Field(default=480, ge=5, le=7 * 24 * 60)
    lockout_attempts: int = Field(default=5, ge=1, le=100)
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    password_min_length: int = Field(default=8, ge=6)


class CalendarPolicy(Section):
    """Extra statutory days for years the chinese-calendar package does not know yet.

    When the State Council publishes next year's schedule before the package does, operations
    enter it here; a date in a year known to neither is an error, never a guess.
    """

    extra_holidays: list[date] = Field(default_factory=list)
    extra_workdays: list[date] = Field(default_factory=list)
    extra_known_years: list[int] = Field(default_factory=list)


class LedgerPolicy(Section):
    """Loan ledger rules (owned by the ledger room)."""

    # -- Close of business and delinquency (docs/LEDGER.md "Close of business") --
    # Upper days-past-due bound of each bucket M1, M2, …: [30, 60, 90] gives M0 (current),
    # M1 1–30, M2 31–60, M3 61–90 and M4+ beyond.
    bucket_upper_bounds: list[int] = Field(default_factory=lambda: [30, 60, 90, 120, 150, 180])
    # A loan more than this many days past due is written off by the close of business.
    write_off_after_days: int = Field(default=180, ge=1)
    # What the daily penalty interest (罚息) is charged on: the overdue principal only, or the
    # overdue principal and interest (复利, compound).
    penalty_base: Literal["principal", "principal_and_interest"] = "principal"
    # Loan ids per close-of-business chunk; each chunk is one transaction.
    cob_chunk_size: int = Field(default=50_000, ge=100)

    @field_validator("bucket_upper_bounds")
    @classmethod
    def _bounds_increase(cls, bounds: list[int]) -> list[int]:
        if not bounds or bounds[0] < 1 or any(b <= a for a, b in pairwise(bounds)):
            raise ValueError(
                "bucket_upper_bounds must be positive and strictly increasing, e.g. [30, 60, 90]"
            )
        return bounds


class DeskPolicy(Section):
    """Service desk rules (owned by the desk room)."""


class Policy(Section):
    money: MoneyPolicy = MoneyPolicy()
    auth: AuthPolicy = AuthPolicy()
    calendar: CalendarPolicy = CalendarPolicy()
    ledger: LedgerPolicy = LedgerPolicy()
    desk: DeskPolicy = DeskPolicy()


def load_policy(path: Path | None) -> Policy:
    """Read and validate a policy file; None gives the defaults."""
    if path is None:
        return Policy()
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigurationError(f"policy file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"policy file {path} is not valid TOML: {exc}") from exc
    try:
        return Policy.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise ConfigurationError(f"bad policy file {path}: {problems}") from exc


@lru_cache
def get_policy() -> Policy:
    from lenddesk.core.settings import get_settings

    return load_policy(get_settings().policy_file)
