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

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

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


class CollectionStep(Section):
    """One step of a strategy's cadence (docs/COLLECTIONS.md "Strategies").

    `day` is relative to the due date before it (-3: three days before) and days past due after it
    (1: the first overdue day); `every` repeats the step every n days up to `until_day`.
    `automated` steps become outbox messages; the others go to a collector's worklist.
    """

    name: str = Field(min_length=1, max_length=32)
    day: int = Field(ge=-30, le=400)
    until_day: int | None = Field(default=None, ge=-30, le=400)
    every: int | None = Field(default=None, ge=1, le=60)
    channel: Literal["sms", "app", "email", "robocall", "call_script"]
    automated: bool = True
    script: str | None = Field(default=None, max_length=32)
    segments: list[Literal["low", "medium", "high"]] = Field(
        default_factory=lambda: ["low", "medium", "high"]
    )
    skip_auto_debit: bool = False  # auto-debit borrowers get fewer pre-due reminders


def _default_steps() -> list[CollectionStep]:
    return [
        CollectionStep(
            name="pre_due_3_sms", day=-3, channel="sms", script="pre_due_sms", skip_auto_debit=True
        ),
        CollectionStep(name="pre_due_1_app", day=-1, channel="app", script="pre_due_app"),
        CollectionStep(name="due_day_notice", day=0, channel="sms", script="due_day_sms"),
        CollectionStep(name="m1_day1_sms", day=1, channel="sms", script="m1_sms"),
        CollectionStep(name="m1_day3_robocall", day=3, channel="robocall", script="m1_robocall"),
        CollectionStep(
            name="m1_agent_call", day=5, until_day=30, every=3, channel="call_script", automated=False
        ),
        CollectionStep(
            name="m2_agent_call", day=31, until_day=60, every=2, channel="call_script", automated=False
        ),
        CollectionStep(name="m2_email", day=35, until_day=60, every=10, channel="email", script="m2_email"),
        CollectionStep(
            name="m3_specialist", day=61, until_day=400, every=5, channel="call_script", automated=False
        ),
        CollectionStep(
            name="m3_formal_notice", day=61, until_day=400, every=30, channel="email", script="formal_notice"
        ),
    ]


class CollectionStrategy(Section):
    name: str = Field(min_length=1, max_length=32)
    steps: list[CollectionStep] = Field(default_factory=_default_steps)


class CollectionsPolicy(Section):
    """Reminders and collection (owned by the collections room; docs/POLICY.md under [collections])."""

    # Borrower-local contact window [start, end) — stricter than the industry's 22:00 line.
    window_start: str = Field(default="08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    window_end: str = Field(default="21:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    # Outbound contacts per borrower, all channels and teams together (borrower-initiated ones excluded).
    daily_cap: int = Field(default=3, ge=1, le=20)
    rolling_7d_cap: int = Field(default=7, ge=1, le=100)
    # When automated messages of the contact day are released (borrower-local), unless the borrower
    # prefers another time inside the window.
    send_at: str = Field(default="09:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    strategies: list[CollectionStrategy] = Field(
        default_factory=lambda: [
            CollectionStrategy(name="standard"),
            CollectionStrategy(
                name="early_agent",
                steps=[
                    *[s for s in _default_steps() if s.name != "m1_agent_call"],
                    CollectionStep(
                        name="m1_agent_call",
                        day=2,
                        until_day=30,
                        every=2,
                        channel="call_script",
                        automated=False,
                    ),
                ],
            ),
        ]
    )
    champion: str = "standard"
    challenger: str | None = "early_agent"
    # Share of accounts (0–100 %) drawn at random, once, into the challenger arm.
    challenger_percent: int = Field(default=20, ge=0, le=100)
    # Collectors cover buckets; a collector without an entry covers every bucket.
    collector_buckets: dict[str, list[str]] = Field(default_factory=dict)
    collector_capacity: int = Field(default=60, ge=1, le=10_000)
    lender_name: str = Field(default="LendDesk 消费金融", max_length=40)
    hotline: str = Field(default="400-000-0000", max_length=20)
    repayment_channels: str = Field(
        default="银行转账、手机银行、微信支付或支付宝（请备注合同号）", max_length=120
    )

    @field_validator("strategies")
    @classmethod
    def _unique_strategies(cls, value: list[CollectionStrategy]) -> list[CollectionStrategy]:
        names = [s.name for s in value]
        if not names or len(set(names)) != len(names):
            raise ValueError("strategies need at least one, with distinct names")
        return value

    @model_validator(mode="after")
    def _arms_name_strategies(self) -> CollectionsPolicy:
        names = {strategy.name for strategy in self.strategies}
        for arm in (self.champion, self.challenger):
            if arm is not None and arm not in names:
                raise ValueError(f"champion/challenger {arm!r} is not one of the strategies {sorted(names)}")
        if self.window_start >= self.window_end:
            raise ValueError("window_start must be before window_end")
        for strategy in self.strategies:
            for step in strategy.steps:
                if (step.every is None) != (step.until_day is None) or (
                    step.until_day or step.day
                ) < step.day:
                    raise ValueError(f"step {step.name}: every and until_day go together, until_day >= day")
        return self


class Policy(Section):
    money: MoneyPolicy = MoneyPolicy()
    auth: AuthPolicy = AuthPolicy()
    calendar: CalendarPolicy = CalendarPolicy()
    ledger: LedgerPolicy = LedgerPolicy()
    desk: DeskPolicy = DeskPolicy()
    collections: CollectionsPolicy = CollectionsPolicy()


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
