"""Contact outcomes: promises to pay, disputes (a desk complaint and a DISPUTE_HOLD), hardship (a
desk ticket for negotiation), wrong numbers, third parties reached and new contact details."""

from __future__ import annotations

import uuid
from contextlib import suppress
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.collections.models import Contact, Hold, Outcome
from lenddesk.collections.service._common import OUTCOME_KINDS, local_date, lock_account
from lenddesk.core import audit
from lenddesk.core.errors import Conflict, NotFound, Unprocessable
from lenddesk.core.pii import mask_mobile, validate_mobile
from lenddesk.desk import service as desk
from lenddesk.ledger import service as ledger

MAX_PROMISE_DAYS = 30
MAX_FEN = 2**63 - 1


def _validate_promise(amount_fen: int | None, promise_date: date | None, today: date) -> tuple[int, date]:
    if amount_fen is None or promise_date is None:
        raise Unprocessable(
            "承诺还款须填写金额和日期",
            "A promise to pay needs an amount and a date",
            code="promise_incomplete",
        )
    if not 0 < amount_fen <= MAX_FEN:
        raise Unprocessable("承诺金额须大于零", "The promised amount must be positive", code="promise_amount")
    if not today <= promise_date <= today + timedelta(days=MAX_PROMISE_DAYS):
        raise Unprocessable(
            f"承诺日期须在今天起 {MAX_PROMISE_DAYS} 天内",
            f"The promise date must be within {MAX_PROMISE_DAYS} days from today",
            code="promise_date",
        )
    return amount_fen, promise_date


def record_outcome(
    session: Session,
    *,
    actor: audit.Actor,
    borrower_id: int,
    kind: str,
    now: datetime,
    contact_id: int | None = None,
    note: str = "",
    promise_amount_fen: int | None = None,
    promise_date: date | None = None,
    new_mobile: str | None = None,
    new_relation: str | None = None,
) -> Outcome:
    if kind not in OUTCOME_KINDS:
        raise Unprocessable(
            f"未知的联系结果：{kind}",
            f"Unknown outcome {kind!r}; one of {', '.join(OUTCOME_KINDS)}",
            code="unknown_outcome",
        )
    note = note.strip()
    if len(note) > 500:
        raise Unprocessable(
            "备注过长（最多 500 字）", "The note is too long (at most 500)", code="note_too_long"
        )
    borrower = ledger.borrower_card(session, borrower_id)
    if borrower is None:
        raise NotFound(
            f"借款人不存在：{borrower_id}", f"No such borrower: {borrower_id}", code="borrower_not_found"
        )
    account = lock_account(session, borrower_id)
    if (
        contact_id is not None
        and session.scalar(
            select(Contact.id).where(Contact.id == contact_id, Contact.borrower_id == borrower_id)
        )
        is None
    ):
        raise NotFound(
            f"联系记录不存在：{contact_id}", f"No such contact: {contact_id}", code="contact_not_found"
        )
    today = local_date(now)
    outcome = Outcome(
        borrower_id=borrower_id,
        contact_id=contact_id,
        kind=kind,
        note=note,
        promised_on=today,
        arm=account.arm,
        strategy=account.strategy,
        actor_id=actor.user_id,
        actor_name=actor.name,
        created_at=now,
        details={},
    )
    if kind == "promise_to_pay":
        outcome.promise_amount_fen, outcome.promise_date = _validate_promise(
            promise_amount_fen, promise_date, today
        )
        outcome.promise_status = "open"
    elif kind == "new_contact":
        if not new_mobile:
            raise Unprocessable(
                "须填写新的联系电话", "A new mobile number is required", code="new_mobile_required"
            )
        outcome.details = {"mobile": validate_mobile(new_mobile), "relation": (new_relation or "self")[:16]}
    elif kind in ("dispute", "hardship"):
        outcome.ticket_number = _open_desk_case(session, actor, borrower, kind, note, now)
        if kind == "dispute":
            _hold(session, borrower_id, outcome.ticket_number, note or "借款人对债务提出异议", now)
    session.add(outcome)
    session.flush()
    audit.record(session, actor, "collections.outcome", ("borrower", borrower_id), None, _audited(outcome))
    return outcome


def _audited(outcome: Outcome) -> dict[str, Any]:
    after: dict[str, Any] = {"outcome": outcome.id, "kind": outcome.kind}
    if outcome.promise_amount_fen is not None:
        after.update(amount_fen=outcome.promise_amount_fen, promise_date=outcome.promise_date)
    if outcome.ticket_number:
        after["ticket"] = outcome.ticket_number
    if outcome.details.get("mobile"):
        after["mobile"] = mask_mobile(outcome.details["mobile"])
    return after


def _open_desk_case(
    session: Session, actor: audit.Actor, borrower: ledger.BorrowerCard, kind: str, note: str, now: datetime
) -> str:
    """A desk ticket on the borrower's phone line: a complaint for a dispute, category hardship for
    a hardship (the negotiation room takes it from there)."""
    subject = "催收中借款人提出异议/投诉" if kind == "dispute" else "催收中借款人反映还款困难，申请协商"
    result = desk.intake(
        session,
        channel="phone",
        channel_message_id=f"collections-{kind}-{uuid.uuid4().hex}",
        sender=borrower.mobile,
        text=f"{subject}：{note}" if note else subject,
        received_at=now,
        now=now,
        actor=actor,
        borrower_id=borrower.id,  # the collector works this account: a staff-made link
    )
    if kind == "dispute":
        with suppress(Conflict):  # a ticket that already carries a complaint: the hold points at it
            desk.open_complaint(
                session,
                actor=actor,
                number=result.ticket_number,
                source="customer",
                content=note or subject,
                now=now,
            )
    else:
        desk.categorise_ticket(
            session, actor=actor, number=result.ticket_number, category="hardship", severity="P3", now=now
        )
    return result.ticket_number


def _hold(session: Session, borrower_id: int, ticket_number: str, reason: str, now: datetime) -> None:
    existing = session.scalar(select(Hold).where(Hold.ticket_number == ticket_number))
    if existing is None:
        session.add(
            Hold(borrower_id=borrower_id, ticket_number=ticket_number, reason=reason[:255], opened_at=now)
        )
    elif existing.released_at is not None:
        existing.released_at = None


def release_closed_holds(session: Session, *, now: datetime) -> int:
    """Lift the holds whose desk complaint is closed (the desk's read interface, hold by hold: few)."""
    released = 0
    for hold in session.scalars(select(Hold).where(Hold.released_at.is_(None))).all():
        try:
            _, complaint = desk.get_complaint(session, number=hold.ticket_number)
        except NotFound:
            continue
        if complaint.closed_at is not None:
            hold.released_at = now
            released += 1
    return released
