"""HTTP API of the quality room: thin routes over quality.service."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from lenddesk.core import audit, auth
from lenddesk.core.http import Id, db_session, errors, request_now
from lenddesk.core.models import User
from lenddesk.quality import rubric, schemas, scorecards, service
from lenddesk.quality.roles import AGENTS, QA, READERS, REVIEWERS

router = APIRouter(prefix="/api/v1/quality", tags=["quality"])


Now = Depends(request_now)


def conversation_of(body: schemas.ScoreIn) -> rubric.Conversation:
    ledger = None
    if body.ledger is not None:
        amounts = {a for a in (body.ledger.amount_due, body.ledger.settle_amount) if a is not None}
        dates = {body.ledger.due_date} if body.ledger.due_date else set()
        ledger = rubric.LedgerFacts(frozenset(amounts), frozenset(dates))
    return rubric.Conversation(
        channel=body.channel,
        turns=tuple(rubric.Turn(t.speaker, t.text, t.at) for t in body.transcript),
        verified_at=body.verified_at,
        ledger=ledger,
        first_response_minutes=body.first_response_minutes,
        category=body.category,
    )


def _score_out(result: rubric.Score) -> schemas.ScoreOut:
    return schemas.ScoreOut(
        score=result.score,
        severe=result.severe,
        items=[
            schemas.ItemOut(code=i.code, result=i.result, evidence=i.evidence, weight=i.weight)
            for i in result.items
        ],
    )


@router.post(
    "/score",
    response_model=schemas.ScoreOut,
    summary="Score any transcript against the rubric without storing it (calibration)",
    responses=errors(400, 401, 403, 422),
)
def score(body: schemas.ScoreIn, _: User = auth.allow(*QA)) -> schemas.ScoreOut:
    return _score_out(service.score_transcript(conversation_of(body)))


def _row_out(row: service.ReviewRow) -> schemas.ReviewRowOut:
    review = row.review
    return schemas.ReviewRowOut(
        id=review.id,
        ticket_number=row.ticket_number,
        agent_id=review.agent_id,
        agent_name=row.agent_name,
        reason=review.reason,
        status=review.status,
        score=row.score,
        severe=row.severe,
        failed=list(row.failed),
        human_score=review.human_score,
        created_at=review.created_at,
        reviewed_at=review.reviewed_at,
        acknowledged_at=review.acknowledged_at,
    )


@router.get(
    "/reviews",
    response_model=schemas.ReviewPageOut,
    summary="The review queue (reviewers) or one's own reviewed conversations (agents)",
    responses=errors(401, 403, 422),
)
def reviews(
    session: Session = db_session,
    user: User = auth.allow(*READERS),
    status: str | None = Query(default="pending", max_length=12),
    reason: str | None = Query(default=None, max_length=12),
    agent_id: int | None = Query(default=None, ge=1, le=2**63 - 1),
    limit: int = Query(default=100, ge=1, le=500),
) -> schemas.ReviewPageOut:
    rows = service.review_queue(
        session, viewer=user, status=status or None, reason=reason, agent_id=agent_id, limit=limit
    )
    return schemas.ReviewPageOut(items=[_row_out(row) for row in rows])


def _review_out(detail: service.ReviewDetail) -> schemas.ReviewOut:
    review = detail.row.review
    return schemas.ReviewOut(
        **_row_out(detail.row).model_dump(),
        comment=review.comment,
        agent_comment=review.agent_comment,
        items=[schemas.ItemOut(**item) for item in detail.score.items],
        verdicts=[
            schemas.VerdictOut(
                code=v.code, automatic=v.automatic, human=v.human, agrees=v.agrees, comment=v.comment
            )
            for v in detail.verdicts.values()
        ],
    )


@router.get(
    "/reviews/{review_id}",
    response_model=schemas.ReviewOut,
    summary="One review: the automatic items, the reviewer's verdicts and the agent's acknowledgement",
    responses=errors(401, 403, 404, 422),
)
def review(
    review_id: Id, session: Session = db_session, user: User = auth.allow(*READERS)
) -> schemas.ReviewOut:
    return _review_out(service.review_detail(session, viewer=user, review_id=review_id))


@router.post(
    "/reviews/{review_id}",
    response_model=schemas.ReviewOut,
    summary="Record the reviewer's verdict: confirm or override each rubric item, with comments",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def submit_review(
    review_id: Id,
    body: schemas.ReviewIn,
    session: Session = db_session,
    user: User = auth.allow(*REVIEWERS),
    now: datetime = Now,
) -> schemas.ReviewOut:
    service.submit_review(
        session,
        actor=audit.Actor.of(user),
        review_id=review_id,
        verdicts=[service.ItemVerdictIn(v.code, v.result, v.comment) for v in body.verdicts],
        comment=body.comment,
        now=now,
    )
    return _review_out(service.review_detail(session, viewer=user, review_id=review_id))


@router.post(
    "/reviews/{review_id}/acknowledge",
    response_model=schemas.ReviewOut,
    summary="The agent acknowledges the reviewer's feedback",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def acknowledge(
    review_id: Id,
    body: schemas.AcknowledgeIn,
    session: Session = db_session,
    user: User = auth.allow(*AGENTS),
    now: datetime = Now,
) -> schemas.ReviewOut:
    service.acknowledge_review(
        session, actor=audit.Actor.of(user), review_id=review_id, comment=body.comment, now=now
    )
    return _review_out(service.review_detail(session, viewer=user, review_id=review_id))


@router.get(
    "/disagreements",
    response_model=list[schemas.DisagreementOut],
    summary="Per rubric item: how often reviewers agreed with the automatic verdict",
    responses=errors(401, 403),
)
def disagreements(
    session: Session = db_session, _: User = auth.allow(*REVIEWERS)
) -> list[schemas.DisagreementOut]:
    return [
        schemas.DisagreementOut(
            code=d.code,
            reviewed=d.reviewed,
            agreed=d.agreed,
            agreement=round(d.agreement, 3),
            auto_fail_human_pass=d.auto_fail_human_pass,
            auto_pass_human_fail=d.auto_pass_human_fail,
        )
        for d in service.disagreements(session)
    ]


@router.post(
    "/rescore",
    response_model=schemas.RescoreOut,
    summary="Re-score changed conversations now (and every one scored under another rubric)",
    responses=errors(400, 401, 403, 422),
)
def rescore(
    body: schemas.RescoreIn,
    session: Session = db_session,
    user: User = auth.allow(*QA),
    now: datetime = Now,
) -> schemas.RescoreOut:
    run = service.score_changed(session, now=now, rescore=body.all_rubric_changes)
    audit.record(
        session,
        audit.Actor.of(user),
        "quality.rescore",
        ("quality", "rubric"),
        None,
        {"rubric_version": service.rubric_version(), "written": run.written},
    )
    return schemas.RescoreOut(read=run.read, written=run.written, severe=run.severe, reviews=run.reviews)


@router.get(
    "/scorecards",
    response_model=schemas.ScorecardsOut,
    summary="Scorecards per agent or team for a week (2026-W48) or a month (2026-11), with trends",
    responses=errors(401, 403, 422),
)
def get_scorecards(
    session: Session = db_session,
    user: User = auth.allow(*READERS),
    period: str = Query(max_length=10),
    scope: str = Query(default="agent", max_length=8),
) -> schemas.ScorecardsOut:
    # Agents and collectors see their own card; QA, team leads and compliance see everyone's.
    only = str(user.id) if user.role in ("agent", "collector") else None
    if only is not None:
        scope = "agent"
    cards = scorecards.scorecards(session, period=period, scope=scope, key=only)
    return schemas.ScorecardsOut(
        period=cards.period.label,
        scope=cards.scope,
        start=cards.period.start,
        end=cards.period.end,
        rows=[
            schemas.ScorecardRowOut(
                key=c.key,
                label=c.label,
                conversations=c.conversations,
                qa_score=c.qa_score,
                severe=c.severe,
                csat=c.csat,
                surveys_answered=c.surveys_answered,
                first_response_minutes=c.first_response_minutes,
                resolution_minutes=c.resolution_minutes,
                sla_attainment=c.sla_attainment,
                complaints=c.complaints,
                reopen_rate=c.reopen_rate,
            )
            for c in cards.rows
        ],
        trend=[schemas.TrendPointOut(period=t.period, qa_score=t.qa_score, csat=t.csat) for t in cards.trend],
    )


@router.post(
    "/cases",
    response_model=schemas.CaseOut,
    status_code=201,
    summary="Save a reviewed conversation to the case library as a model or warning case",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def save_case(
    body: schemas.CaseIn,
    session: Session = db_session,
    user: User = auth.allow(*REVIEWERS),
    now: datetime = Now,
) -> schemas.CaseOut:
    case = service.save_case(
        session,
        actor=audit.Actor.of(user),
        review_id=body.review_id,
        kind=body.kind,
        title=body.title,
        lesson=body.lesson,
        tags=body.tags,
        now=now,
    )
    return schemas.CaseOut.model_validate(case)


@router.get(
    "/cases",
    response_model=list[schemas.CaseOut],
    summary="Search the case library (words in any order, Traditional or Simplified; tag; kind)",
    responses=errors(401, 403, 422),
)
def cases(
    session: Session = db_session,
    _: User = auth.allow(*READERS),
    q: str | None = Query(default=None, max_length=100),
    tag: str | None = Query(default=None, max_length=32),
    kind: str | None = Query(default=None, max_length=8),
) -> list[schemas.CaseOut]:
    return [schemas.CaseOut.model_validate(c) for c in service.search_cases(session, q=q, tag=tag, kind=kind)]
