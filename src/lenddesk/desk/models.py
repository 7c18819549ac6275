"""Tables of the service desk: teams and agents, tickets with their timeline and messages, the outbox,
verification challenges, consults, complaints, follow-ups, macros, SLA policies and notifications.

Statuses and kinds are short strings validated by the service layer (no database enums, so the
same migration runs on SQLite and PostgreSQL). All timestamps are UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from lenddesk.core.db import Base, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")

TICKET_STATUSES = ("new", "open", "pending_customer", "pending_internal", "resolved", "closed")
ACTIVE_STATUSES = frozenset({"new", "open", "pending_customer", "pending_internal"})


class Team(Base):
    __tablename__ = "desk_teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    # Categories this team handles; "*" takes anything no other team claims.
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    opens: Mapped[str] = mapped_column(String(5), default="09:00")
    closes: Mapped[str] = mapped_column(String(5), default="18:00")
    always_open: Mapped[bool] = mapped_column(Boolean, default=False)  # 7×24
    lead_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    last_assigned_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Agent(Base):
    """An agent's presence and capacity; `load` counts the active tickets they own."""

    __tablename__ = "desk_agents"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("desk_teams.id"), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(8), default="offline")  # online, away, offline
    capacity: Mapped[int] = mapped_column(Integer, default=20)
    load: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TicketCounter(Base):
    """The per-day sequence behind human ticket numbers (Shanghai date)."""

    __tablename__ = "desk_ticket_counters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(Base):
    __tablename__ = "desk_tickets"
    __table_args__ = (
        # Queue pages: ORDER BY due_at, id within these filters, LIMIT n.
        Index("ix_desk_tickets_active_due", "active", "due_at", "id"),
        Index("ix_desk_tickets_team_active_due", "team_id", "active", "due_at", "id"),
        Index("ix_desk_tickets_owner_active_due", "owner_id", "active", "due_at", "id"),
        Index("ix_desk_tickets_status_due", "status", "due_at", "id"),
        Index("ix_desk_tickets_sla_due", "sla_state", "active", "due_at"),
        # Intake (the sender's latest ticket on a channel) and the queue's search by phone number.
        Index("ix_desk_tickets_sender", "sender", "channel", "id"),
        # One open ticket per sender and channel, even when two first messages arrive at once.
        Index(
            "uq_desk_tickets_open_sender",
            "channel",
            "sender",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str] = mapped_column(String(254))
    # The borrower the ticket is about: linked only by a verification (or by staff opening a case on
    # an account they work), since whoever writes can type any phone or address (SECURITY.md).
    borrower_id: Mapped[int | None] = mapped_column(ForeignKey("borrowers.id"), nullable=True, index=True)
    # The borrower registered with the sender's phone, e-mail or openid: a hint for the agent to
    # verify against, which grants nothing.
    candidate_borrower_id: Mapped[int | None] = mapped_column(
        ForeignKey("borrowers.id"), nullable=True, index=True
    )
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"), nullable=True)
    subject: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32), default="other")
    category_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    severity: Mapped[str] = mapped_column(String(2), default="P4")
    status: Mapped[str] = mapped_column(String(20), default="new")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("desk_teams.id"), nullable=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # regulator / media / lawyer named in the text
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    verification_level: Mapped[str] = mapped_column(String(8), default="none")
    knowledge_failures: Mapped[int] = mapped_column(Integer, default=0)
    # When the current level was reached; it lapses after the policy's idle minutes without a message
    # from the borrower, and is dropped when the ticket reopens.
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # SLA: both clocks start at sla_started_at; paused minutes (pending_customer) are added back.
    sla_started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    first_response_due: Mapped[datetime] = mapped_column(UTCDateTime())
    resolution_due: Mapped[datetime] = mapped_column(UTCDateTime())
    # The deadline that counts now (first response until answered, then resolution).
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    at_risk_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sla_state: Mapped[str] = mapped_column(String(10), default="ok")  # ok, at_risk, breached
    sla_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_minutes: Mapped[int] = mapped_column(Integer, default=0)
    paused_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    escalated_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class TicketEvent(Base):
    """One line of a ticket's timeline; the id orders the timeline."""

    __tablename__ = "desk_ticket_events"
    __table_args__ = (Index("ix_desk_ticket_events_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("desk_tickets.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # inbound, outbound, note, status, assignment, category, consult, verification, follow_up, sla,
    # complaint, delivery, reopen
    kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    actor_name: Mapped[str] = mapped_column(String(64))
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class Message(Base):
    """A message in or out; (channel, channel_message_id) makes intake idempotent."""

    __tablename__ = "desk_messages"
    __table_args__ = (UniqueConstraint("channel", "channel_message_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("desk_tickets.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # in, out
    channel: Mapped[str] = mapped_column(String(16))
    channel_message_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    sender: Mapped[str] = mapped_column(String(254))
    text: Mapped[str] = mapped_column(Text)
    # OpenCC t2s of the text, used for search and rules; `text` keeps what the customer wrote.
    text_simplified: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboxMessage(Base):
    """An outbound message waiting for (or delivered by) a channel adapter."""

    __tablename__ = "desk_outbox"
    __table_args__ = (Index("ix_desk_outbox_status", "status", "channel", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("desk_tickets.id"), nullable=True, index=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(12))  # reply, otp, notice, auto_reply
    body: Mapped[str] = mapped_column(Text)
    # queued, sent (accepted, receipt awaited), delivered, failed (void or refused), dead (gave up)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The delivery worker's lease (channels/worker.py): a claimed row is another worker's until
    # `claimed_until`; a worker killed mid-send leaves a lease that simply runs out.
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # backoff
    provider_message_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)


class OptOut(Base):
    """A borrower's "no more messages on this channel" (退订, TD, unsubscribe), by address.

    Written by the desk when a channel delivers an opt-out (an SMS reply 退订 / TD, a WeChat
    unsubscribe, an agent recording the borrower's wish); read by collections before any contact.
    One row per channel, address and scope: opting out twice changes nothing.
    """

    __tablename__ = "desk_opt_outs"
    __table_args__ = (
        UniqueConstraint("channel", "address", "scope", name="uq_desk_opt_outs_channel_address_scope"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(254))  # normalised mobile, e-mail or channel user id
    borrower_id: Mapped[int | None] = mapped_column(ForeignKey("borrowers.id"), nullable=True, index=True)
    source: Mapped[str] = mapped_column(String(32))  # sms_reply, wechat_unsubscribe, agent, email
    # all: every message on the channel but one-time codes (reminders too); marketing: greetings and
    # offers only — a 退订 / TD replying to a marketing message (docs/CARE.md "Opt-out scope").
    scope: Mapped[str] = mapped_column(String(12), default="all", server_default="all")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OtpChallenge(Base):
    """A one-time code. The code exists only while the SMS adapter sends it: its outbox message holds
    the reference `otp:<id>`, and this row its keyed hash, set at delivery (None until then)."""

    __tablename__ = "desk_otp_challenges"
    __table_args__ = (Index("ix_desk_otp_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("desk_tickets.id"))
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"))
    code_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    salt: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    # pending, verified, locked, replaced, expired
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class OtpAllowance(Base):
    """Codes sent on one Shanghai day to one ticket or one phone, counted in SQL for the send limits.

    `key` is the ticket id, or the keyed hash of the phone number (no number at rest here).
    """

    __tablename__ = "desk_otp_allowances"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(8))  # ticket, phone
    key: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    last_sent_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Consult(Base):
    """A question to another department (legal, risk, finance, tech) with its own due time."""

    __tablename__ = "desk_consults"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("desk_tickets.id"), index=True)
    department: Mapped[str] = mapped_column(String(16))
    question: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open, answered
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Complaint(Base):
    __tablename__ = "desk_complaints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("desk_tickets.id"), unique=True)
    source: Mapped[str] = mapped_column(String(12), default="customer")  # customer, regulator, media, lawyer
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stage: Mapped[str] = mapped_column(String(12), default="receive")  # the last stage recorded
    ack_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolution_days: Mapped[int] = mapped_column(Integer, default=15)
    resolution_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    root_cause: Mapped[str | None] = mapped_column(String(32), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)


class ComplaintStage(Base):
    __tablename__ = "desk_complaint_stages"
    __table_args__ = (UniqueConstraint("complaint_id", "stage"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("desk_complaints.id"))
    stage: Mapped[str] = mapped_column(String(12))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    actor_name: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    content: Mapped[str] = mapped_column(Text)


class ComplaintExtension(Base):
    __tablename__ = "desk_complaint_extensions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("desk_complaints.id"), index=True)
    days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # applied (no approval needed), pending (waits for a second, senior person), approved, rejected
    status: Mapped[str] = mapped_column(String(10), default="applied")
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    new_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    notice_outbox_id: Mapped[int | None] = mapped_column(ForeignKey("desk_outbox.id"), nullable=True)


class ComplaintAlert(Base):
    """One deadline alert sent (D-3, D-1, breach) per complaint and deadline: the job's memory."""

    __tablename__ = "desk_complaint_alerts"
    __table_args__ = (UniqueConstraint("complaint_id", "kind", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("desk_complaints.id"))
    kind: Mapped[str] = mapped_column(String(16))  # complaint_d3, complaint_d1, complaint_breach
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class FollowUp(Base):
    __tablename__ = "desk_follow_ups"
    __table_args__ = (Index("ix_desk_follow_ups_owner_due", "owner_id", "done", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("desk_tickets.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Macro(Base):
    """A canned reply in Chinese with {variables} (see desk/macros.py for the list)."""

    __tablename__ = "desk_macros"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(32), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class SlaPolicy(Base):
    """Targets in service minutes per category × severity; category "*" applies to any category."""

    __tablename__ = "desk_sla_policies"
    __table_args__ = (UniqueConstraint("category", "severity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(2))
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)


class Notification(Base):
    __tablename__ = "desk_notifications"
    __table_args__ = (Index("ix_desk_notifications_user", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("desk_tickets.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))  # sla_breach, complaint_d3, complaint_d1, complaint_breach
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
