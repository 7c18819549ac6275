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
    # The largest body a public route with a JSON body reads (413 beyond, before it is parsed).
    public_json_max_bytes: int = Field(default=65_536, ge=1024, le=10_485_760)


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
    # The limit counts everything one person waived alone on one loan over this many days (today
    # included): what would pass it in total waits for a second person, like one large waiver.
    waiver_single_approval_window_days: int = Field(default=30, ge=1, le=3660)
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
    # Connections that close chunks, and run independent after-close steps, side by side on
    # PostgreSQL (SQLite has one writer: it always closes with one).
    cob_workers: int = Field(default=2, ge=1, le=16)
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
    # Failed knowledge checks across tickets, sessions and channels (desk/service/verification.py).
    identity_failures_per_borrower: int = Field(default=5, ge=1, le=100)
    identity_failures_per_phone: int = Field(default=5, ge=1, le=100)
    identity_failures_per_address: int = Field(default=10, ge=1, le=1000)
    identity_lock_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
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


class AuthorityLimits(Section):
    """What one level of the authority matrix may grant without a higher approver."""

    # A waiver (penalty, late fee, interest) within both limits: an amount, and a percent of what
    # is owed on the waived components.
    waiver_max_fen: int = Field(default=0, ge=0, le=2**63 - 1)
    waiver_max_percent: int = Field(default=0, ge=0, le=100)
    # An extension of at most this many months, while the loan has had fewer than `extensions` before.
    extension_months: int = Field(default=0, ge=0, le=36)
    extensions: int = Field(default=0, ge=0, le=12)
    # A re-instalment over at most this many months (0: never alone).
    reinstalment_months: int = Field(default=0, ge=0, le=360)
    interest_suspension: bool = False


class NegotiationPolicy(Section):
    """Hardship negotiation (owned by the negotiation room; docs/NEGOTIATION.md, docs/POLICY.md)."""

    # Extensions (展期): the choices offered, how many a loan may ever get, and their interest.
    extension_month_choices: list[int] = Field(default_factory=lambda: [1, 2, 3])
    max_extensions_per_loan: int = Field(default=2, ge=0, le=12)
    extension_interest: Literal["contract", "none"] = "contract"
    # Re-instalment (分期): the terms the generator may propose; the rate as a share of the contract
    # rate (never above it); which owed components are spread over the new instalments (principal
    # always; the others are due with the first instalment).
    reinstalment_terms: list[int] = Field(default_factory=lambda: [3, 6, 9, 12, 18, 24, 36])
    reinstalment_rate_share: Decimal = Field(default=Decimal("1"), ge=0, le=1)
    reinstalment_spread: list[Literal["principal", "interest", "penalty", "late_fee"]] = Field(
        default_factory=lambda: ["principal", "interest", "penalty", "late_fee"]
    )
    # Interest suspension (停息挂账): principal and what is owed repaid over one of these terms, no interest.
    suspension_terms: list[int] = Field(default_factory=lambda: [12, 24, 36])
    # Waivers (减免) of penalty and late fee offered, in percent; the combined plan's waiver.
    waiver_percents: list[int] = Field(default_factory=lambda: [30, 100])
    combined_waiver_percent: int = Field(default=100, ge=0, le=100)
    # Discounted settlement: penalties, late fees and this share of overdue interest waived if
    # the rest is paid within `discounted_settlement_days`.
    discounted_settlement_days: int = Field(default=15, ge=1, le=90)
    discounted_settlement_interest_percent: int = Field(default=0, ge=0, le=100)
    # Broken agreements: days after a condition's date before the close of business calls it
    # broken; whether conditional waivers are then reinstated; the owner's follow-up is due this
    # many hours after the end of the business date (10: the next morning at 10:00).
    broken_grace_days: int = Field(default=0, ge=0, le=30)
    reinstate_conditional_waivers: bool = True
    follow_up_hours: int = Field(default=10, ge=1, le=24 * 14)
    # The authority matrix: what an agent and a team lead may grant alone; beyond the team lead,
    # compliance approves. An approver's grant must also pass the ledger's own waiver rule.
    authority: dict[Literal["agent", "team_lead"], AuthorityLimits] = Field(
        default_factory=lambda: {
            "agent": AuthorityLimits(
                waiver_max_fen=50_000, waiver_max_percent=30, extension_months=1, extensions=1
            ),
            "team_lead": AuthorityLimits(
                waiver_max_fen=500_000,
                waiver_max_percent=100,
                extension_months=3,
                extensions=2,
                reinstalment_months=24,
            ),
        }
    )

    @field_validator("extension_month_choices", "reinstalment_terms", "suspension_terms", "waiver_percents")
    @classmethod
    def _choices(cls, values: list[int]) -> list[int]:
        if not values or any(not 1 <= value <= 360 for value in values):
            raise ValueError("choices must be a non-empty list of whole numbers from 1 to 360")
        return sorted(set(values))

    @field_validator("waiver_percents")
    @classmethod
    def _percents(cls, values: list[int]) -> list[int]:
        if any(value > 100 for value in values):
            raise ValueError("waiver percents are at most 100")
        return values

    @field_validator("reinstalment_spread")
    @classmethod
    def _principal_spread(cls, values: list[str]) -> list[str]:
        if "principal" not in values:
            raise ValueError("reinstalment_spread must include principal")
        return values


