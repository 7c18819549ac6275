"""Request and response models of the negotiation API (amounts are yuan strings)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from lenddesk.core.money import YuanIn, YuanOut

Cause = Literal[
    "income_drop",
    "unemployment",
    "illness",
    "family_emergency",
    "business_cashflow",
    "disaster",
    "dispute",
    "other",
]


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contract_number: str = Field(min_length=1, max_length=32)
    ticket_number: str | None = Field(default=None, min_length=1, max_length=20)
    cause: Cause
    monthly_capacity: YuanIn
    monthly_income: YuanIn | None = None
    monthly_expenses: YuanIn | None = None
    notes: str = Field(default="", max_length=2000)
    evidence: str = Field(default="", max_length=2000)


class CaseOut(BaseModel):
    case_id: int
    ticket_number: str
    contract_number: str
    cause: str
    cause_zh: str
    monthly_capacity: YuanOut
    status: str
    opened_by: str
    opened_at: datetime


class OutstandingOut(BaseModel):
    principal: YuanOut
    interest: YuanOut
    penalty: YuanOut
    fees: YuanOut
    total: YuanOut


class ContinueOut(BaseModel):
    monthly_amount: YuanOut
    total_to_pay: YuanOut


class ScheduleLineOut(BaseModel):
    period: int
    due_date: date
    principal: YuanOut
    interest: YuanOut
    fees: YuanOut
    total: YuanOut


class OptionOut(BaseModel):
    option_id: str
    kind: Literal["extension", "reinstalment", "waiver", "interest_suspension", "combined"]
    title_zh: str
    monthly_amount: YuanOut
    term: int
    first_due_date: date | None
    total_to_pay: YuanOut
    extra_cost: YuanOut
    waived: YuanOut
    fits_capacity: bool
    schedule: list[ScheduleLineOut]
    conditions_zh: list[str]
    pros_zh: list[str]
    cons_zh: list[str]
    approval: Literal["agent", "team_lead", "compliance"]


class OptionsOut(BaseModel):
    case_id: int
    on: date
    monthly_capacity: YuanOut
    outstanding: OutstandingOut
    continue_as_now: ContinueOut
    options: list[OptionOut]


class ProposalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    option_id: str = Field(min_length=1, max_length=40)


class ProposalOut(BaseModel):
    proposal_id: int
    case_id: int
    option_id: str
    title_zh: str
    status: Literal["pending_approval", "approved", "rejected", "accepted", "withdrawn"]
    approval: str
    proposed_by: str
    decided_by: str | None = None
    decision_comment: str | None = None


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str = Field(default="", max_length=2000)


class AcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: str = Field(min_length=1, max_length=16)
    evidence_text: str = Field(min_length=1, max_length=2000)
    accepted_at: datetime


class AcceptOut(BaseModel):
    agreement_number: str
    sha256: str
    previous_sha256: str


class AgreementOut(BaseModel):
    agreement_number: str
    seq: int
    case_id: int
    kind: str
    status: str
    text_zh: str
    sha256: str
    previous_sha256: str
    accepted_on: date
    condition_amount: YuanOut | None = None
    condition_due_on: date | None = None


class VerifyOut(BaseModel):
    ok: bool
    checked: int
    first_tampered: str | None
    reason: str | None = None


class LibraryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["success", "failure"]
    lesson: str = Field(min_length=1, max_length=2000)


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(min_length=1, max_length=2000)


class LibraryCaseOut(BaseModel):
    case_id: int
    cause_zh: str
    outcome: str
    lesson: str
    marked_by: str
    status: str
