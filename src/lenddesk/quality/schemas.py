"""Request and response models of the quality API. Money enters as yuan strings (YuanIn)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lenddesk.core.calendar import SHANGHAI
from lenddesk.core.money import YuanIn
from lenddesk.core.policy import QualityCode

Speaker = Literal["agent", "borrower", "bot"]
Result = Literal["pass", "fail", "n/a"]
Code = QualityCode  # the nine rubric codes, defined once (core.policy, read by quality.rubric)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _aware(value: datetime | None) -> datetime | None:
    # A time without a zone is Shanghai wall-clock time.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=SHANGHAI)
    return value


def _in_range(value: datetime | None) -> datetime | None:
    if value is not None and not 1900 <= value.year <= 2199:
        raise ValueError("time must be between 1900 and 2199")
    return _aware(value)


class TurnIn(Strict):
    speaker: Speaker
    text: str = Field(max_length=5000)
    at: datetime | None = None

    _zone = field_validator("at")(_in_range)


class LedgerIn(Strict):
    amount_due: YuanIn | None = None
    due_date: date | None = Field(default=None, ge=date(1900, 1, 1), le=date(2199, 12, 31))
    settle_amount: YuanIn | None = None


class ScoreIn(Strict):
    channel: str = Field(max_length=16)
    transcript: list[TurnIn] = Field(min_length=1, max_length=500)
    verified_at: datetime | None = None
    ledger: LedgerIn | None = None
    first_response_minutes: int | None = Field(default=None, ge=1, le=100_000)
    category: str | None = Field(default=None, max_length=32)

    _zone = field_validator("verified_at")(_in_range)


class ItemOut(BaseModel):
    code: str
    result: str
    evidence: str
    weight: int


class ScoreOut(BaseModel):
    score: int
    severe: bool
    items: list[ItemOut]


class ReviewRowOut(BaseModel):
    id: int
    ticket_number: str
    agent_id: int | None
    agent_name: str | None
    reason: str
    status: str
    score: int
    severe: bool
    failed: list[str]
    human_score: int | None
    created_at: datetime
    reviewed_at: datetime | None
    acknowledged_at: datetime | None


class ReviewPageOut(BaseModel):
    items: list[ReviewRowOut]


class VerdictIn(Strict):
    code: Code
    result: Result
    comment: str | None = Field(default=None, max_length=2000)


class ReviewIn(Strict):
    verdicts: list[VerdictIn] = Field(default_factory=list, max_length=20)
    comment: str | None = Field(default=None, max_length=5000)


class AcknowledgeIn(Strict):
    comment: str | None = Field(default=None, max_length=2000)


class VerdictOut(BaseModel):
    code: str
    automatic: str
    human: str
    agrees: bool
    comment: str | None


class ReviewOut(ReviewRowOut):
    comment: str | None
    agent_comment: str | None
    items: list[ItemOut]
    verdicts: list[VerdictOut]


class DisagreementOut(BaseModel):
    code: str
    reviewed: int
    agreed: int
    agreement: float
    auto_fail_human_pass: int
    auto_pass_human_fail: int


class CaseIn(Strict):
    review_id: int = Field(ge=1, le=2**63 - 1)
    kind: Literal["model", "warning"]
    title: str = Field(min_length=1, max_length=100)
    lesson: str = Field(min_length=1, max_length=5000)
    tags: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("tags")
    @classmethod
    def _short_tags(cls, tags: list[str]) -> list[str]:
        if any(len(tag) > 32 for tag in tags):
            raise ValueError("each tag at most 32 characters")
        return tags


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    ticket_id: int
    review_id: int | None
    kind: str
    title: str
    lesson: str
    tags: list[str]
    transcript: list[dict[str, str | None]]
    created_by: str
    created_at: datetime


class RescoreIn(Strict):
    all_rubric_changes: bool = True


class RescoreOut(BaseModel):
    read: int
    written: int
    severe: int
    reviews: dict[str, int]


class ScorecardRowOut(BaseModel):
    key: str
    label: str
    conversations: int
    qa_score: float | None
    severe: int
    csat: float | None
    surveys_answered: int
    first_response_minutes: float | None
    resolution_minutes: float | None
    sla_attainment: float | None
    complaints: int
    reopen_rate: float | None


class TrendPointOut(BaseModel):
    period: str
    qa_score: float | None
    csat: float | None


class ScorecardsOut(BaseModel):
    period: str
    scope: str
    start: datetime
    end: datetime
    rows: list[ScorecardRowOut]
    trend: list[TrendPointOut]
