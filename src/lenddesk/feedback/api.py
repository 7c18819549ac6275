"""HTTP API of the feedback room: thin routes over feedback.service. The borrower's survey page is
a console page (web/feedback.py), public behind its token."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from lenddesk.core import auth
from lenddesk.core.http import db_session, errors
from lenddesk.core.models import User
from lenddesk.feedback import schemas, service
from lenddesk.feedback.roles import READERS

router = APIRouter(prefix="/api/v1/feedback", tags=["feedback"])


def row_out(row: service.Summary) -> schemas.SummaryRowOut:
    return schemas.SummaryRowOut(
        key=row.key,
        label=row.label,
        sent=row.sent,
        answered=row.answered,
        response_rate=None if row.response_rate is None else round(row.response_rate, 4),
        csat=None if row.csat is None else round(row.csat, 4),
        average=None if row.average is None else round(row.average, 2),
        nps=None if row.nps is None else round(row.nps, 1),
        nps_answers=row.nps_answers,
        by_score={str(score): count for score, count in row.by_score.items()},
        sentiments=dict(row.sentiments),
        topics=dict(row.topics),
    )


@router.get(
    "/summary",
    response_model=schemas.SummaryOut,
    summary="CSAT, NPS, response rate and counts by score for surveys sent from `from` to `to` (inclusive)",
    responses=errors(401, 403, 422),
)
def summary(
    session: Session = db_session,
    _: User = auth.allow(*READERS),
    from_: date = Query(alias="from", ge=date(1900, 1, 1), le=date(2199, 12, 31)),
    to: date = Query(ge=date(1900, 1, 1), le=date(2199, 12, 31)),
    by: str | None = Query(default=None, max_length=10),
) -> schemas.SummaryOut:
    end = service.day_start(to) + timedelta(days=1)
    total, groups = service.summary(session, start=service.day_start(from_), end=end, by=by)
    return schemas.SummaryOut(**row_out(total).model_dump(), groups=[row_out(g) for g in groups])
