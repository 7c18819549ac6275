"""Scheduled work of the risk room: the early-warning score in the close of business."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection

from lenddesk.ledger import after_close
from lenddesk.risk.service import score_day


def score_step(connection: Connection, business_date: date) -> dict[str, int]:
    """The close-of-business step: score the borrowers as of `business_date` (idempotent)."""
    return score_day(connection, business_date)


# Broken agreements and promises of the day count; the plan (collections) is not read, so on
# PostgreSQL the score runs beside it.
after_close.register(
    "risk", score_step, order=300, label="risk score 风险评分", after=("negotiation", "collections.promises")
)
