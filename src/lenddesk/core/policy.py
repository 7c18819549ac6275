"""Business policy: one TOML file with documented defaults (see docs/POLICY.md).

Every section is a strict Pydantic model, so an unknown or mistyped key stops start-up with a
message that names it. Rooms own their section class here; the rules that use them stay in
the rooms.
"""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lenddesk.core.calendar import WorkCalendar
from lenddesk.core.errors import ConfigurationError
from lenddesk.core.roles import ROLES
from lenddesk.core.settings import get_settings


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MoneyPolicy(Section):
    rounding: Literal["half_up", "half_even"] = "half_up"


class AuthPolicy(Section):
    token_minutes: int = Field(default=480, ge=5, le=7 * 24 * 60)
    lockout_attempts: int = Field(default=5, ge=1, le=100)
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    lockout_max_minutes: int = Field(default=24 * 60, ge=1, le=30 * 24 * 60)
    password_min_length: int = Field(default=10, ge=8, le=128)
    throttle_attempts: int = Field(default=20, ge=1, le=10_000)
    throttle_minutes: int = Field(default=15, ge=1, le=24 * 60)


class CalendarPolicy(Section):
    """Extra statutory days for years the chinese-calendar package does not know yet.

    When the State Council publishes next year's schedule before the package does, operations
    enter it here; a date in a year known to neither is an error, never a guess.
    """

    extra_holidays: list[date] = Field(default_factory=list)
    extra_workdays: list[date] = Field(default_factory=list)
    extra_known_years: list[int] = Field(default_factory=list)

    def work_calendar(self) -> WorkCalendar:
        return WorkCalendar(
            extra_holidays=frozenset(self.extra_holidays),
            extra_workdays=frozenset(self.extra_workdays),
            extra_known_years=frozenset(self.extra_known_years),
        )


class LedgerPolicy(Section):
    """Loan ledger rules (owned by the ledger room)."""

    # Repayments and disclosure (schedules, allocation, borrower 360).
    allocation_style: Literal["instalment", "component"] = "instalment"
    pii_full_roles: list[str] = Field(default_factory=lambda: ["compliance", "admin"])
    borrower_mobile_roles: list[str] = Field(
        default_factory=lambda: ["agent", "collector", "team_lead", "compliance", "admin"]
    )

    # Roles that open a borrower's 360 or loan only through a case of theirs (a ticket they own
    # linked to the borrower); every other reader sees every borrower. Every opening is audited.
    case_bound_roles: list[str] = Field(default_factory=lambda: ["agent", "collector"])
    # Who approves paying back a credit balance (a different person from the requester; and admin).
    refund_approver_roles: list[str] = Field(default_factory=lambda: ["team_lead"])
    # Waivers of penalty, late fee or interest up to this many fen apply on one person's word;
    # above it a second person of `waiver_approver_roles` (or admin) approves.
    waiver_single_approval_fen: int = Field(default=10_000, ge=0, le=2**63 - 1)
    waiver_approver_roles: list[str] = Field(default_factory=lambda: ["team_lead", "compliance"])

    @field_validator(
        "pii_full_roles",
        "borrower_mobile_roles",
        "case_bound_roles",
        "refund_approver_roles",
        "waiver_approver_roles",
    )
    @classmethod
    def _known_roles(cls, roles: list[str]) -> list[str]:
        unknown = sorted(set(roles) - set(ROLES))
        if unknown:
            raise ValueError(f"unknown roles {unknown}; roles are {', '.join(ROLES)}")
        return roles

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
    # The legal annual cost cap (综合融资成本上限): interest + penalties + every fee never exceed it
    # on the principal actually outstanding; products may cap lower, never higher.
    annual_cost_cap: Decimal = Field(default=Decimal("0.24"), gt=0, le=1)

    @field_validator("bucket_upper_bounds")
    @classmethod
    def _bounds_increase(cls, bounds: list[int]) -> list[int]:
        if not bounds or bounds[0] < 1 or any(b <= a for a, b in pairwise(bounds)):
            raise ValueError(
                "bucket_upper_bounds must be positive and strictly increasing, e.g. [30, 60, 90]"
            )
        return bounds


VerificationLevel = Literal["none", "basic", "strong"]


