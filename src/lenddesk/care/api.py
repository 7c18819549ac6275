"""HTTP API of the care room: thin routes over care.service."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.orm import Session

from lenddesk.care import schemas, service
from lenddesk.care.models import Campaign
from lenddesk.care.roles import (
    CAMPAIGN_APPROVERS,
    CAMPAIGN_AUTHORS,
    CAMPAIGN_READERS,
    PROFILE_EDITORS,
    PROFILE_READERS,
    REVISIT_WORKERS,
)
from lenddesk.core import audit, auth
from lenddesk.core.http import Id, db_session, errors, request_now
from lenddesk.core.models import User
from lenddesk.ledger import service as ledger

router = APIRouter(prefix="/api/v1/care", tags=["care"])
Now = Depends(request_now)
Case = Query(default=None, max_length=40, description="The case (ticket number) a case-bound role works on")


def _may_open(session: Session, user: User, borrower_id: int, case: str | None) -> audit.Actor:
    actor = audit.Actor.of(user)
    ledger.check_borrower_access(session, viewer=actor, borrower_id=borrower_id, case_reference=case)
    return actor


# --- profile -------------------------------------------------------------------------------------------


def _preferences_out(found: service.Preferences) -> schemas.PreferencesIO:
    window = (
        schemas.WindowIO(start=found.window_start, end=found.window_end)
        if found.window_start and found.window_end
        else None
    )
    return schemas.PreferencesIO(
        channel=found.channel,  # type: ignore[arg-type]
        contact_window=window,
        topics=list(found.topics),
        personalised=found.personalised,
    )


@router.get(
    "/borrowers/{borrower_id}/preferences",
    response_model=schemas.PreferencesIO,
    summary="A borrower's contact channel and window, topics and personalisation",
    responses=errors(401, 403, 404, 422),
)
def get_preferences(
    borrower_id: Id,
    session: Session = db_session,
    user: User = auth.allow(*PROFILE_READERS),
    case: str | None = Case,
) -> schemas.PreferencesIO:
    _may_open(session, user, borrower_id, case)
    return _preferences_out(service.get_preferences(session, borrower_id=borrower_id))


@router.put(
    "/borrowers/{borrower_id}/preferences",
    response_model=schemas.PreferencesIO,
    summary="Replace a borrower's preferences (reminders and the collections plan read channel and window)",
    responses=errors(400, 401, 403, 404, 422),
)
def put_preferences(
    borrower_id: Id,
    body: schemas.PreferencesIO,
    session: Session = db_session,
    user: User = auth.allow(*PROFILE_EDITORS),
    case: str | None = Case,
    now: datetime = Now,
) -> schemas.PreferencesIO:
    actor = _may_open(session, user, borrower_id, case)
    window = body.contact_window
    found = service.set_preferences(
        session,
        actor=actor,
        borrower_id=borrower_id,
        channel=body.channel,
        window_start=window.start if window else None,
        window_end=window.end if window else None,
        topics=body.topics,
        personalised=body.personalised,
        now=now,
    )
    return _preferences_out(found)


# --- consents ------------------------------------------------------------------------------------------


def _consent_out(consent: service.ConsentView) -> schemas.ConsentOut:
    return schemas.ConsentOut(**asdict(consent), active=consent.active)


@router.post(
    "/borrowers/{borrower_id}/consents",
    response_model=schemas.ConsentOut,
    status_code=201,
    summary="Record a consent to marketing or education messages on a channel, with its evidence",
    responses={200: {"model": schemas.ConsentOut, "description": "Already consented: unchanged"}}
    | errors(400, 401, 403, 404, 422),
)
def post_consent(
    borrower_id: Id,
    body: schemas.ConsentIn,
    response: Response,
    session: Session = db_session,
    user: User = auth.allow(*PROFILE_EDITORS),
    case: str | None = Case,
    now: datetime = Now,
) -> schemas.ConsentOut:
    actor = _may_open(session, user, borrower_id, case)
    consent, created = service.grant_consent(
        session,
        actor=actor,
        borrower_id=borrower_id,
        purpose=body.purpose,
        channel=body.channel,
        evidence=body.evidence,
        now=now,
    )
    response.status_code = 201 if created else 200
    return _consent_out(consent)


@router.get(
    "/borrowers/{borrower_id}/consents",
    response_model=list[schemas.ConsentOut],
    summary="A borrower's consents, revoked ones included while they are kept",
    responses=errors(401, 403, 404, 422),
)
def get_consents(
    borrower_id: Id,
    session: Session = db_session,
    user: User = auth.allow(*PROFILE_READERS),
    case: str | None = Case,
) -> list[schemas.ConsentOut]:
    actor = _may_open(session, user, borrower_id, case)
    found = service.list_consents(session, borrower_id=borrower_id)
    audit.record(session, actor, "care.consents.read", ("borrower", borrower_id), None, {"count": len(found)})
    return [_consent_out(consent) for consent in found]


@router.post(
    "/borrowers/{borrower_id}/consents/{consent_id}/revoke",
    response_model=schemas.ConsentOut,
    summary="Revoke a consent (kept with its evidence at least five months)",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def revoke_consent(
    borrower_id: Id,
    consent_id: Id,
    body: schemas.RevokeIn,
    session: Session = db_session,
    user: User = auth.allow(*PROFILE_EDITORS),
    case: str | None = Case,
    now: datetime = Now,
) -> schemas.ConsentOut:
    actor = _may_open(session, user, borrower_id, case)
    consent = service.revoke_consent(
        session, actor=actor, borrower_id=borrower_id, consent_id=consent_id, evidence=body.evidence, now=now
    )
    return _consent_out(consent)


# --- campaigns -----------------------------------------------------------------------------------------


def _campaign_out(campaign: Campaign) -> schemas.CampaignOut:
    return schemas.CampaignOut(
        id=campaign.id,
        name=campaign.name,
        kind=campaign.kind,
        channel=campaign.channel,
        text=campaign.text,
        audience=dict(campaign.audience),
        send_on=campaign.send_on,
        festival=campaign.festival,
        status=campaign.status,
        created_by=campaign.created_by,
        approved_by=campaign.approved_by,
        launches=campaign.launches,
        sent=campaign.sent,
    )


@router.post(
    "/campaigns",
    response_model=schemas.CampaignOut,
    status_code=201,
    summary="Draft a care campaign (texts are checked: the guard, no blacklist word, marketing footers)",
    responses=errors(400, 401, 403, 422),
)
def post_campaign(
    body: schemas.CampaignIn,
    session: Session = db_session,
    user: User = auth.allow(*CAMPAIGN_AUTHORS),
    now: datetime = Now,
) -> schemas.CampaignOut:
    campaign = service.create_campaign(
        session,
        actor=audit.Actor.of(user),
        name=body.name,
        kind=body.kind,
        channel=body.channel,
        text=body.text,
        audience=body.audience.model_dump(exclude_none=True),
        send_on=body.send_on,
        festival=body.festival,
        now=now,
    )
    return _campaign_out(campaign)


@router.get(
    "/campaigns",
    response_model=list[schemas.CampaignOut],
    summary="Campaigns, newest first",
    responses=errors(401, 403, 422),
)
def get_campaigns(
    session: Session = db_session,
    _: User = auth.allow(*CAMPAIGN_READERS),
    status: str | None = Query(default=None, pattern="^(draft|approved|launched)$"),
    limit: int = Query(default=100, ge=1, le=500),
) -> list[schemas.CampaignOut]:
    return [_campaign_out(c) for c in service.list_campaigns(session, status=status, limit=limit)]


@router.get(
    "/campaigns/{campaign_id}",
    response_model=schemas.CampaignOut,
    summary="One campaign",
    responses=errors(401, 403, 404, 422),
)
def get_campaign(
    campaign_id: Id, session: Session = db_session, _: User = auth.allow(*CAMPAIGN_READERS)
) -> schemas.CampaignOut:
    return _campaign_out(service.get_campaign(session, campaign_id=campaign_id))


@router.get(
    "/campaigns/{campaign_id}/preview",
    response_model=schemas.PreviewOut,
    summary="Who the campaign would reach now: eligible, and how many are left out for which reason",
    responses=errors(401, 403, 404, 422),
)
def get_preview(
    campaign_id: Id,
    session: Session = db_session,
    _: User = auth.allow(*CAMPAIGN_READERS),
    now: datetime = Now,
) -> schemas.PreviewOut:
    return schemas.PreviewOut(**asdict(service.preview(session, campaign_id=campaign_id, now=now)))


@router.post(
    "/campaigns/{campaign_id}/approve",
    response_model=schemas.CampaignOut,
    summary="Approve a draft (compliance; never its creator)",
    responses=errors(401, 403, 404, 409, 422),
)
def approve(
    campaign_id: Id,
    session: Session = db_session,
    user: User = auth.allow(*CAMPAIGN_APPROVERS),
    now: datetime = Now,
) -> schemas.CampaignOut:
    return _campaign_out(
        service.approve_campaign(session, actor=audit.Actor.of(user), campaign_id=campaign_id, now=now)
    )


@router.post(
    "/campaigns/{campaign_id}/launch",
    response_model=schemas.LaunchOut,
    summary="Queue an approved campaign to everyone eligible now (each borrower once, through the outbox)",
    responses=errors(401, 403, 404, 409, 422),
)
def launch(
    campaign_id: Id,
    session: Session = db_session,
    user: User = auth.allow(*CAMPAIGN_AUTHORS),
    now: datetime = Now,
) -> schemas.LaunchOut:
    result = service.launch_campaign(session, actor=audit.Actor.of(user), campaign_id=campaign_id, now=now)
    return schemas.LaunchOut(**asdict(result))


@router.get(
    "/campaigns/{campaign_id}/results",
    response_model=schemas.ResultsOut,
    summary="What a campaign sent and how delivery went",
    responses=errors(401, 403, 404, 422),
)
def results(
    campaign_id: Id, session: Session = db_session, _: User = auth.allow(*CAMPAIGN_READERS)
) -> schemas.ResultsOut:
    return schemas.ResultsOut(**asdict(service.campaign_results(session, campaign_id=campaign_id)))


# --- revisits ------------------------------------------------------------------------------------------


@router.get(
    "/revisits",
    response_model=list[schemas.RevisitOut],
    summary="Revisits: by default the caller's open ones, soonest due first",
    responses=errors(401, 403, 422),
)
def get_revisits(
    session: Session = db_session,
    user: User = auth.allow(*REVISIT_WORKERS),
    status: str | None = Query(default="open", pattern="^(open|done)$"),
    everyone: bool = Query(default=False, description="Every owner's (team leads, compliance)"),
) -> list[schemas.RevisitOut]:
    owner = None if everyone and user.role in ("team_lead", "compliance", "admin") else user.id
    return [
        schemas.RevisitOut(**asdict(r)) for r in service.list_revisits(session, owner_id=owner, status=status)
    ]


@router.post(
    "/revisits/{revisit_id}/done",
    response_model=schemas.RevisitOut,
    summary="Record how a revisit went and mark it done (its owner, a team lead or compliance)",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def revisit_done(
    revisit_id: Id,
    body: schemas.RevisitDoneIn,
    session: Session = db_session,
    user: User = auth.allow(*REVISIT_WORKERS),
    now: datetime = Now,
) -> schemas.RevisitOut:
    found = service.complete_revisit(
        session, actor=audit.Actor.of(user), revisit_id=revisit_id, outcome=body.outcome, now=now
    )
    return schemas.RevisitOut(**asdict(found))
