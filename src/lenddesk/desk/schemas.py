"""Request and response models of the desk API. Money leaves as yuan strings (YuanOut)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lenddesk.core.calendar import SHANGHAI
from lenddesk.core.money import YuanOut
from lenddesk.desk import categorise, complaint_stages


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _aware(value: datetime | None) -> datetime | None:
    # A time without a zone is Shanghai wall-clock time, as channel gateways in China send it.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=SHANGHAI)
    return value


# --- intake ---------------------------------------------------------------------------------------


class InboundIn(Strict):
    channel: str = Field(max_length=16)
    channel_message_id: str = Field(max_length=128)
    sender: str = Field(max_length=254)
    text: str = Field(max_length=20000)
    received_at: datetime | None = None

    _zone = field_validator("received_at")(_aware)


class IntakeOut(BaseModel):
    ticket_number: str
    created: bool
    outcome: str


# --- tickets --------------------------------------------------------------------------------------


class TicketRowOut(Out):
    number: str
    subject: str
    channel: str
    sender_masked: str
    status: str
    category: str
    severity: str
    sla_state: str
    due_at: datetime
    owner_id: int | None
    owner_name: str | None
    team_id: int | None
    team_name: str | None
    verification_level: str
    updated_at: datetime


class TicketPageOut(BaseModel):
    items: list[TicketRowOut]
    next_cursor: str | None


class EventOut(Out):
    id: int
    at: datetime
    kind: str
    actor_name: str
    body: str | None
    data: dict[str, Any] | None


class SlaOut(BaseModel):
    state: str
    due_at: datetime
    at_risk_at: datetime
    first_response_due: datetime
    first_response_at: datetime | None
    resolution_due: datetime
    paused: bool
    paused_minutes: int
    provisional: bool


class StageOut(Out):
    stage: str
    actor_name: str
    at: datetime
    content: str


class ExtensionOut(Out):
    id: int
    days: int
    reason: str
    status: str  # applied, pending (waits for a second senior person), approved, rejected
    requested_by: str
    approved_by: str | None
    approved_at: datetime | None
    at: datetime
    new_due_at: datetime


class ComplaintOut(BaseModel):
    id: int
    source: str
    flagged: bool
    received_at: datetime
    stage: str
    next_stage: str | None
    ack_due_at: datetime
    acknowledged_at: datetime | None
    resolution_days: int
    resolution_due_at: datetime
    root_cause: str | None
    closed_at: datetime | None
    stages: list[StageOut]
    extensions: list[ExtensionOut]

    @classmethod
    def build(cls, complaint: Any, stages: list[Any], extensions: list[Any]) -> ComplaintOut:
        return cls(
            id=complaint.id,
            source=complaint.source,
            flagged=complaint.flagged,
            received_at=complaint.received_at,
            stage=complaint.stage,
            next_stage=complaint_stages.next_stage([s.stage for s in stages]),
            ack_due_at=complaint.ack_due_at,
            acknowledged_at=complaint.acknowledged_at,
            resolution_days=complaint.resolution_days,
            resolution_due_at=complaint.resolution_due_at,
            root_cause=complaint.root_cause,
            closed_at=complaint.closed_at,
            stages=[StageOut.model_validate(s) for s in stages],
            extensions=[ExtensionOut.model_validate(e) for e in extensions],
        )


class ConsultOut(Out):
    id: int
    department: str
    question: str
    status: str
    requested_by: str
    requested_at: datetime
    due_at: datetime
    answer: str | None
    answered_by: str | None
    answered_at: datetime | None


class FollowUpOut(Out):
    id: int
    due_at: datetime
    note: str
    owner_id: int
    done: bool
    done_at: datetime | None


class TicketOut(BaseModel):
    number: str
    channel: str
    sender_masked: str
    subject: str
    category: str
    category_label: str
    category_confirmed: bool
    severity: str
    status: str
    owner_id: int | None
    owner_name: str | None
    team_id: int | None
    team_name: str | None
    tags: list[str]
    flags: list[str]
    verification_level: str
    borrower_identified: bool
    sla: SlaOut
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None


class TicketDetailOut(TicketOut):
    timeline: list[EventOut]
    complaint: ComplaintOut | None
    consults: list[ConsultOut]
    follow_ups: list[FollowUpOut]

    @classmethod
    def build(cls, view: Any, *, verification_level: str) -> TicketDetailOut:
        t = view.ticket
        return cls(
            number=t.number,
            channel=t.channel,
            sender_masked=view.sender_masked,
            subject=t.subject,
            category=t.category,
            category_label=categorise.CATEGORIES.get(t.category, t.category),
            category_confirmed=t.category_confirmed,
            severity=t.severity,
            status=t.status,
            owner_id=t.owner_id,
            owner_name=view.owner_name,
            team_id=t.team_id,
            team_name=view.team_name,
            tags=t.tags or [],
            flags=t.flags or [],
            verification_level=verification_level,  # as it holds now: a verification lapses
            borrower_identified=t.borrower_id is not None,
            sla=SlaOut(
                state=t.sla_state,
                due_at=t.due_at,
                at_risk_at=t.at_risk_at,
                first_response_due=t.first_response_due,
                first_response_at=t.first_response_at,
                resolution_due=t.resolution_due,
                paused=t.paused_since is not None,
                paused_minutes=t.paused_minutes,
                provisional=t.sla_provisional,
            ),
            created_at=t.created_at,
            updated_at=t.updated_at,
            resolved_at=t.resolved_at,
            closed_at=t.closed_at,
            timeline=[EventOut.model_validate(e) for e in view.events],
            complaint=ComplaintOut.build(view.complaint, view.complaint_stages, view.extensions)
            if view.complaint
            else None,
            consults=[ConsultOut.model_validate(c) for c in view.consults],
            follow_ups=[FollowUpOut.model_validate(f) for f in view.follow_ups],
        )


class ChangeOut(BaseModel):
    """What most ticket actions answer: the ticket's state after the change."""

    number: str
    status: str
    owner_id: int | None
    team_id: int | None
    category: str
    severity: str
    verification_level: str
    sla_state: str
    due_at: datetime

    @classmethod
    def of(cls, ticket: Any) -> ChangeOut:
        return cls(
            number=ticket.number,
            status=ticket.status,
            owner_id=ticket.owner_id,
            team_id=ticket.team_id,
            category=ticket.category,
            severity=ticket.severity,
            verification_level=ticket.verification_level,
            sla_state=ticket.sla_state,
            due_at=ticket.due_at,
        )


