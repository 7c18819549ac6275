"""HTTP API of the desk room: thin routes over desk.service."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from lenddesk.core import audit, auth
from lenddesk.core.errors import Forbidden
from lenddesk.core.http import Id, db_session, errors, request_now
from lenddesk.core.models import User
from lenddesk.core.roles import admits
from lenddesk.desk import schemas, service
from lenddesk.desk.models import Agent
from lenddesk.desk.roles import (
    COMPLAINT_HANDLERS,
    COMPLAINT_READERS,
    COMPLAINT_SENIORS,
    CONSULT_ANSWERERS,
    DESK,
    LEADS,
)

router = APIRouter(prefix="/api/v1/desk", tags=["desk"])


Now = Depends(request_now)


# --- intake ---------------------------------------------------------------------------------------


@router.post(
    "/inbound",
    response_model=schemas.IntakeOut,
    summary="Take in a customer message from a channel (opens or updates a ticket)",
    responses=errors(400, 401, 403, 409, 422),
)
async def inbound(
    body: schemas.InboundIn,
    request: Request,
    response: Response,
    caller: auth.ChannelCaller = Depends(auth.channel_or_admin),
    now: datetime = Now,
) -> schemas.IntakeOut:
    if caller.integration in service.desk_policy().channels and caller.integration != body.channel:
        raise Forbidden(
            f"该渠道密钥只能提交 {caller.integration} 渠道的消息",
            f"This key may only post {caller.integration} messages",
            code="channel_key_mismatch",
        )
    # The hot path of every channel: one trip to a worker thread for the whole transaction (its own
    # session, committed there), instead of separate trips for the session dependency's set-up and
    # exit. On SQLite the write gate is held until COMMIT, so no event-loop trip may sit inside it.
    result = await run_in_threadpool(
        _intake_transaction, request.app.state.session_factory, body, caller, now
    )
    response.status_code = 201 if result.created else 200
    return schemas.IntakeOut(
        ticket_number=result.ticket_number, created=result.created, outcome=result.outcome
    )


def _intake_transaction(
    session_factory: sessionmaker[Session], body: schemas.InboundIn, caller: auth.ChannelCaller, now: datetime
) -> service.IntakeResult:
    with session_factory() as session:
        try:
            return _intake_and_commit(session, body, caller, now)
        except IntegrityError:
            # The same message arrived twice at once; the other request won. Answer its ticket.
            session.rollback()
            return _intake_and_commit(session, body, caller, now)


def _intake_and_commit(
    session: Session, body: schemas.InboundIn, caller: auth.ChannelCaller, now: datetime
) -> service.IntakeResult:
    result = service.intake(
        session,
        channel=body.channel,
        channel_message_id=body.channel_message_id,
        sender=body.sender,
        text=body.text,
        received_at=body.received_at or now,
        now=now,
        actor=caller.actor,
    )
    session.commit()
    return result


# --- queues and tickets ---------------------------------------------------------------------------


@router.get(
    "/tickets",
    response_model=schemas.TicketPageOut,
    summary="List tickets of a queue view, a page at a time",
    responses=errors(401, 403, 422),
)
def list_tickets(
    session: Session = db_session,
    user: User = auth.allow(*DESK, "qa", "compliance"),
    now: datetime = Now,
    view: str = "all",
    status: str | None = None,
    category: str | None = None,
    severity: str | None = None,
    channel: str | None = None,
    q: str | None = Query(default=None, max_length=100),
    after: str | None = None,
    limit: int = Query(default=50, ge=1, le=200),
) -> schemas.TicketPageOut:
    filters = service.TicketFilters(view, status, category, severity, channel, q)
    page = service.list_tickets(session, viewer=user, filters=filters, now=now, after=after, limit=limit)
    return schemas.TicketPageOut(
        items=[schemas.TicketRowOut.model_validate(row) for row in page.rows], next_cursor=page.next_cursor
    )


@router.get(
    "/tickets/{number}",
    response_model=schemas.TicketDetailOut,
    summary="A ticket with its timeline",
    responses=errors(401, 403, 404, 422),
)
def ticket_detail(
    number: str,
    session: Session = db_session,
    _: User = auth.allow(*DESK, "qa", "compliance"),
    now: datetime = Now,
) -> schemas.TicketDetailOut:
    view = service.ticket_detail(session, number=number)
    level = service.effective_level(session, view.ticket, now)
    return schemas.TicketDetailOut.build(view, verification_level=level)


@router.post(
    "/tickets/{number}/reply",
    response_model=schemas.ReplyOut,
    summary="Reply to the customer",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def reply(
    number: str,
    body: schemas.ReplyIn,
    session: Session = db_session,
    user: User = auth.allow(*DESK),
    now: datetime = Now,
) -> schemas.ReplyOut:
    result = service.reply(
        session,
        actor=audit.Actor.of(user),
        number=number,
        text=body.text,
        macro_code=body.macro,
        now=now,
        agent_name=user.display_name,
    )
    return schemas.ReplyOut(outbox_id=result.outbox.id, delivery=result.outbox.status, text=result.text)


@router.post(
    "/tickets/{number}/notes",
    response_model=schemas.NoteOut,
    status_code=201,
    summary="Add an internal note",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def add_note(
    number: str,
    body: schemas.NoteIn,
    session: Session = db_session,
    user: User = auth.allow(*DESK),
    now: datetime = Now,
) -> schemas.NoteOut:
    event = service.add_note(session, actor=audit.Actor.of(user), number=number, text=body.text, now=now)
    return schemas.NoteOut(event_id=event.id)


@router.post(
    "/tickets/{number}/status",
    response_model=schemas.ChangeOut,
    summary="Change a ticket's status",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def change_status(
    number: str,
    body: schemas.StatusIn,
    session: Session = db_session,
    user: User = auth.allow(*DESK),
    now: datetime = Now,
) -> schemas.ChangeOut:
    ticket = service.change_status(
        session, actor=audit.Actor.of(user), number=number, status=body.status, reason=body.reason, now=now
    )
    return schemas.ChangeOut.of(ticket)


@router.post(
    "/tickets/{number}/categorise",
    response_model=schemas.ChangeOut,
    summary="Set a ticket's category and severity",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def categorise(
    number: str,
    body: schemas.CategoriseIn,
    session: Session = db_session,
    user: User = auth.allow(*DESK),
    now: datetime = Now,
) -> schemas.ChangeOut:
    ticket = service.categorise_ticket(
        session,
        actor=audit.Actor.of(user),
        number=number,
        category=body.category,
        severity=body.severity,
        now=now,
    )
    return schemas.ChangeOut.of(ticket)


@router.post(
    "/tickets/{number}/assign",
    response_model=schemas.ChangeOut,
    summary="Assign a ticket to an agent or a team",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def assign(
    number: str,
    body: schemas.AssignIn,
    session: Session = db_session,
    user: User = auth.allow(*DESK),
    now: datetime = Now,
) -> schemas.ChangeOut:
    ticket = service.assign(
        session,
        actor=audit.Actor.of(user),
        number=number,
        owner_id=body.owner_id,
        team_code=body.team,
        now=now,
    )
    return schemas.ChangeOut.of(ticket)


@router.post(
    "/tickets/{number}/claim",
    response_model=schemas.ChangeOut,
    summary="Take a ticket for yourself",
    responses=errors(401, 403, 404, 409, 422),
)
def claim(
    number: str, session: Session = db_session, user: User = auth.allow(*DESK), now: datetime = Now
) -> schemas.ChangeOut:
    return schemas.ChangeOut.of(service.claim(session, actor=audit.Actor.of(user), number=number, now=now))


# --- verification, side panel, macros -------------------------------------------------------------


@router.post(
    "/tickets/{number}/verify/knowledge",
    response_model=schemas.VerificationOut,
    summary="Verify the customer by what they know",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def verify_knowledge(
    number: str,
    body: schemas.KnowledgeIn,
    session: Session = db_session,
    user: User = auth.allow(*DESK),
    now: datetime = Now,
) -> service.VerificationOutcome:
    return service.verify_knowledge(
        session,
        actor=audit.Actor.of(user),
        number=number,
        name=body.name,
        id_last6=body.id_last6,
        contract_number=body.contract_number,
        phone=body.phone,
        now=now,
    )


@router.post(
    "/tickets/{number}/verify/otp/send",
    response_model=schemas.VerificationOut,
    summary="Send a one-time code to the borrower's registered phone",
    responses=errors(401, 403, 404, 409, 422),
)
def send_otp(
    number: str, session: Session = db_session, user: User = auth.allow(*DESK), now: datetime = Now
) -> service.VerificationOutcome:
    return service.send_otp(session, actor=audit.Actor.of(user), number=number, now=now)


@router.post(
    "/tickets/{number}/verify/otp/check",
    response_model=schemas.VerificationOut,
    summary="Check a one-time code",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def check_otp(
    number: str,
    body: schemas.OtpCheckIn,
    session: Session = db_session,
    user: User = auth.allow(*DESK),
    now: datetime = Now,
) -> service.VerificationOutcome:
    return service.check_otp(session, actor=audit.Actor.of(user), number=number, code=body.code, now=now)


@router.post(
    "/tickets/{number}/verify/unlock",
    response_model=schemas.VerificationOut,
    summary="Lift the identity-check lock of the ticket's borrower (the ticket verified by code first)",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def lift_identity_lock(
    number: str,
    session: Session = db_session,
    user: User = auth.allow(*DESK),
    now: datetime = Now,
) -> service.VerificationOutcome:
    return service.lift_identity_lock(session, actor=audit.Actor.of(user), number=number, now=now)


@router.get(
    "/tickets/{number}/panel",
    response_model=schemas.PanelOut,
    summary="The borrower side panel of a ticket",
    responses=errors(401, 403, 404, 422),
)
def borrower_panel(
    number: str, session: Session = db_session, user: User = auth.allow(*DESK), now: datetime = Now
) -> schemas.PanelOut:
    panel = service.borrower_panel(session, number=number, now=now, viewer=audit.Actor.of(user))
    return schemas.PanelOut.build(panel)


@router.get(
    "/macros", response_model=list[schemas.MacroOut], summary="List reply macros", responses=errors(401, 403)
)
def list_macros(session: Session = db_session, _: User = auth.allow(*DESK, "qa")) -> list[schemas.MacroOut]:
    return [schemas.MacroOut.model_validate(m) for m in service.list_macros(session)]


@router.post(
    "/macros",
    response_model=schemas.MacroOut,
    summary="Create or change a reply macro",
    responses=errors(400, 401, 403, 409, 422),
)
def save_macro(
    body: schemas.MacroIn, session: Session = db_session, user: User = auth.allow(*LEADS)
) -> schemas.MacroOut:
    macro = service.save_macro(
        session,
        actor=audit.Actor.of(user),
        code=body.code,
        title=body.title,
        body=body.body,
        category=body.category,
    )
    return schemas.MacroOut.model_validate(macro)


@router.get(
    "/tickets/{number}/macros/{code}",
    response_model=schemas.MacroPreviewOut,
    summary="A reply macro filled in for a ticket",
    responses=errors(401, 403, 404, 422),
)
def preview_macro(
    number: str, code: str, session: Session = db_session, user: User = auth.allow(*DESK), now: datetime = Now
) -> schemas.MacroPreviewOut:
    ticket = service.get_ticket(session, number=number)
    text = service.render_macro(
        session, ticket=ticket, code=code, agent_name=user.display_name, now=now, viewer=audit.Actor.of(user)
    )
    return schemas.MacroPreviewOut(text=text)


# --- consults and follow-ups ----------------------------------------------------------------------


@router.post(
    "/tickets/{number}/consults",
    response_model=schemas.ConsultOut,
    status_code=201,
    summary="Ask another department about a ticket",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def open_consult(
    number: str,
    body: schemas.ConsultIn,
    session: Session = db_session,
    user: User = auth.allow(*DESK),
    now: datetime = Now,
) -> schemas.ConsultOut:
    consult = service.open_consult(
        session,
        actor=audit.Actor.of(user),
        number=number,
        department=body.department,
        question=body.question,
        now=now,
    )
    return schemas.ConsultOut.model_validate(consult)


@router.post(
    "/consults/{consult_id}/answer",
    response_model=schemas.ConsultOut,
    summary="Answer a consultation",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def answer_consult(
    consult_id: Id,
    body: schemas.ConsultAnswerIn,
    session: Session = db_session,
    user: User = auth.allow(*CONSULT_ANSWERERS),
    now: datetime = Now,
) -> schemas.ConsultOut:
    consult = service.answer_consult(
        session, actor=audit.Actor.of(user), consult_id=consult_id, answer=body.answer, now=now
    )
    return schemas.ConsultOut.model_validate(consult)


@router.post(
    "/tickets/{number}/follow-ups",
    response_model=schemas.FollowUpOut,
    status_code=201,
    summary="Schedule a follow-up on a ticket",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def add_follow_up(
    number: str,
    body: schemas.FollowUpIn,
    session: Session = db_session,
    user: User = auth.allow(*DESK),
    now: datetime = Now,
) -> schemas.FollowUpOut:
    follow_up = service.add_follow_up(
        session,
        actor=audit.Actor.of(user),
        number=number,
        due_at=body.due_at,
        note=body.note,
        owner_id=body.owner_id,
        now=now,
    )
    return schemas.FollowUpOut.model_validate(follow_up)


@router.post(
    "/follow-ups/{follow_up_id}/done",
    response_model=schemas.FollowUpOut,
    summary="Mark a follow-up done",
    responses=errors(401, 403, 404, 409, 422),
)
def complete_follow_up(
    follow_up_id: Id, session: Session = db_session, user: User = auth.allow(*DESK), now: datetime = Now
) -> schemas.FollowUpOut:
    follow_up = service.complete_follow_up(
        session, actor=audit.Actor.of(user), follow_up_id=follow_up_id, now=now
    )
    return schemas.FollowUpOut.model_validate(follow_up)


@router.get(
    "/follow-ups/due-today",
    response_model=list[schemas.FollowUpRowOut],
    summary="Follow-ups due today",
    responses=errors(401, 403, 422),
)
def follow_ups_due_today(
    session: Session = db_session,
    user: User = auth.allow(*DESK),
    now: datetime = Now,
    everyone: bool = False,
) -> list[schemas.FollowUpRowOut]:
    owner = None if everyone and admits(user.role, LEADS) else user.id
    rows = service.follow_ups_due(session, owner_id=owner, now=now)
    return [schemas.FollowUpRowOut.model_validate(row) for row in rows]


# --- complaints -----------------------------------------------------------------------------------


def _complaint_out(session: Session, number: str) -> schemas.ComplaintOut:
    view = service.ticket_detail(session, number=number)
    assert view.complaint is not None
    return schemas.ComplaintOut.build(view.complaint, view.complaint_stages, view.extensions)


@router.post(
    "/tickets/{number}/complaint",
    response_model=schemas.ComplaintOut,
    status_code=201,
    summary="Open a complaint case on a ticket",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def open_complaint(
    number: str,
    body: schemas.ComplaintOpenIn,
    session: Session = db_session,
    user: User = auth.allow(*COMPLAINT_HANDLERS),
    now: datetime = Now,
) -> schemas.ComplaintOut:
    service.open_complaint(
        session, actor=audit.Actor.of(user), number=number, source=body.source, content=body.content, now=now
    )
    return _complaint_out(session, number)


@router.post(
    "/tickets/{number}/complaint/stages",
    response_model=schemas.ComplaintOut,
    summary="Record the next stage of a complaint",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def advance_complaint(
    number: str,
    body: schemas.StageIn,
    session: Session = db_session,
    user: User = auth.allow(*COMPLAINT_HANDLERS),
    now: datetime = Now,
) -> schemas.ComplaintOut:
    service.advance_complaint(
        session, actor=audit.Actor.of(user), number=number, stage=body.stage, content=body.content, now=now
    )
    return _complaint_out(session, number)


@router.post(
    "/tickets/{number}/complaint/extend",
    response_model=schemas.ComplaintOut,
    summary="Extend a complaint's resolution deadline",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def extend_complaint(
    number: str,
    body: schemas.ExtendIn,
    session: Session = db_session,
    user: User = auth.allow(*COMPLAINT_HANDLERS),
    now: datetime = Now,
) -> schemas.ComplaintOut:
    service.extend_complaint(
        session, actor=audit.Actor.of(user), number=number, days=body.days, reason=body.reason, now=now
    )
    return _complaint_out(session, number)


@router.post(
    "/tickets/{number}/complaint/extension/approve",
    response_model=schemas.ComplaintOut,
    summary="Approve the pending complaint extension (a second, senior person)",
    responses=errors(401, 403, 404, 409, 422),
)
def approve_extension(
    number: str,
    session: Session = db_session,
    user: User = auth.allow(*COMPLAINT_SENIORS),
    now: datetime = Now,
) -> schemas.ComplaintOut:
    service.approve_extension(session, actor=audit.Actor.of(user), number=number, now=now)
    return _complaint_out(session, number)


@router.post(
    "/tickets/{number}/complaint/extension/reject",
    response_model=schemas.ComplaintOut,
    summary="Turn down the pending complaint extension, with a reason",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def reject_extension(
    number: str,
    body: schemas.RejectExtensionIn,
    session: Session = db_session,
    user: User = auth.allow(*COMPLAINT_SENIORS),
    now: datetime = Now,
) -> schemas.ComplaintOut:
    service.reject_extension(session, actor=audit.Actor.of(user), number=number, reason=body.reason, now=now)
    return _complaint_out(session, number)


@router.post(
    "/tickets/{number}/complaint/close",
    response_model=schemas.ComplaintOut,
    summary="Close a complaint case with its root cause",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def close_complaint(
    number: str,
    body: schemas.CloseComplaintIn,
    session: Session = db_session,
    user: User = auth.allow(*COMPLAINT_HANDLERS),
    now: datetime = Now,
) -> schemas.ComplaintOut:
    service.close_complaint(
        session, actor=audit.Actor.of(user), number=number, root_cause=body.root_cause, now=now
    )
    return _complaint_out(session, number)


@router.get(
    "/complaints/summary",
    response_model=schemas.ComplaintSummaryOut,
    summary="Complaint figures: open, due and overdue",
    responses=errors(401),
)
def complaint_summary(
    session: Session = db_session, _: User = auth.allow(*COMPLAINT_READERS), now: datetime = Now
) -> schemas.ComplaintSummaryOut:
    return schemas.ComplaintSummaryOut.model_validate(service.complaint_summary(session, now=now))


@router.get(
    "/complaints/summary.csv",
    response_class=Response,
    summary="Complaint figures as CSV",
    responses=errors(401),
)
def complaint_summary_csv(
    session: Session = db_session, _: User = auth.allow(*COMPLAINT_READERS), now: datetime = Now
) -> Response:
    text = service.complaint_summary_csv(service.complaint_summary(session, now=now))
    return Response(
        content=text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="complaints-summary.csv"'},
    )


# --- teams, agents, board, SLA policies, outbox, notifications ------------------------------------


@router.get("/teams", response_model=list[schemas.TeamOut], summary="List teams", responses=errors(401, 403))
def list_teams(session: Session = db_session, _: User = auth.allow(*DESK, "qa")) -> list[schemas.TeamOut]:
    return [schemas.TeamOut.model_validate(team) for team in service.list_teams(session)]


@router.get(
    "/agents",
    response_model=list[schemas.AgentOut],
    summary="List agents and their load",
    responses=errors(401, 403),
)
def list_agents(session: Session = db_session, _: User = auth.allow(*DESK)) -> list[schemas.AgentOut]:
    return [schemas.AgentOut.model_validate(agent) for agent in service.list_agents(session)]


@router.put(
    "/agents/{user_id}/status",
    response_model=schemas.AgentStatusOut,
    summary="Set an agent's status, capacity or team",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def set_agent_status(
    user_id: Id,
    body: schemas.AgentStatusIn,
    session: Session = db_session,
    user: User = auth.allow(*DESK),
    now: datetime = Now,
) -> Agent:
    return service.set_agent_status(
        session,
        actor=audit.Actor.of(user),
        user_id=user_id,
        status=body.status,
        capacity=body.capacity,
        team_code=body.team,
        now=now,
    )


@router.get(
    "/board",
    response_model=schemas.BoardOut,
    summary="Team board: load per team and agent",
    responses=errors(401, 403),
)
def team_board(session: Session = db_session, _: User = auth.allow(*LEADS)) -> schemas.BoardOut:
    return schemas.BoardOut(
        teams=[schemas.TeamLoadOut.model_validate(t) for t in service.team_board(session)],
        agents=[schemas.AgentOut.model_validate(a) for a in service.list_agents(session)],
    )


@router.get(
    "/sla-policies",
    response_model=list[schemas.SlaPolicyOut],
    summary="List SLA policies",
    responses=errors(401, 403),
)
def list_sla_policies(
    session: Session = db_session, _: User = auth.allow(*DESK)
) -> list[schemas.SlaPolicyOut]:
    return [schemas.SlaPolicyOut.model_validate(p) for p in service.list_sla_policies(session)]


@router.put(
    "/sla-policies",
    response_model=schemas.SlaPolicyOut,
    summary="Create or change an SLA policy",
    responses=errors(400, 401, 403, 409, 422),
)
def save_sla_policy(
    body: schemas.SlaPolicyIn, session: Session = db_session, user: User = auth.allow(*LEADS)
) -> schemas.SlaPolicyOut:
    row = service.save_sla_policy(
        session,
        actor=audit.Actor.of(user),
        category=body.category,
        severity=body.severity,
        first_response=body.first_response_minutes,
        resolution=body.resolution_minutes,
    )
    return schemas.SlaPolicyOut.model_validate(row)


@router.get(
    "/notifications",
    response_model=list[schemas.NotificationOut],
    summary="The signed-in user's notifications",
    responses=errors(401, 403),
)
def notifications(
    session: Session = db_session, user: User = auth.allow(*DESK)
) -> list[schemas.NotificationOut]:
    return [
        schemas.NotificationOut.model_validate(n) for n in service.notifications_for(session, user_id=user.id)
    ]


@router.post(
    "/notifications/{notification_id}/read",
    response_model=schemas.NotificationOut,
    summary="Mark one of my notifications read",
    responses=errors(401, 403, 404, 422),
)
def mark_notification_read(
    notification_id: int = Path(ge=1, le=2**63 - 1),
    session: Session = db_session,
    user: User = auth.allow(*DESK),
    now: datetime = Now,
) -> schemas.NotificationOut:
    notification = service.mark_notification_read(
        session, actor=audit.Actor.of(user), notification_id=notification_id, now=now
    )
    return schemas.NotificationOut.model_validate(notification)