class AssistantPolicy(Section):
    """The chat assistant (owned by the assistant room; documented in docs/POLICY.md under [assistant])."""

    # Below this model confidence the bot asks to rephrase; after `misses_before_handoff` misses in a
    # row (low confidence or an off-topic question) it hands the chat to a person.
    min_confidence: float = Field(default=0.45, gt=0, lt=1)
    misses_before_handoff: int = Field(default=2, ge=1, le=10)
    # Official contact points, quoted in answers and checked by GET /api/v1/assistant/verify-official.
    official_numbers: list[str] = Field(default_factory=lambda: ["400-000-0000", "106900000000"])
    official_website: str = "www.lenddesk.example"
    official_app: str = "LendDesk"
    official_wechat: str = "LendDesk服务号"
    company: str = "LendDesk"
    # Repayment channels named in answers (codes of the ledger's repayment channels).
    repayment_channels: list[str] = Field(
        default_factory=lambda: ["auto_debit", "mobile_banking", "wechat_pay", "alipay", "bank_transfer"]
    )
    # Longest message taken (characters); longer ones are cut, not refused.
    message_max_chars: int = Field(default=1000, ge=50, le=20_000)
    # Messages per chat session, and per client address, within one `[auth] throttle_minutes` window.
    session_messages_per_window: int = Field(default=60, ge=1, le=100_000)
    address_messages_per_window: int = Field(default=600, ge=1, le=1_000_000)
    # Open /chat/events streams per worker process: per client address and in all (429 beyond).
    event_streams_per_client: int = Field(default=4, ge=1, le=1000)
    event_streams_total: int = Field(default=500, ge=1, le=100_000)
    # Lines of the conversation copied into the handoff ticket.
    transcript_lines: int = Field(default=40, ge=1, le=500)


# The nine QA rubric codes: defined here once, so that the policy file is checked against them;
# quality.rubric.CODES and the quality API's schemas read them from here.
QualityCode = Literal[
    "GREETING",
    "IDENTITY_CHECK",
    "ACCURACY",
    "EMPATHY",
    "SOLUTION_OFFERED",
    "BANNED_LANGUAGE",
    "PRIVACY",
    "CLOSING",
    "RESPONSE_TIME",
]


class RubricItemPolicy(Section):
    code: QualityCode
    weight: int = Field(ge=0, le=100)


