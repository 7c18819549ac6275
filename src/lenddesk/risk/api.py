"""HTTP API of the risk room: thin routes over risk.service."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from lenddesk.core import audit, auth
from lenddesk.core.db import utcnow
from lenddesk.core.errors import Unprocessable
from lenddesk.core.http import Id, db_session, errors
from lenddesk.core.models import User
from lenddesk.risk import schemas, service
from lenddesk.risk.models import Alert, BlacklistEntry
from lenddesk.risk.roles import (
    ALERT_HANDLERS,
    BLACKLIST_APPROVERS,
    BLACKLIST_CHECKERS,
    BLACKLIST_REQUESTERS,
    SCORE_READERS,
)

router = APIRouter(prefix="/api/v1/risk", tags=["risk"])


async def request_now(request: Request) -> datetime:
    """The current time; tests may pin it with `app.state.risk_clock`."""
    clock = getattr(request.app.state, "risk_clock", None)
    return clock() if clock is not None else utcnow()


Now = Depends(request_now)


def _alert_out(alert: Alert) -> schemas.AlertOut:
    return schemas.AlertOut(
        id=alert.id,
        rule=alert.rule,
        borrower_id=alert.borrower_id,
        status=alert.status,
        evidence=alert.evidence or {},
        created_at=alert.created_at,
        disposition=alert.disposition,
        ticket_number=alert.ticket_number,
    )


def _entry_out(entry: BlacklistEntry) -> schemas.BlacklistOut:
    return schemas.BlacklistOut(id=entry.id, kind=entry.kind, status=entry.status)


# --- events ---------------------------------------------------------------------------------------


@router.post(
    "/events",
    response_model=schemas.EventOut,
    status_code=201,
    summary="Record an activity event (login, transfer, card binding) and raise the alerts it calls for",
    # 200 instead of 201 when the (source, event_id) was already recorded: nothing new is raised.
    responses={200: {"model": schemas.EventOut, "description": "A replay: already recorded"}}
    | errors(400, 401, 403, 404, 409, 422),
)
async def post_event(
    body: schemas.EventIn,
    request: Request,
    response: Response,
    caller: auth.ChannelCaller = Depends(auth.channel_or_admin),
    now: datetime = Now,
) -> schemas.EventOut:
    result = await run_in_threadpool(
        _event_transaction, request.app.state.session_factory, body, caller.actor, now
    )
    response.status_code = 201 if result.created else 200
    return result


def _event_transaction(
    session_factory: sessionmaker[Session], body: schemas.EventIn, actor: audit.Actor, now: datetime
) -> schemas.EventOut:
    with session_factory() as session:
        try:
            return _record_and_commit(session, body, actor, now)
        except IntegrityError:
            # The same event arrived at once under another borrower's lock; the other request won.
            session.rollback()
            return _record_and_commit(session, body, actor, now)


def _record_and_commit(
    session: Session, body: schemas.EventIn, actor: audit.Actor, now: datetime
) -> schemas.EventOut:
    try:
        result = service.record_event(
            session,
            actor=actor,
            source=body.source,
            event_id=body.event_id,
            borrower_id=body.borrower_id,
            kind=body.kind,
            at=body.at,
            region=body.region,
            amount_fen=body.amount,
            device=body.device,
            success=body.success,
            now=now,
        )
        out = schemas.EventOut(id=result.event_id, created=result.created, alerts=result.alert_ids)
        session.commit()
        return out
    except BaseException:
        session.rollback()
        raise


# --- alerts ---------------------------------------------------------------------------------------


@router.get(
    "/alerts",
    response_model=list[schemas.AlertOut],
    summary="Alerts, newest first, by borrower and status",
    responses=errors(401, 403, 422),
)
def alerts(
    session: Session = db_session,
    _: User = auth.allow(*ALERT_HANDLERS),
    borrower_id: int | None = Query(default=None, ge=1, le=2**63 - 1),
    status: schemas.AlertStatus | None = None,
    limit: int = Query(default=200, ge=1, le=1000),
) -> list[schemas.AlertOut]:
    found = service.list_alerts(session, borrower_id=borrower_id, status=status, limit=limit)
    return [_alert_out(alert) for alert in found]


@router.post(
    "/alerts/{alert_id}/acknowledge",
    response_model=schemas.AlertOut,
    summary="Acknowledge an open alert (someone is looking at it)",
    responses=errors(401, 403, 404, 409, 422),
)
def acknowledge(
    alert_id: Id, session: Session = db_session, user: User = auth.allow(*ALERT_HANDLERS), now: datetime = Now
) -> schemas.AlertOut:
    return _alert_out(
        service.acknowledge_alert(session, actor=audit.Actor.of(user), alert_id=alert_id, now=now)
    )


@router.post(
    "/alerts/{alert_id}/close",
    response_model=schemas.AlertOut,
    summary="Close an alert with a disposition",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def close(
    alert_id: Id,
    body: schemas.CloseIn,
    session: Session = db_session,
    user: User = auth.allow(*ALERT_HANDLERS),
    now: datetime = Now,
) -> schemas.AlertOut:
    alert = service.close_alert(
        session,
        actor=audit.Actor.of(user),
        alert_id=alert_id,
        disposition=body.disposition,
        note=body.note,
        now=now,
    )
    return _alert_out(alert)


@router.post(
    "/alerts/{alert_id}/ticket",
    response_model=schemas.AlertOut,
    summary="Open a desk ticket for an alert (once)",
    responses=errors(401, 403, 404, 409, 422),
)
def open_ticket(
    alert_id: Id, session: Session = db_session, user: User = auth.allow(*ALERT_HANDLERS), now: datetime = Now
) -> schemas.AlertOut:
    return _alert_out(
        service.open_alert_ticket(session, actor=audit.Actor.of(user), alert_id=alert_id, now=now)
    )


# --- blacklist ------------------------------------------------------------------------------------


def _one_number(id_number: str | None, mobile: str | None) -> tuple[str, str]:
    if (id_number is None) == (mobile is None):
        raise Unprocessable(
            "请提供身份证号或手机号其中之一", "Give exactly one of id_number and mobile", code="one_number"
        )
    return ("id_number", id_number) if id_number is not None else ("mobile", mobile or "")


@router.post(
    "/blacklist",
    response_model=schemas.BlacklistOut,
    status_code=201,
    summary="Ask to blacklist an ID or mobile number (listed once a second person approves)",
    responses=errors(400, 401, 403, 409, 422),
)
def request_listing(
    body: schemas.BlacklistIn,
    session: Session = db_session,
    user: User = auth.allow(*BLACKLIST_REQUESTERS),
    now: datetime = Now,
) -> schemas.BlacklistOut:
    kind, value = _one_number(body.id_number, body.mobile)
    entry = service.request_listing(
        session, actor=audit.Actor.of(user), kind=kind, value=value, reason=body.reason, now=now
    )
    return _entry_out(entry)


@router.post(
    "/blacklist/{entry_id}/approve",
    response_model=schemas.BlacklistOut,
    summary="Approve a pending listing or removal (a second person, never the one who asked)",
    responses=errors(401, 403, 404, 409, 422),
)
def approve(
    entry_id: Id,
    session: Session = db_session,
    user: User = auth.allow(*BLACKLIST_APPROVERS),
    now: datetime = Now,
) -> schemas.BlacklistOut:
    return _entry_out(service.approve(session, actor=audit.Actor.of(user), entry_id=entry_id, now=now))


@router.post(
    "/blacklist/{entry_id}/reject",
    response_model=schemas.BlacklistOut,
    summary="Turn down a pending listing or removal (a second person, never the one who asked)",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def reject(
    entry_id: Id,
    body: schemas.RejectIn,
    session: Session = db_session,
    user: User = auth.allow(*BLACKLIST_APPROVERS),
    now: datetime = Now,
) -> schemas.BlacklistOut:
    entry = service.reject(session, actor=audit.Actor.of(user), entry_id=entry_id, note=body.note, now=now)
    return _entry_out(entry)


@router.post(
    "/blacklist/{entry_id}/remove",
    response_model=schemas.BlacklistOut,
    summary="Ask to remove a listed number (removed once a second person approves)",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def request_removal(
    entry_id: Id,
    body: schemas.RemovalIn,
    session: Session = db_session,
    user: User = auth.allow(*BLACKLIST_REQUESTERS),
    now: datetime = Now,
) -> schemas.BlacklistOut:
    entry = service.request_removal(
        session, actor=audit.Actor.of(user), entry_id=entry_id, reason=body.reason, now=now
    )
    return _entry_out(entry)


@router.get(
    "/blacklist/check",
    response_model=schemas.CheckOut,
    summary="Whether an ID or mobile number is blacklisted",
    responses=errors(401, 403, 422),
)
def check(
    session: Session = db_session,
    _: User = auth.allow(*BLACKLIST_CHECKERS),
    id_number: str | None = Query(default=None, max_length=32),
    mobile: str | None = Query(default=None, max_length=32),
) -> schemas.CheckOut:
    kind, value = _one_number(id_number, mobile)
    return schemas.CheckOut(listed=service.check(session, kind=kind, value=value))


# --- score ----------------------------------------------------------------------------------------


@router.get(
    "/borrowers/{borrower_id}/score",
    response_model=schemas.ScoreOut,
    summary="A borrower's early-warning score (0 to 100, higher is riskier) with its band and top reasons",
    responses=errors(401, 403, 404, 422),
)
def borrower_score(
    borrower_id: Id, session: Session = db_session, _: User = auth.allow(*SCORE_READERS)
) -> schemas.ScoreOut:
    found = service.borrower_score(session, borrower_id=borrower_id)
    return schemas.ScoreOut(
        borrower_id=found.borrower_id,
        score=found.score,
        band=found.band,  # type: ignore[arg-type]
        reasons=[schemas.ReasonOut(code=r.code, points=r.points, text_zh=r.text_zh) for r in found.reasons],
        scored_on=found.scored_on,
    )