class ReplyIn(Strict):
    text: str | None = Field(default=None, max_length=5000)
    macro: str | None = None


class ReplyOut(BaseModel):
    outbox_id: int
    delivery: str
    text: str


class NoteIn(Strict):
    text: str = Field(max_length=5000)


class NoteOut(BaseModel):
    event_id: int


class StatusIn(Strict):
    status: str
    reason: str | None = Field(default=None, max_length=500)


class CategoriseIn(Strict):
    category: str
    severity: str


class AssignIn(Strict):
    owner_id: int | None = None
    team: str | None = None


# --- verification, side panel, macros -------------------------------------------------------------


class KnowledgeIn(Strict):
    name: str = Field(max_length=64)
    id_last6: str = Field(min_length=6, max_length=6)
    contract_number: str | None = Field(default=None, max_length=32)
    phone: str | None = Field(default=None, max_length=20)


class OtpCheckIn(Strict):
    code: str = Field(max_length=10)


class VerificationOut(Out):
    verified: bool
    level: str
    reason: str
    attempts_left: int | None
    expires_at: datetime | None
    sent_to: str | None


class LoanOut(BaseModel):
    contract_number: str
    status: str
    bucket: str
    days_past_due: int
    principal: YuanOut
    outstanding_principal: YuanOut
    next_due_on: date | None
    next_due_amount: YuanOut
    overdue_amount: YuanOut


class AccountOut(BaseModel):
    borrower_id: int
    overdue_amount: YuanOut
    loans: list[LoanOut]


