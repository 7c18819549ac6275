"""HTTP API of the collections room: thin routes over collections.service."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from lenddesk.collections import schemas, service
from lenddesk.collections.roles import CHECKERS, COLLECTORS, REPORT_READERS, SCRIPT_EDITORS
from lenddesk.core import audit, auth
from lenddesk.core.calendar import business_date
from lenddesk.core.http import Day, clock_now, db_session, errors
from lenddesk.core.models import User

router = APIRouter(prefix="/api/v1/collections", tags=["collections"])


async def request_now(request: Request) -> datetime:
    """The current time; tests may pin it with `app.state.collections_clock` (or the desk's clock)."""
    clock = getattr(request.app.state, "collections_clock", None)
    return clock() if clock is not None else clock_now(request)


Now = Depends(request_now)


def _violations(verdict_violations: list[dict[str, str]]) -> list[schemas.ViolationOut]:
    return [schemas.ViolationOut(**v) for v in verdict_violations]


@router.post(
    "/check",
    response_model=schemas.CheckOut,
    summary="What-if compliance check of a contact (nothing is sent or recorded)",
    responses=errors(400, 401, 403, 404, 422),
)
def check(
    body: schemas.CheckIn,
    session: Session = db_session,
    _: User = auth.allow(*CHECKERS),
) -> schemas.CheckOut:
    assume = None
    if body.assume is not None:
        assume = service.Assumptions(
            contacts_today=body.assume.contacts_today,
            contacts_7d=body.assume.contacts_7d,
            opted_out=tuple(body.assume.opted_out) if body.assume.opted_out is not None else None,
            dispute_open=body.assume.dispute_open,
        )
    verdict = service.check_what_if(
        session,
        borrower_id=body.borrower_id,
        recipient=body.recipient,
        channel=body.channel,
        at=body.at,
        text=body.text,
        assume=assume,
    )
    return schemas.CheckOut(
        allowed=verdict.allowed,
        violations=[
            schemas.ViolationOut(code=v.code, message_zh=v.message_zh, evidence=v.evidence)
            for v in verdict.violations
        ],
    )


@router.get(
    "/worklist",
    response_model=list[schemas.WorkRowOut],
    summary="The caller's worklist for a day, ranked by expected recovery",
    responses=errors(401, 403, 422),
)
def worklist(
    session: Session = db_session,
    user: User = auth.allow(*COLLECTORS),
    now: datetime = Now,
    day: Day | None = None,
    limit: int = Query(default=200, ge=1, le=1000),
) -> list[schemas.WorkRowOut]:
    rows = service.worklist(session, user_id=user.id, day=day or business_date(now), limit=limit)
    return [
        schemas.WorkRowOut(
            rank=row.rank,
            borrower_id=row.borrower_id,
            name=row.name,
            bucket=row.bucket,
            days_past_due=row.days_past_due,
            overdue_amount=row.overdue_fen,
            propensity=row.propensity,
            expected_recovery=row.expected_recovery_fen,
            step=row.step,
            done=row.done,
        )
        for row in rows
    ]


@router.post(
    "/contacts",
    response_model=schemas.ContactOut,
    status_code=201,
    summary="Contact a borrower: sent when the guard allows it, else blocked (422) and recorded",
    # 422 `contact_blocked`: details = {contact_id, violations}; the attempt is recorded as blocked.
    responses=errors(400, 401, 403, 404, 422),
)
def contact(
    body: schemas.ContactIn,
    session: Session = db_session,
    user: User = auth.allow(*COLLECTORS),
    now: datetime = Now,
) -> schemas.ContactOut | JSONResponse:
    actor = audit.Actor.of(user)
    service.ensure_access(session, actor=actor, borrower_id=body.borrower_id)
    result = service.send_contact(
        session,
        actor=actor,
        borrower_id=body.borrower_id,
        recipient=body.recipient,
        channel=body.channel,
        text=body.text,
        now=now,
    )
    violations = _violations(result.contact.violations)
    if not result.verdict.allowed:
        # Not an exception: the blocked attempt must be committed with its codes.
        found = [v.model_dump() for v in violations]
        body_out = {
            "code": "contact_blocked",
            "message_zh": "合规检查未通过，未发送：" + "；".join(v.message_zh for v in violations),
            "message_en": "Blocked by the compliance guard: " + ", ".join(result.verdict.codes),
            "details": {"contact_id": result.contact.id, "status": "blocked", "violations": found},
            "violations": found,
        }
        return JSONResponse(body_out, status_code=422)
    service.mark_worked(session, borrower_id=body.borrower_id, day=business_date(now))
    return schemas.ContactOut(
        contact_id=result.contact.id, status="sent", outbox_id=result.contact.outbox_id, violations=[]
    )


@router.post(
    "/outcomes",
    response_model=schemas.OutcomeOut,
    status_code=201,
    summary="Record a contact outcome (promise to pay, dispute, hardship, wrong number, ...)",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def outcome(
    body: schemas.OutcomeIn,
    session: Session = db_session,
    user: User = auth.allow(*COLLECTORS),
    now: datetime = Now,
) -> schemas.OutcomeOut:
    actor = audit.Actor.of(user)
    service.ensure_access(session, actor=actor, borrower_id=body.borrower_id)
    recorded = service.record_outcome(
        session,
        actor=actor,
        borrower_id=body.borrower_id,
        kind=body.kind,
        now=now,
        contact_id=body.contact_id,
        note=body.note,
        promise_amount_fen=body.promise_amount,
        promise_date=body.promise_date,
        new_mobile=body.new_mobile,
        new_relation=body.new_relation,
    )
    return schemas.OutcomeOut(
        outcome_id=recorded.id,
        kind=recorded.kind,
        promise_status=recorded.promise_status,
        promise_amount=recorded.promise_amount_fen,
        promise_date=recorded.promise_date,
        ticket_number=recorded.ticket_number,
    )


@router.get(
    "/strategies/report",
    response_model=schemas.ReportOut,
    summary="Champion/challenger report: rates per strategy arm with 95 % intervals",
    responses=errors(401, 403, 422),
)
def strategy_report(
    session: Session = db_session,
    _: User = auth.allow(*REPORT_READERS),
    now: datetime = Now,
    since: Day | None = None,
    until: Day | None = None,
) -> schemas.ReportOut:
    until = until or business_date(now)
    since = since or until - timedelta(days=90)
    arms = service.strategy_report(session, since=since, until=until)
    return schemas.ReportOut(
        since=since,
        until=until,
        arms=[
            schemas.ArmOut(
                strategy=arm.strategy,
                arm=arm.arm,
                accounts=arm.accounts,
                rates={
                    key: schemas.RateOut(
                        hits=r.hits, total=r.total, rate=r.value, ci_low=r.low, ci_high=r.high
                    )
                    for key, r in arm.rates.items()
                },
            )
            for arm in arms
        ],
    )


@router.get(
    "/scripts",
    response_model=list[schemas.ScriptOut],
    summary="The collection scripts per stage and channel",
    responses=errors(401, 403),
)
def scripts(
    session: Session = db_session, _: User = auth.allow(*COLLECTORS, "compliance", "qa")
) -> list[schemas.ScriptOut]:
    return [schemas.ScriptOut.model_validate(script) for script in service.list_scripts(session)]


@router.post(
    "/scripts",
    response_model=schemas.ScriptOut,
    status_code=201,
    summary="Save a script; one that fails the compliance guard is refused (422 with violations)",
    responses=errors(400, 401, 403, 422),
)
def save_script(
    body: schemas.ScriptIn,
    session: Session = db_session,
    user: User = auth.allow(*SCRIPT_EDITORS),
    now: datetime = Now,
) -> schemas.ScriptOut:
    script = service.save_script(
        session,
        actor=audit.Actor.of(user),
        code=body.code,
        stage=body.stage,
        channel=body.channel,
        title=body.title,
        body=body.body,
        now=now,
    )
    return schemas.ScriptOut.model_validate(script)