def _default_rubric() -> list[RubricItemPolicy]:
    weights = {
        "GREETING": 10,
        "IDENTITY_CHECK": 15,
        "ACCURACY": 15,
        "EMPATHY": 10,
        "SOLUTION_OFFERED": 15,
        "BANNED_LANGUAGE": 10,
        "PRIVACY": 10,
        "CLOSING": 5,
        "RESPONSE_TIME": 10,
    }
    return [RubricItemPolicy(code=code, weight=weight) for code, weight in weights.items()]  # type: ignore[arg-type]


class QualityPolicy(Section):
    """Automatic QA and the review queue (owned by the quality room; docs/QUALITY.md)."""

    # The rubric: each code at most once, with its weight in the 0–100 score.
    rubric: list[RubricItemPolicy] = Field(default_factory=_default_rubric)
    # A severe failure (banned language, privacy, account data before verification) sets the score
    # to 0 (一票否决) as well as sending the conversation to review.
    severe_zeroes_score: bool = True
    # Review sampling: below this QA score a conversation is reviewed (besides severe, complaint and
    # low-CSAT ones), and this share of the rest, drawn per agent.
    low_score: int = Field(default=60, ge=0, le=100)
    sample_share: float = Field(default=0.05, ge=0, le=1)
    low_csat: int = Field(default=2, ge=1, le=5)

    @field_validator("rubric")
    @classmethod
    def _each_code_once(cls, rubric: list[RubricItemPolicy]) -> list[RubricItemPolicy]:
        codes = [item.code for item in rubric]
        if len(codes) != len(set(codes)):
            raise ValueError("each rubric code may appear once")
        if not any(item.weight for item in rubric):
            raise ValueError("the rubric needs at least one item with a weight above 0")
        return rubric


class FeedbackPolicy(Section):
    """Satisfaction surveys after a resolved ticket (owned by the feedback room; docs/QUALITY.md)."""

    survey_enabled: bool = True
    # Hours a survey link stays answerable after it is sent.
    survey_expiry_hours: int = Field(default=72, ge=1, le=30 * 24)
    # Where the borrower opens the survey: the link is {survey_link_base}/survey/{token}.
    survey_link_base: str = Field(default="http://127.0.0.1:8000", max_length=200)
    # Channels a survey goes out on; a ticket from another channel (phone) gets it by SMS to the
    # borrower's mobile when the ledger knows it, else none.
    survey_channels: list[str] = Field(default_factory=lambda: ["chat", "email", "wechat", "sms", "web_form"])
    # A CSAT at or below this opens a call-back (回访) follow-up for the team lead.
    callback_csat: int = Field(default=2, ge=1, le=5)
    callback_hours: int = Field(default=24, ge=1, le=30 * 24)


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


