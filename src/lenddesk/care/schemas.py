"""Request and response bodies of the care room's API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["sms", "email", "app", "wechat"]
BorrowerId = Annotated[int, Field(ge=1, le=2**63 - 1)]
PreferredChannel = Literal["sms", "phone", "wechat", "email", "app"]
Purpose = Literal["marketing", "education"]
Kind = Literal["greeting", "education", "offer", "revisit"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WindowIO(Strict):
    start: str = Field(pattern=r"^\d{2}:\d{2}$", description="HH:MM, Shanghai time, inclusive")
    end: str = Field(pattern=r"^\d{2}:\d{2}$", description="HH:MM, exclusive (24:00 for midnight)")


class PreferencesIO(Strict):
    channel: PreferredChannel | None = None
    contact_window: WindowIO | None = None
    topics: list[str] = Field(default_factory=list, max_length=20)
    personalised: bool = False


class ConsentIn(Strict):
    purpose: Purpose
    channel: Channel
    evidence: str = Field(min_length=1, max_length=2000)


class RevokeIn(Strict):
    evidence: str = Field(min_length=1, max_length=2000)


class ConsentOut(BaseModel):
    id: int
    borrower_id: int
    purpose: str
    channel: str
    evidence: str
    granted_at: datetime
    granted_by: str
    revoked_at: datetime | None
    revoked_by: str | None
    revocation_evidence: str | None
    active: bool


class AudienceIn(Strict):
    borrower_ids: list[BorrowerId] | None = Field(default=None, max_length=100_000)
    segment: Literal["all", "good_credit", "low_risk"] | None = None


class CampaignIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    kind: Kind
    channel: Channel
    text: str = Field(min_length=1, max_length=500)
    audience: AudienceIn = Field(default_factory=AudienceIn)
    send_on: date | None = None
    festival: str | None = Field(default=None, max_length=24)


class CampaignOut(BaseModel):
    id: int
    name: str
    kind: str
    channel: str
    text: str
    audience: dict[str, object]
    send_on: date | None
    festival: str | None
    status: str
    created_by: str
    approved_by: str | None
    launches: int
    sent: int


class PreviewOut(BaseModel):
    campaign_id: int
    audience: int
    eligible: int
    excluded: dict[str, int]


class LaunchOut(BaseModel):
    campaign_id: int
    queued: int
    already: int
    status: str


class ResultsOut(BaseModel):
    campaign_id: int
    sends: int
    launches: int
    delivery: dict[str, int]


class RevisitOut(BaseModel):
    id: int
    borrower_id: int
    source: str
    source_ref: str
    owner_id: int | None
    ticket_id: int | None
    note: str
    status: str
    due_at: datetime
    outcome: str | None
    done_by: str | None
    done_at: datetime | None


class RevisitDoneIn(Strict):
    outcome: str = Field(min_length=1, max_length=500)
