"""Request and response models of the collections API. Money leaves as yuan strings (YuanOut)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from lenddesk.core.money import YuanIn, YuanOut

MAX_ID = 2**63 - 1
BorrowerId = Annotated[int, Field(ge=1, le=MAX_ID)]
ContactId = Annotated[int, Field(ge=1, le=MAX_ID)]
Channel = Literal["sms", "call_script", "email", "app", "robocall"]
Recipient = Literal["self", "third_party"] | ContactId


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ViolationOut(BaseModel):
    code: str
    message_zh: str
    evidence: str


class AssumeIn(Strict):
    contacts_today: int | None = Field(default=None, ge=0, le=10_000)
    contacts_7d: int | None = Field(default=None, ge=0, le=10_000)
    opted_out: list[Channel] | None = Field(default=None, max_length=5)
    dispute_open: bool | None = None


class CheckIn(Strict):
    borrower_id: BorrowerId
    recipient: Recipient = "self"
    channel: Channel
    at: AwareDatetime
    text: str = Field(max_length=2000)
    assume: AssumeIn | None = None


class CheckOut(BaseModel):
    allowed: bool
    violations: list[ViolationOut]


class ContactIn(Strict):
    borrower_id: BorrowerId
    recipient: Recipient = "self"
    channel: Channel
    text: str = Field(max_length=2000)


class ContactOut(BaseModel):
    contact_id: int
    status: str
    outbox_id: int | None
    violations: list[ViolationOut] = []


class OutcomeIn(Strict):
    borrower_id: BorrowerId
    kind: Literal[
        "right_party",
        "wrong_number",
        "no_answer",
        "refused",
        "promise_to_pay",
        "dispute",
        "hardship",
        "third_party",
        "new_contact",
    ]
    contact_id: ContactId | None = None
    note: str = Field(default="", max_length=500)
    promise_amount: YuanIn | None = None
    promise_date: date | None = Field(default=None, ge=date(2000, 1, 1), le=date(2199, 12, 31))
    new_mobile: str | None = Field(default=None, max_length=20)
    new_relation: str | None = Field(default=None, max_length=16)


class OutcomeOut(BaseModel):
    outcome_id: int
    kind: str
    promise_status: str | None
    promise_amount: YuanOut | None
    promise_date: date | None
    ticket_number: str | None


class WorkRowOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rank: int
    borrower_id: int
    name: str
    bucket: str
    days_past_due: int
    overdue_amount: YuanOut
    propensity: int
    expected_recovery: YuanOut
    step: str
    done: bool


class RateOut(BaseModel):
    hits: int
    total: int
    rate: float
    ci_low: float
    ci_high: float


class ArmOut(BaseModel):
    strategy: str
    arm: str
    accounts: int
    rates: dict[str, RateOut]


class ReportOut(BaseModel):
    since: date
    until: date
    arms: list[ArmOut]


class ScriptIn(Strict):
    code: str = Field(min_length=2, max_length=32)
    stage: Literal["pre_due", "due", "M1", "M2", "M3+"]
    channel: Channel
    title: str = Field(min_length=1, max_length=64)
    body: str = Field(min_length=1, max_length=2000)


class ScriptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    stage: str
    channel: str
    title: str
    body: str
    version: int
    updated_by: str
    updated_at: datetime