class RiskPolicy(Section):
    """Abnormal-activity rules, the blacklist and the early-warning score (owned by the risk room;
    docs/POLICY.md under [risk], docs/RISK.md)."""

    # NEW_REGION: a login province neither the ID number's home nor seen within this many days.
    new_region_lookback_days: int = Field(default=90, ge=1, le=3650)
    # LARGE_TRANSFERS: at least `large_transfer_count` transfers of at least this many fen …
    large_transfer_fen: int = Field(default=500_000, ge=1, le=10**13)
    large_transfer_count: int = Field(default=3, ge=2, le=100)
    # … within a window of this many hours (an event exactly this long before is outside it).
    transfer_window_hours: int = Field(default=24, ge=1, le=24 * 30)
    # STRUCTURING: at least this many transfers from this share (percent) of the large-transfer
    # threshold up to just below it, in the same window.
    structuring_percent: int = Field(default=90, ge=1, le=99)
    structuring_count: int = Field(default=3, ge=2, le=100)
    # Who approves a blacklist entry or its removal (besides admins), never the person who asked.
    blacklist_approver_roles: list[str] = Field(default_factory=lambda: ["compliance"])
    # Early-warning score: the history it reads, and its points (docs/RISK.md "Score").
    score_lookback_days: int = Field(default=180, ge=30, le=3650)
    hardship_lookback_days: int = Field(default=90, ge=1, le=3650)
    # Worst days past due in the lookback → points: [[from_days, points], …], ascending.
    dpd_points: list[tuple[int, int]] = Field(default_factory=lambda: [(1, 10), (8, 20), (31, 35), (61, 50)])
    late_instalment_points: int = Field(default=5, ge=0, le=100)
    late_instalment_cap: int = Field(default=20, ge=0, le=100)
    partial_payment_points: int = Field(default=5, ge=0, le=100)
    partial_payment_cap: int = Field(default=10, ge=0, le=100)
    broken_promise_points: int = Field(default=10, ge=0, le=100)
    broken_promise_cap: int = Field(default=20, ge=0, le=100)
    broken_agreement_points: int = Field(default=15, ge=0, le=100)
    broken_agreement_cap: int = Field(default=30, ge=0, le=100)
    hardship_points: int = Field(default=10, ge=0, le=100)
    # Bands: low below `medium_from`, medium below `high_from`, high from there.
    medium_from: int = Field(default=30, ge=1, le=100)
    high_from: int = Field(default=60, ge=1, le=100)
    score_chunk_borrowers: int = Field(default=20_000, ge=100, le=1_000_000)

    @field_validator("blacklist_approver_roles")
    @classmethod
    def _known_roles(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(ROLES))
        if unknown:
            raise ValueError(f"unknown roles {unknown}; roles are {list(ROLES)}")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> RiskPolicy:
        if self.medium_from >= self.high_from:
            raise ValueError("medium_from must be below high_from")
        days = [day for day, _ in self.dpd_points]
        if any(day < 1 for day in days) or any(b <= a for a, b in pairwise(days)):
            raise ValueError("dpd_points need ascending days from 1")
        if any(not 0 <= points <= 100 for _, points in self.dpd_points):
            raise ValueError("dpd_points give 0–100 points")
        return self


