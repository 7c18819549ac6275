"""The desk's read interface for other rooms (docs/ARCHITECTURE.md, "Read interfaces").

Quality reads transcripts and ticket facts, feedback the ticket a survey is about, collections
whether an open complaint holds collection — through these functions and statements, never the
desk's tables. Reads only; what they return is the desk's to change.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Subquery, func, select, union
from sqlalchemy.orm import Session

from lenddesk.core import bulk
from lenddesk.desk.models import Agent, Complaint, Message, OutboxMessage, Team, Ticket, TicketEvent


def ticket_rows() -> Subquery:
    """The tickets as a row source other rooms join with their own tables in one statement (quality's
    scorecards and rescoring): a named subquery of the columns below, which the desk keeps stable."""
    return _TICKET_ROWS


_TICKET_ROWS = select(
    *(
        Ticket.__table__.c[name]
        for name in (
            "id",
            "number",
            "status",
            "channel",
            "category",
            "owner_id",
            "team_id",
            "borrower_id",
            "updated_at",
            "sla_started_at",
            "first_response_at",
            "first_response_due",
            "resolved_at",
            "resolution_due",
            "reopened_count",
        )
    )
).subquery("tickets")


def find_ticket(session: Session, ticket_id: int) -> Ticket | None:
    """The ticket with this id (the object the desk's resolution hooks receive), if any."""
    return session.get(Ticket, ticket_id)


def team_names(session: Session, team_ids: Collection[int]) -> dict[int, str]:
    """Team id → name of the given teams."""
    if not team_ids:
        return {}
    return dict(session.execute(select(Team.id, Team.name).where(Team.id.in_(team_ids))).all())


def team_id_of(session: Session, code: str) -> int | None:
    """The id of the team with this code (综合服务组 is `general`), if there is one."""
    return session.scalar(select(Team.id).where(Team.code == code))


def team_member_ids(session: Session, team_id: int) -> list[int]:
    """User ids of the team's agents (and collectors seated in it)."""
    return list(
        session.scalars(select(Agent.user_id).where(Agent.team_id == team_id).order_by(Agent.user_id))
    )


def team_lead_id(session: Session, team_id: int) -> int | None:
    """The user id of the team's lead, if it has one."""
    return session.scalar(select(Team.lead_user_id).where(Team.id == team_id))


def tickets_with_complaints(session: Session, ticket_ids: Collection[int]) -> set[int]:
    """Those of the given tickets that carry a complaint (open or closed)."""
    if not ticket_ids:
        return set()
    return set(session.scalars(select(Complaint.ticket_id).where(Complaint.ticket_id.in_(ticket_ids))))


def top_replier(session: Session, ticket_id: int) -> str | None:
    """The sender (agent username) of most of the ticket's outbound replies; ties by name."""
    top = session.execute(
        select(Message.sender, func.count(Message.id).label("n"))
        .where(Message.ticket_id == ticket_id, Message.direction == "out")
        .group_by(Message.sender)
        .order_by(func.count(Message.id).desc(), Message.sender)
        .limit(1)
    ).first()
    return None if top is None else top.sender


def open_complaints_sql(borrower: str) -> str:
    """A scalar subquery: the open complaints on tickets of `borrower` (a SQL expression, e.g. a bind
    parameter) — an open complaint holds collection like a collector's dispute (DISPUTE_HOLD).
    Text, so the collections guard keeps its one prebuilt statement on the hot path."""
    return (
        "(SELECT COUNT(*) FROM desk_complaints c JOIN desk_tickets t ON t.id = c.ticket_id"
        # The ticket's borrower, verified or only named by the sender's phone: pausing is the safe side.
        f"  WHERE (t.borrower_id = {borrower} OR t.candidate_borrower_id = {borrower})"
        "  AND c.closed_at IS NULL)"
    )


# --- transcripts (quality) ------------------------------------------------------------------------


@dataclass(frozen=True)
class TranscriptLine:
    """A message of the conversation (`direction` in/out) or a timeline line (`kind` note/verification)."""

    ticket_id: int
    id: int
    at: datetime
    direction: str | None = None  # messages: in, out
    sender: str = ""
    text: str = ""
    kind: str | None = None  # timeline: note, verification
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class Transcripts:
    """Tickets (ticket id order), their messages (by time) and their note and verification lines."""

    tickets: Sequence[Any]  # rows: id, number, owner_id, team_id, channel, category, tags,
    # resolved_at, updated_at, borrower_id, first_response_due
    messages: Sequence[TranscriptLine]
    timeline: Sequence[TranscriptLine]


def transcripts(session: Session, ticket_ids: Sequence[int]) -> Transcripts:
    """The conversations of these tickets, set-based: three queries whatever their number, the ids
    in one parameter (`bulk.one_of`: the statements' text the same for any number). Plain rows on
    the session's connection (its pending changes flushed first, as `Session.execute` does): the
    ORM's result machinery cost more Python than reading a nightly chunk's hundred thousand rows."""
    if session.autoflush:
        session.flush()
    connection = session.connection()
    dialect = connection.dialect
    tickets = connection.execute(
        select(
            Ticket.id,
            Ticket.number,
            Ticket.owner_id,
            Ticket.team_id,
            Ticket.channel,
            Ticket.category,
            Ticket.tags,
            Ticket.resolved_at,
            Ticket.updated_at,
            Ticket.borrower_id,
            Ticket.first_response_due,
        )
        .where(bulk.one_of(Ticket.id, ticket_ids, dialect))
        .order_by(Ticket.id)
    ).all()
    messages = [
        TranscriptLine(row.ticket_id, row.id, row.received_at, row.direction, row.sender, row.text)
        for row in connection.execute(
            select(
                Message.ticket_id,
                Message.id,
                Message.direction,
                Message.sender,
                Message.text,
                Message.received_at,
            )
            .where(bulk.one_of(Message.ticket_id, ticket_ids, dialect))
            .order_by(Message.ticket_id, Message.received_at, Message.id)
        )
    ]
    timeline = [
        TranscriptLine(row.ticket_id, row.id, row.at, text=row.body or "", kind=row.kind, data=row.data)
        for row in connection.execute(
            select(TicketEvent.ticket_id, TicketEvent.id, TicketEvent.at, TicketEvent.kind, TicketEvent.body)
            .add_columns(TicketEvent.data)
            .where(
                bulk.one_of(TicketEvent.ticket_id, ticket_ids, dialect),
                TicketEvent.kind.in_(("note", "verification")),
            )
            .order_by(TicketEvent.ticket_id, TicketEvent.id)
        )
    ]
    return Transcripts(tickets, messages, timeline)


def open_complaint_borrower_ids() -> Select[Any]:
    """Ids of borrowers with a complaint not yet closed, on a ticket of theirs or one only named by the
    sender's phone (the care room keeps its campaigns away from them)."""
    open_tickets = (
        select(Ticket.borrower_id, Ticket.candidate_borrower_id)
        .join(Complaint, Complaint.ticket_id == Ticket.id)
        .where(Complaint.closed_at.is_(None))
        .subquery("open_complaint_tickets")
    )
    ids = union(
        select(open_tickets.c.borrower_id.label("borrower_id")).where(
            open_tickets.c.borrower_id.is_not(None)
        ),
        select(open_tickets.c.candidate_borrower_id).where(open_tickets.c.candidate_borrower_id.is_not(None)),
    ).subquery("open_complaint_borrowers")
    return select(ids.c.borrower_id)


def complaint_of_ticket(session: Session, ticket_id: int) -> int | None:
    """The complaint id of a ticket, if it is one."""
    return session.scalar(select(Complaint.id).where(Complaint.ticket_id == ticket_id))


def outbox_status_counts(session: Session, outbox_ids: Sequence[int]) -> dict[str, int]:
    """How many of these outbox messages are queued, sent, delivered, failed or dead (a campaign's
    results)."""
    counts: dict[str, int] = {}
    for start in range(0, len(outbox_ids), 1000):
        chunk = list(outbox_ids[start : start + 1000])
        rows = session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.id.in_(chunk))
            .group_by(OutboxMessage.status)
        )
        for status, count in rows:
            counts[status] = counts.get(status, 0) + int(count)
    return counts
