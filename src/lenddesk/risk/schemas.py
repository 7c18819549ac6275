"""Request and response models of the risk API. Money leaves as yuan strings (YuanOut)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from lenddesk.core.money import YuanIn

MAX_ID = 2**63 - 1
BorrowerId = Annotated[int, Field(ge=1, le=MAX_ID)]
EventKind = Literal["login", "transfer", "card_bind"]
AlertStatus = Literal["open", "acknowledged", "closed"]
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2199, 12, 31, tzinfo=UTC)
Disposition = Literal["confirmed_fraud", "customer_verified", "false_positive", "monitor"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventIn(Strict):
    source: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.:-]+$")
    event_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    borrower_id: BorrowerId
    kind: EventKind
    at: AwareDatetime
    region: str = Field(pattern=r"^\d{6}$", description="6-digit GB/T 2260 region code")
    amount: YuanIn | None = Field(default=None, description="Yuan string, transfers only")
    device: str | None = Field(default=None, max_length=128, pattern=r"^[A-Za-z0-9_.:+/=-]+$")
    success: bool = Field(default=True, description="Logins: whether the sign-in succeeded")

    @field_validator("at")
    @classmethod
    def _within_the_span(cls, value: datetime) -> datetime:
        # Windows reach 90 days either side of an event: keep them inside what datetime can hold.
        if not EARLIEST <= value <= LATEST:
            raise ValueError("at must be between 2000-01-01 and 2199-12-31")
        return value


class EventOut(BaseModel):
    id: int
    created: bool
    alerts: list[int]


class AlertOut(BaseModel):
    id: int
    rule: str
    borrower_id: int
    status: str
    evidence: dict[str, Any]
    created_at: datetime
    disposition: str | None = None
    ticket_number: str | None = None


class CloseIn(Strict):
    disposition: Disposition
    note: str = Field(default="", max_length=500)


class BlacklistIn(Strict):
    id_number: str | None = Field(default=None, max_length=32)
    mobile: str | None = Field(default=None, max_length=32)
    reason: str = Field(min_length=1, max_length=255)


class RemovalIn(Strict):
    reason: str = Field(min_length=1, max_length=255)


class RejectIn(Strict):
    note: str = Field(min_length=1, max_length=255)


class BlacklistOut(BaseModel):
    id: int
    kind: str
    status: str


class CheckOut(BaseModel):
    listed: bool


class ReasonOut(BaseModel):
    code: str
    points: int
    text_zh: str


class ScoreOut(BaseModel):
    borrower_id: int
    score: int
    band: Literal["low", "medium", "high"]
    reasons: list[ReasonOut]
    scored_on: date | None
