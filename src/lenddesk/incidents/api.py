"""HTTP API of the incidents room (thin routes over incidents.service) and the public status."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.orm import Session

from lenddesk.core import audit, auth
from lenddesk.core.http import Id, db_session, errors, request_now
from lenddesk.core.models import User
from lenddesk.incidents import rules, schemas, service
from lenddesk.incidents.roles import INCIDENT_HANDLERS, INCIDENT_READERS

router = APIRouter(tags=["incidents"])
Now = Depends(request_now)
ItemCode = Path(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")


def incident_out(view: service.IncidentView) -> schemas.IncidentOut:
    incident = view.incident
    return schemas.IncidentOut(
        id=incident.id,
        kind=incident.kind,  # type: ignore[arg-type]
        title=incident.title,
        public_notice=incident.public_notice,
        pause_outbound=incident.pause_outbound,
        products=incident.products,
        status=incident.status,  # type: ignore[arg-type]
        declared_by=incident.declared_by,
        declared_at=incident.declared_at,
        resolved_by=incident.resolved_by,
        resolved_at=incident.resolved_at,
        summary=incident.summary,
        checklist=[
            schemas.ChecklistItemOut(
                code=i.code,
                title=i.title,
                required=i.required,
                done=i.done,
                done_by=i.done_by,
                done_at=i.done_at,
            )
            for i in view.checklist
        ],
        updates=[
            schemas.UpdateOut(
                id=u.id,
                text=u.text,
                broadcast=u.broadcast,
                recipients=u.recipients,
                author=u.author,
                created_at=u.created_at,
            )
            for u in view.updates
        ],
        timeline=[schemas.TimelineOut(at=e.at, what=e.what_zh, who=e.who) for e in view.timeline],
    )


def status_out(views: list[service.IncidentView]) -> schemas.StatusOut:
    return schemas.StatusOut(
        operational=not views,
        incidents=[
            schemas.PublicIncidentOut(
                id=v.incident.id,
                kind=v.incident.kind,  # type: ignore[arg-type]
                kind_zh=rules.KIND_LABELS_ZH[v.incident.kind],
                title=v.incident.title,
                public_notice=v.incident.public_notice,
                since=v.incident.declared_at,
                updates=[schemas.PublicUpdateOut(text=u.text, at=u.created_at) for u in reversed(v.updates)],
            )
            for v in views
        ],
    )


@router.post(
    "/api/v1/incidents",
    response_model=schemas.IncidentOut,
    status_code=201,
    summary="Declare an incident; with pause_outbound it holds reminders and collection contacts in scope",
    responses=errors(400, 401, 403, 422),
)
def declare(
    body: schemas.DeclareIn,
    session: Session = db_session,
    user: User = auth.allow(*INCIDENT_HANDLERS),
    now: datetime = Now,
) -> schemas.IncidentOut:
    incident = service.declare(
        session,
        actor=audit.Actor.of(user),
        kind=body.kind,
        title=body.title,
        public_notice=body.public_notice,
        pause_outbound=body.pause_outbound,
        products=body.products,
        now=now,
    )
    return incident_out(service.incident_view(session, incident_id=incident.id))


@router.get(
    "/api/v1/incidents",
    response_model=list[schemas.IncidentListItem],
    summary="Incidents, newest first",
    responses=errors(401, 403, 422),
)
def list_incidents(
    session: Session = db_session,
    _: User = auth.allow(*INCIDENT_READERS),
    status: Literal["active", "resolved"] | None = None,
    limit: int = Query(default=100, ge=1, le=500),
) -> list[schemas.IncidentListItem]:
    return [
        schemas.IncidentListItem(
            id=i.id,
            kind=i.kind,
            title=i.title,
            status=i.status,
            pause_outbound=i.pause_outbound,
            declared_at=i.declared_at,  # type: ignore[arg-type]
        )
        for i in service.list_incidents(session, status=status, limit=limit)
    ]


@router.get(
    "/api/v1/incidents/{incident_id}",
    response_model=schemas.IncidentOut,
    summary="One incident with its checklist, updates and timeline",
    responses=errors(401, 403, 404, 422),
)
def get_incident(
    incident_id: Id, session: Session = db_session, _: User = auth.allow(*INCIDENT_READERS)
) -> schemas.IncidentOut:
    return incident_out(service.incident_view(session, incident_id=incident_id))


@router.post(
    "/api/v1/incidents/{incident_id}/checklist/{code}",
    response_model=schemas.IncidentOut,
    summary="Mark a checklist item of an active incident done",
    responses=errors(401, 403, 404, 409, 422),
)
def complete_item(
    incident_id: Id,
    code: str = ItemCode,
    session: Session = db_session,
    user: User = auth.allow(*INCIDENT_HANDLERS),
    now: datetime = Now,
) -> schemas.IncidentOut:
    service.complete_item(session, actor=audit.Actor.of(user), incident_id=incident_id, code=code, now=now)
    return incident_out(service.incident_view(session, incident_id=incident_id))


@router.post(
    "/api/v1/incidents/{incident_id}/updates",
    response_model=schemas.IncidentOut,
    summary="Publish an update: on the status page and, when broadcast, to every affected borrower once",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def publish_update(
    incident_id: Id,
    body: schemas.UpdateIn,
    session: Session = db_session,
    user: User = auth.allow(*INCIDENT_HANDLERS),
    now: datetime = Now,
) -> schemas.IncidentOut:
    service.publish_update(
        session,
        actor=audit.Actor.of(user),
        incident_id=incident_id,
        text=body.text,
        broadcast=body.broadcast,
        reference=body.reference,
        now=now,
    )
    return incident_out(service.incident_view(session, incident_id=incident_id))


@router.post(
    "/api/v1/incidents/{incident_id}/resolve",
    response_model=schemas.IncidentOut,
    summary="Resolve an incident (409 while a required checklist item is open; a leak: a second person)",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def resolve(
    incident_id: Id,
    body: schemas.ResolveIn,
    session: Session = db_session,
    user: User = auth.allow(*INCIDENT_HANDLERS),
    now: datetime = Now,
) -> schemas.IncidentOut:
    service.resolve(
        session, actor=audit.Actor.of(user), incident_id=incident_id, summary=body.summary, now=now
    )
    return incident_out(service.incident_view(session, incident_id=incident_id))


@router.get(
    "/api/v1/status",
    response_model=schemas.StatusOut,
    summary="Public service status: the active incidents with their public notice and updates (no sign-in)",
    dependencies=[auth.public()],
)
def public_status(session: Session = db_session) -> schemas.StatusOut:
    return status_out(service.active_incidents(session))