class DeskPolicy(Section):
    """Service desk rules (owned by the desk room; documented in docs/POLICY.md under [desk])."""

    channels: list[str] = Field(
        default_factory=lambda: ["phone", "chat", "email", "wechat", "sms", "web_form", "api"]
    )
    # Identity verification needed before amounts, dates or contract numbers are shown or sent.
    account_detail_level: VerificationLevel = "basic"
    knowledge_attempts: int = Field(default=3, ge=1, le=20)
    otp_minutes: int = Field(default=5, ge=1, le=60)
    otp_attempts: int = Field(default=5, ge=1, le=20)
    otp_length: int = Field(default=6, ge=4, le=10)
    verification_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    otp_interval_seconds: int = Field(default=60, ge=0, le=3600)
    otp_daily_per_ticket: int = Field(default=5, ge=1, le=50)
    otp_daily_per_phone: int = Field(default=5, ge=1, le=50)
    reopen_days: int = Field(default=7, ge=0, le=90)
    at_risk_ratio: float = Field(default=0.8, gt=0, lt=1)
    due_soon_minutes: int = Field(default=60, ge=1)
    # Fallback SLA targets in service minutes per severity: [first response, resolution].
    default_sla: dict[str, tuple[int, int]] = Field(
        default_factory=lambda: {"P1": (15, 240), "P2": (60, 480), "P3": (240, 1440), "P4": (480, 2880)}
    )
    consult_minutes: int = Field(default=480, ge=1)

    @field_validator("default_sla")
    @classmethod
    def _every_severity(cls, value: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
        if set(value) != {"P1", "P2", "P3", "P4"}:
            raise ValueError("default_sla needs exactly P1, P2, P3 and P4")
        if any(not 0 < first <= resolution for first, resolution in value.values()):
            raise ValueError("default_sla targets must be positive, first response <= resolution")
        return value

    complaint_ack_business_days: int = Field(default=1, ge=0)
    complaint_resolution_days: int = Field(default=15, ge=1)
    complaint_complex_days: int = Field(default=30, ge=1)
    complaint_senior_days: int = Field(default=60, ge=1)
    complaint_senior_roles: list[str] = Field(default_factory=lambda: ["team_lead", "compliance"])
    complaints_team: str = "complaints"
    default_agent_capacity: int = Field(default=20, ge=1)
    hotline: str = "400-000-0000"


class ChannelHoursPolicy(Section):
    """A channel's service hours in Shanghai time: workdays of the China calendar, or every day."""

    opens: str = Field(default="09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    closes: str = Field(default="18:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
    every_day: bool = False
    always_open: bool = False


class ChannelsPolicy(Section):
    """Channel adapters (owned by the channels room; documented in docs/POLICY.md under [channels])."""

    hours: dict[str, ChannelHoursPolicy] = Field(
        default_factory=lambda: {
            "email": ChannelHoursPolicy(opens="09:00", closes="18:00"),
            "web_form": ChannelHoursPolicy(opens="09:00", closes="18:00"),
            "wechat": ChannelHoursPolicy(opens="09:00", closes="21:00", every_day=True),
            "sms": ChannelHoursPolicy(opens="09:00", closes="21:00", every_day=True),
            "phone": ChannelHoursPolicy(opens="09:00", closes="21:00", every_day=True),
        }
    )
    out_of_hours_reply: str = (
        "您好，您的消息已收到（工单 {ticket_number}）。我们的人工服务时间为{hours}，"
        "客服将于 {next_opening} 起尽快回复您。如遇盗刷等紧急情况请拨打 {hotline}。"
    )
    webhook_window_seconds: int = Field(default=300, ge=30, le=3600)
    webhook_max_bytes: int = Field(default=256 * 1024, ge=1024, le=16 * 1024 * 1024)
    outbox_max_attempts: int = Field(default=8, ge=1, le=50)
    outbox_backoff_seconds: float = Field(default=30.0, gt=0, le=3600)
    outbox_backoff_cap_seconds: float = Field(default=3600.0, gt=0, le=86400)
    outbox_lease_seconds: float = Field(default=120.0, ge=5, le=3600)
    outbox_batch: int = Field(default=100, ge=1, le=1000)
    outbox_concurrency: int = Field(default=16, ge=1, le=256)  # messages in flight per worker
    email_attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024)
    email_attachment_types: list[str] = Field(
        default_factory=lambda: ["image/jpeg", "image/png", "image/gif", "application/pdf", "text/plain"]
    )
    email_poll_seconds: int = Field(default=60, ge=5, le=3600)
    contact_form_per_hour: int = Field(default=5, ge=1, le=1000)


class Policy(Section):
    money: MoneyPolicy = MoneyPolicy()
    auth: AuthPolicy = AuthPolicy()
    calendar: CalendarPolicy = CalendarPolicy()
    ledger: LedgerPolicy = LedgerPolicy()
    desk: DeskPolicy = DeskPolicy()
    channels: ChannelsPolicy = ChannelsPolicy()


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
    return load_policy(get_settings().policy_file)


def calendar_from_policy() -> WorkCalendar:
    """The working calendar with the policy's extra statutory days."""
    return get_policy().calendar.work_calendar()