class PanelOut(BaseModel):
    identified: bool
    verification_level: str
    required_level: str
    masked_name: str | None
    masked_mobile: str | None
    account: AccountOut | None

    @classmethod
    def build(cls, panel: Any) -> PanelOut:
        account = None
        if panel.account is not None:
            account = AccountOut(
                borrower_id=panel.account.borrower_id,
                overdue_amount=panel.account.overdue_amount_fen,
                loans=[
                    LoanOut(
                        contract_number=loan.contract_number,
                        status=loan.status,
                        bucket=loan.bucket,
                        days_past_due=loan.days_past_due,
                        principal=loan.principal_fen,
                        outstanding_principal=loan.outstanding_principal_fen,
                        next_due_on=loan.next_due_on,
                        next_due_amount=loan.next_due_amount_fen,
                        overdue_amount=loan.overdue_amount_fen,
                    )
                    for loan in panel.account.loans
                ],
            )
        return cls(
            identified=panel.identified,
            verification_level=panel.verification_level,
            required_level=panel.required_level,
            masked_name=panel.masked_name,
            masked_mobile=panel.masked_mobile,
            account=account,
        )


class MacroOut(Out):
    code: str
    title: str
    body: str
    category: str | None


class MacroIn(Strict):
    code: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")
    title: str = Field(max_length=64)
    body: str = Field(max_length=2000)
    category: str | None = None


class MacroPreviewOut(BaseModel):
    text: str


# --- consults, follow-ups, complaints -------------------------------------------------------------


class ConsultIn(Strict):
    department: str
    question: str = Field(max_length=2000)


class ConsultAnswerIn(Strict):
    answer: str = Field(max_length=5000)


class FollowUpIn(Strict):
    due_at: datetime
    note: str = Field(max_length=1000)
    owner_id: int | None = None

    _zone = field_validator("due_at")(_aware)


class FollowUpRowOut(Out):
    id: int
    ticket_number: str
    due_at: datetime
    note: str
    owner_id: int
    overdue: bool


class ComplaintOpenIn(Strict):
    source: str = "customer"
    content: str = Field(max_length=5000)


class StageIn(Strict):
    stage: str
    content: str = Field(max_length=5000)


class ExtendIn(Strict):
    days: int
    reason: str = Field(max_length=1000)


class CloseComplaintIn(Strict):
    root_cause: str


class RejectExtensionIn(Strict):
    reason: str = Field(max_length=1000)


class ComplaintSummaryOut(Out):
    total: int
    open: int
    closed: int
    overdue: int
    ack_overdue: int
    flagged: int
    by_root_cause: dict[str, int]
    by_stage: dict[str, int]
    by_age: dict[str, int]


# --- teams, agents, board, SLA policies -----------------------------------------------------------


class TeamOut(Out):
    id: int
    code: str
    name: str
    skills: list[str]
    opens: str
    closes: str
    always_open: bool
    lead_user_id: int | None


class AgentOut(Out):
    user_id: int
    name: str
    team_id: int | None
    status: str
    load: int
    capacity: int


class AgentStatusIn(Strict):
    status: str
    capacity: int | None = Field(default=None, ge=0, le=500)
    team: str | None = None


class AgentStatusOut(Out):
    user_id: int
    team_id: int | None
    status: str
    load: int
    capacity: int


class TeamLoadOut(Out):
    team_id: int | None
    code: str
    name: str
    active: int
    unassigned: int
    at_risk: int
    breached: int


class BoardOut(BaseModel):
    teams: list[TeamLoadOut]
    agents: list[AgentOut]


class SlaPolicyIn(Strict):
    category: str
    severity: str
    first_response_minutes: int = Field(gt=0)
    resolution_minutes: int = Field(gt=0)


class SlaPolicyOut(Out):
    category: str
    severity: str
    first_response_minutes: int
    resolution_minutes: int


class NotificationOut(Out):
    id: int
    ticket_id: int | None
    kind: str  # sla_breach, complaint_d3, complaint_d1, complaint_breach
    body: str
    created_at: datetime
    read_at: datetime | None = None
