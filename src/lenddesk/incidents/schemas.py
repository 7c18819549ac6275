"""Request and response models of the incidents API and the public status."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["outage", "data_leak", "fund_risk"]
ProductCode = Field(min_length=1, max_length=32)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeclareIn(Strict):
    kind: Kind
    title: str = Field(min_length=1, max_length=120)
    public_notice: str = Field(min_length=1, max_length=2000)
    pause_outbound: bool
    products: list[str] | None = Field(
        default=None, max_length=50, description="Product codes in scope; null for every product"
    )


class UpdateIn(Strict):
    text: str = Field(min_length=1, max_length=2000)
    broadcast: bool = Field(default=True, description="Also send it to every affected borrower")
    reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Idempotency key: a retry with the same reference returns the first update",
    )


class ResolveIn(Strict):
    summary: str = Field(min_length=1, max_length=4000)


class ChecklistItemOut(BaseModel):
    code: str
    title: str
    required: bool
    done: bool
    done_by: str | None = None
    done_at: datetime | None = None


class UpdateOut(BaseModel):
    id: int
    text: str
    broadcast: bool
    recipients: int
    author: str
    created_at: datetime


class TimelineOut(BaseModel):
    at: datetime
    what: str
    who: str


class IncidentOut(BaseModel):
    id: int
    kind: Kind
    title: str
    public_notice: str
    pause_outbound: bool
    products: list[str] | None
    status: Literal["active", "resolved"]
    declared_by: str
    declared_at: datetime
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    summary: str | None = None
    checklist: list[ChecklistItemOut]
    updates: list[UpdateOut]
    timeline: list[TimelineOut]


class IncidentListItem(BaseModel):
    id: int
    kind: Kind
    title: str
    status: Literal["active", "resolved"]
    pause_outbound: bool
    declared_at: datetime


class PublicUpdateOut(BaseModel):
    text: str
    at: datetime


class PublicIncidentOut(BaseModel):
    id: int
    kind: Kind
    kind_zh: str
    title: str
    public_notice: str
    since: datetime
    updates: list[PublicUpdateOut]


class StatusOut(BaseModel):
    operational: bool
    incidents: list[PublicIncidentOut]
