"""Tables of the negotiation room: hardship cases, proposals, hash-chained agreements."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lenddesk.core.db import Base, UTCDateTime, utcnow

Fen = BigInteger


class HardshipCase(Base):
    """A borrower's hardship (困难协商) on a ticket and a loan: cause, capacity, notes, evidence."""

    __tablename__ = "negotiation_cases"
    __table_args__ = (Index("ix_negotiation_cases_loan_status", "loan_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("desk_tickets.id"), index=True)
    ticket_number: Mapped[str] = mapped_column(String(20))
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    contract_number: Mapped[str] = mapped_column(String(32))
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"), index=True)
    cause: Mapped[str] = mapped_column(String(24))
    notes: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[str] = mapped_column(Text, default="")
    monthly_capacity_fen: Mapped[int] = mapped_column(Fen)
    monthly_income_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)
    monthly_expenses_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)
    # open (negotiating), agreed (an agreement applied), closed (ended without one or after it)
    status: Mapped[str] = mapped_column(String(12), default="open")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    opened_by: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The case library (seed 002 §6): a closed negotiation marked as a success or failure case.
    library_outcome: Mapped[str | None] = mapped_column(String(8), nullable=True)  # success, failure
    library_lesson: Mapped[str | None] = mapped_column(Text, nullable=True)
    library_marked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    library_marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Proposal(Base):
    """One option put to the borrower: approved at once within the proposer's authority, else
    waiting for an approver of the level the authority matrix names."""

    __tablename__ = "negotiation_proposals"
    __table_args__ = (Index("ix_negotiation_proposals_status_level", "status", "approval_level"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("negotiation_cases.id"), index=True)
    option_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(24))
    title_zh: Mapped[str] = mapped_column(String(120))
    effective_on: Mapped[date] = mapped_column(Date)
    # The option as shown (schedule, waivers, condition, pros and cons), checked again at acceptance.
    option: Mapped[dict[str, Any]] = mapped_column(JSON)
    approval_level: Mapped[str] = mapped_column(String(12))  # agent, team_lead, compliance
    # pending_approval, approved, rejected, accepted, withdrawn
    status: Mapped[str] = mapped_column(String(20))
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    proposed_by_role: Mapped[str] = mapped_column(String(16))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_by_role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_comment: Mapped[str | None] = mapped_column(Text, nullable=True)


class ChainHead(Base):
    """The one row every new agreement locks: the chain grows one record at a time."""

    __tablename__ = "negotiation_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_sha256: Mapped[str] = mapped_column(String(64))


class Agreement(Base):
    """协议: rendered in Chinese, hash-chained (SHA-256 over the canonical content and the previous
    record's hash). The chained columns never change; status columns below them may."""

    __tablename__ = "negotiation_agreements"
    __table_args__ = (Index("ix_negotiation_agreements_watch", "status", "condition_due_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("negotiation_cases.id"), index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("negotiation_proposals.id"), unique=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    content: Mapped[str] = mapped_column(Text)  # canonical JSON of the terms and the acceptance
    text_zh: Mapped[str] = mapped_column(Text)
    previous_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    # -- not chained: what happens to the agreement afterwards (audited) --
    status: Mapped[str] = mapped_column(String(10), default="active")  # active, kept, broken
    condition_amount_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)
    condition_due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    accepted_on: Mapped[date] = mapped_column(Date)
    conditional_waiver_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("desk_tickets.id"))
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