class RunbookItem(Section):
    """One step of an incident's checklist (docs/INCIDENTS.md)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")
    title: str = Field(min_length=1, max_length=120)
    required: bool = True


def _runbook(*items: tuple[str, str, bool]) -> list[RunbookItem]:
    return [RunbookItem(code=code, title=title, required=required) for code, title, required in items]


INCIDENT_KINDS = ("outage", "data_leak", "fund_risk")


class IncidentsPolicy(Section):
    """Emergency mode: the runbook (checklist) of each incident kind and what a data-leak notice to
    borrowers must say (owned by the incidents room; docs/POLICY.md under [incidents])."""

    runbooks: dict[str, list[RunbookItem]] = Field(
        default_factory=lambda: {
            "outage": _runbook(
                ("assess_scope", "确认影响范围（产品、渠道、借款人）", True),
                ("notify_leads", "通知各团队负责人与客服现场", True),
                ("restore_service", "恢复服务并验证", True),
                ("waive_caused_fees", "核查并减免因故障产生的罚息与滞纳金", True),
                ("post_mortem", "复盘记录", False),
            ),
            "data_leak": _runbook(
                ("contain", "止损：阻断泄露途径、保全日志", True),
                ("assess_data", "确认泄露的个人信息种类与涉及人数", True),
                ("report_regulator", "向履行个人信息保护职责的部门报告", True),
                ("notify_borrowers", "通知受影响借款人（个人信息保护法第五十七条）", True),
                ("post_mortem", "复盘记录", False),
            ),
            "fund_risk": _runbook(
                ("freeze_channel", "暂停受影响的资金通道", True),
                ("reconcile", "对账并确认资金差异", True),
                ("report_regulator", "按要求报告监管", True),
                ("post_mortem", "复盘记录", False),
            ),
        }
    )
    # What a data-leak notice to borrowers must contain (PIPL Art. 57): each element is present when
    # the text contains one of its phrases. `contact` also needs a phone number or an e-mail address.
    leak_notice_elements: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "what_happened": ["发生", "事件经过", "经查", "我们发现"],
            "data_involved": ["涉及的信息", "涉及信息", "泄露的信息", "信息种类", "可能泄露"],
            "our_measures": ["我们已", "已采取", "采取的措施", "补救措施"],
            "your_actions": ["建议您", "请您", "您可以", "您可采取"],
            "contact": ["客服热线", "联系电话", "联系我们", "咨询电话", "邮箱"],
            "anti_scam": ["不会索要", "谨防诈骗", "防范诈骗", "警惕诈骗", "谨防电信诈骗"],
        }
    )
    # Messages of a broadcast queued per transaction page (a retry continues where it stopped).
    broadcast_page: int = Field(default=1000, ge=1, le=100_000)

    @field_validator("runbooks")
    @classmethod
    def _every_kind(cls, value: dict[str, list[RunbookItem]]) -> dict[str, list[RunbookItem]]:
        if set(value) != set(INCIDENT_KINDS):
            raise ValueError(f"runbooks must name exactly the kinds {list(INCIDENT_KINDS)}")
        for kind, items in value.items():
            codes = [item.code for item in items]
            if not items or len(set(codes)) != len(codes):
                raise ValueError(f"runbook {kind} needs at least one step and unique codes")
        return value

    @field_validator("leak_notice_elements")
    @classmethod
    def _every_element(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        needed = {"what_happened", "data_involved", "our_measures", "your_actions", "contact", "anti_scam"}
        if set(value) != needed or not all(value.values()):
            raise ValueError(f"leak_notice_elements must give phrases for exactly {sorted(needed)}")
        return value


class CarePolicy(Section):
    """Profiles, consents, care campaigns and revisits (owned by the care room; docs/POLICY.md under
    [care], docs/CARE.md)."""

    # At most this many marketing messages (greetings, offers) reach a borrower in any rolling window
    # of `marketing_window_days` days: a borrower who already had this many is excluded.
    marketing_cap: int = Field(default=2, ge=0, le=100)
    marketing_window_days: int = Field(default=30, ge=1, le=365)
    # The contact window of a borrower who has not chosen one (HH:MM-HH:MM, Shanghai time).
    default_contact_window: str = Field(default="09:00-20:00", pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$")
    # A revoked consent and its evidence are kept at least this many days after the revocation.
    consent_retention_days: int = Field(default=153, ge=153, le=3650)  # ≥ 5 months
    # Good-credit offers: this many most recent instalments all paid by their due dates.
    good_credit_instalments: int = Field(default=12, ge=1, le=120)
    # Who approves a campaign (besides admins), never its creator.
    campaign_approver_roles: list[str] = Field(default_factory=lambda: ["compliance"])
    # A revisit (回访) falls due this many hours after what triggered it.
    revisit_hours: int = Field(default=48, ge=1, le=24 * 30)

    @field_validator("campaign_approver_roles")
    @classmethod
    def _known_roles(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(ROLES))
        if unknown:
            raise ValueError(f"unknown roles {unknown}; roles are {list(ROLES)}")
        return value


class Policy(Section):
    money: MoneyPolicy = MoneyPolicy()
    auth: AuthPolicy = AuthPolicy()
    calendar: CalendarPolicy = CalendarPolicy()
    ledger: LedgerPolicy = LedgerPolicy()
    desk: DeskPolicy = DeskPolicy()
    collections: CollectionsPolicy = CollectionsPolicy()
    negotiation: NegotiationPolicy = NegotiationPolicy()
    assistant: AssistantPolicy = AssistantPolicy()
    quality: QualityPolicy = QualityPolicy()
    feedback: FeedbackPolicy = FeedbackPolicy()
    channels: ChannelsPolicy = ChannelsPolicy()
    risk: RiskPolicy = RiskPolicy()
    incidents: IncidentsPolicy = IncidentsPolicy()

    care: CarePolicy = CarePolicy()


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
