"""Request and response models of the feedback API."""

from __future__ import annotations

from pydantic import BaseModel


class SummaryRowOut(BaseModel):
    key: str
    label: str
    sent: int
    answered: int
    response_rate: float | None
    csat: float | None  # share of answers scoring 4 or 5
    average: float | None  # mean CSAT, 1–5
    nps: float | None  # promoters minus detractors, −100 … 100
    nps_answers: int
    by_score: dict[str, int]
    sentiments: dict[str, int]
    topics: dict[str, int]


class SummaryOut(SummaryRowOut):
    groups: list[SummaryRowOut]
