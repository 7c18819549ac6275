"""Contacts: the guard's what-if check, an agent's contact (sent or blocked and recorded), and the
release of the plan's scheduled messages into the desk outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lenddesk.collections import guard, pauses, rules
from lenddesk.collections.models import Contact, Hold, Script
from lenddesk.collections.service._common import (
    OPT_OUT_CHANNELS,
    History,
    check_channel,
    collections_policy,
    contact_rules,
    history,
    local_date,
    lock_account,
    violation_dicts,
)
from lenddesk.core import audit
from lenddesk.core.calendar import SHANGHAI, to_shanghai
from lenddesk.core.errors import NotFound, Unprocessable
from lenddesk.desk.service import opted_out_channels, queue_outbound, void_queued
from lenddesk.ledger import service as ledger
from lenddesk.ledger.service import check_borrower_access

# Channels whose contact is a message the desk's adapters deliver (a call is made by the agent).
OUTBOX_CHANNELS = frozenset({"sms", "email", "app", "robocall"})
MAX_TEXT = 2000


@dataclass(frozen=True)
class Target:
    recipient: str  # self, third_party
    contact_ref: int | None
    address: str


@dataclass(frozen=True)
class Assumptions:
    """What-if values replacing what history says (compliance's checker)."""

    contacts_today: int | None = None
    contacts_7d: int | None = None
    opted_out: tuple[str, ...] | None = None
    dispute_open: bool | None = None


def require_text(value: str) -> str:
    if len(value) > MAX_TEXT:
        raise Unprocessable(
            f"内容过长（最多 {MAX_TEXT} 字）",
            f"The text is too long (at most {MAX_TEXT})",
            code="text_too_long",
        )
    return value


def resolve_target(session: Session, *, borrower_id: int, recipient: str | int, channel: str) -> Target:
    """Who is reached and at which address; a contact id on file decides self or third party.

    Reads the borrower's row and contact by primary key (the 360 view computes every loan's cost
    disclosure, far too much for a check that runs before each contact)."""
    if isinstance(recipient, int):
        contact = ledger.borrower_contact(session, recipient)
        if contact is None or contact.borrower_id != borrower_id:
            raise NotFound(
                f"该借款人没有联系人 {recipient}",
                f"The borrower has no contact {recipient}",
                code="contact_not_found",
            )
        return Target("third_party" if contact.is_third_party else "self", contact.id, contact.mobile)
    if recipient not in ("self", "third_party"):
        raise Unprocessable(
            "联系对象须为 self、third_party 或联系人编号",
            "recipient must be self, third_party or a contact id",
            code="unknown_recipient",
        )
    if recipient == "third_party":
        return Target("third_party", None, "")
    borrower = ledger.borrower_card(session, borrower_id)
    assert borrower is not None  # checked by the caller
    addresses = {"email": borrower.email or "", "app": f"borrower:{borrower_id}"}
    return Target("self", None, addresses.get(channel, borrower.mobile))


def _opted_out(session: Session, borrower_id: int, address: str) -> frozenset[str]:
    """The collections channels the borrower's desk opt-outs stop."""
    desk_channels = opted_out_channels(
        session, borrower_id=borrower_id, addresses=(address,) if address else ()
    )
    return frozenset(
        channel for channel, stops in OPT_OUT_CHANNELS.items() if desk_channels.intersection(stops)
    )


def _situation(
    target: Target, channel: str, at: datetime, past: History, opted: frozenset[str], hold: str = ""
) -> guard.ContactSituation:
    return guard.ContactSituation(
        recipient="third_party" if target.recipient == "third_party" else "self",
        channel=channel,
        local_time=to_shanghai(at).time(),
        contacts_today=past.contacts_today,
        contacts_7d=past.contacts_7d,
        opted_out_channels=opted,
        dispute_open=past.dispute_open,
        emergency_hold=hold,
    )


def _require_borrower(session: Session, borrower_id: int) -> None:
    if ledger.borrower_card(session, borrower_id) is None:
        raise NotFound(
            f"借款人不存在：{borrower_id}", f"No such borrower: {borrower_id}", code="borrower_not_found"
        )


def check_what_if(
    session: Session,
    *,
    borrower_id: int,
    recipient: str | int,
    channel: str,
    at: datetime,
    text: str,
    assume: Assumptions | None = None,
) -> guard.Verdict:
    """The guard's verdict for a contact in this situation; nothing is sent or recorded."""
    check_channel(channel)
    require_text(text)
    _require_borrower(session, borrower_id)
    target = resolve_target(session, borrower_id=borrower_id, recipient=recipient, channel=channel)
    past = history(session, borrower_id=borrower_id, on=local_date(at))
    opted = _opted_out(session, borrower_id, target.address)
    assume = assume or Assumptions()
    past = History(
        past.contacts_today if assume.contacts_today is None else assume.contacts_today,
        past.contacts_7d if assume.contacts_7d is None else assume.contacts_7d,
        past.dispute_open if assume.dispute_open is None else assume.dispute_open,
    )
    if assume.opted_out is not None:
        opted = frozenset(assume.opted_out)
    hold = pauses.emergency_hold(session, borrower_id=borrower_id)
    return guard.check_contact(text, _situation(target, channel, at, past, opted, hold), contact_rules())


@dataclass(frozen=True)
class ContactResult:
    contact: Contact
    verdict: guard.Verdict


def send_contact(
    session: Session,
    *,
    actor: audit.Actor,
    borrower_id: int,
    recipient: str | int,
    channel: str,
    text: str,
    now: datetime,
) -> ContactResult:
    """An agent's contact: checked by the guard under the borrower's lock, then sent or blocked —
    either way recorded (a blocked attempt keeps its codes for the compliance page)."""
    check_channel(channel)
    require_text(text)
    _require_borrower(session, borrower_id)
    account = lock_account(session, borrower_id)
    target = resolve_target(session, borrower_id=borrower_id, recipient=recipient, channel=channel)
    day = local_date(now)
    past = history(session, borrower_id=borrower_id, on=day)
    opted = _opted_out(session, borrower_id, target.address)
    hold = pauses.emergency_hold(session, borrower_id=borrower_id)
    verdict = guard.check_contact(text, _situation(target, channel, now, past, opted, hold), contact_rules())
    contact = Contact(
        borrower_id=borrower_id,
        recipient=target.recipient,
        contact_ref=target.contact_ref,
        channel=channel,
        source="agent",
        status="sent" if verdict.allowed else "blocked",
        text=text,
        codes=list(verdict.codes),
        violations=violation_dicts(verdict.violations),
        strategy=account.strategy,
        arm=account.arm,
        local_date=day,
        actor_id=actor.user_id,
        actor_name=actor.name,
        created_at=now,
    )
    session.add(contact)
    session.flush()
    if verdict.allowed and channel in OUTBOX_CHANNELS and target.address:
        contact.outbox_id = queue_message(
            session, channel=channel, recipient=target.address, body=text, now=now
        )
    audit.record(
        session,
        actor,
        "collections.contact" if verdict.allowed else "collections.contact_blocked",
        ("borrower", borrower_id),
        None,
        {
            "contact": contact.id,
            "channel": channel,
            "recipient": target.recipient,
            "codes": list(verdict.codes),
        },
    )
    return ContactResult(contact, verdict)


def queue_message(session: Session, *, channel: str, recipient: str, body: str, now: datetime) -> int:
    """A notice (no ticket) into the desk's outbox, through its one writer."""
    return queue_outbound(session, channel=channel, recipient=recipient, kind="notice", body=body, now=now)


# --- releasing the plan's automated messages ------------------------------------------------------


@dataclass(frozen=True)
class ReleaseCounts:
    sent: int = 0
    blocked: int = 0
    expired: int = 0


def release_due(session: Session, *, now: datetime, limit: int = 500) -> ReleaseCounts:
    """Send the scheduled messages whose time has come (at most `limit`), each through the guard.

    Messages of an earlier contact day are expired, never sent late; a borrower's message waits for
    the contact window they chose to open. The borrowers' accounts are locked first, so an agent's
    contact and a release cannot together break the cap.
    """
    day = local_date(now)
    expired = session.execute(
        update(Contact)
        .where(Contact.status == "scheduled", Contact.local_date < day)
        .values(status="expired")
    ).rowcount
    send_at = datetime.combine(day, rules.parse_hhmm(collections_policy().send_at), tzinfo=SHANGHAI)
    if now < send_at:
        return ReleaseCounts(expired=expired or 0)
    # A borrower's chosen contact window: their messages wait until it opens (after it closes they
    # still go, within the legal hours the guard checks — a reminder is never lost to a preference).
    waiting = ledger.window_not_started_condition(Contact.borrower_id, to_shanghai(now).strftime("%H:%M"))
    due = session.scalars(
        select(Contact.id)
        .where(Contact.status == "scheduled", Contact.local_date == day, ~waiting)
        .order_by(Contact.borrower_id, Contact.id)
        .limit(limit)
    ).all()
    sent = blocked = 0
    for contact_id in due:
        if _release_one(session, contact_id, now):
            sent += 1
        else:
            blocked += 1
    return ReleaseCounts(sent, blocked, expired or 0)


def _release_one(session: Session, contact_id: int, now: datetime) -> bool:
    borrower_id = session.scalar(select(Contact.borrower_id).where(Contact.id == contact_id))
    assert borrower_id is not None
    lock_account(session, borrower_id)
    contact = session.scalar(
        select(Contact).where(Contact.id == contact_id).execution_options(populate_existing=True)
    )
    assert contact is not None
    if contact.status != "scheduled":
        return contact.status == "sent"
    policy = collections_policy()
    borrower = ledger.borrower_card(session, borrower_id)
    contract = ledger.contract_number(session, contact.loan_id) if contact.loan_id else None
    assert borrower is not None
    template = (
        session.scalar(select(Script.body).where(Script.code == contact.script)) if contact.script else None
    )
    values = rules.script_values(
        name=borrower.name,
        amount_fen=contact.amount_fen,
        due_on=contact.due_on,
        contract_number=contract,
        repayment_channels=policy.repayment_channels,
        hotline=policy.hotline,
        lender=policy.lender_name,
    )
    contact.text = rules.render(template or DEFAULT_TEMPLATES.get(contact.channel, ""), values)
    address = {"email": borrower.email or "", "app": f"borrower:{borrower_id}"}.get(
        contact.channel, borrower.mobile
    )
    past = history(session, borrower_id=borrower_id, on=contact.local_date)
    opted = _opted_out(session, borrower_id, address)
    hold = pauses.emergency_hold(session, borrower_id=borrower_id, loan_id=contact.loan_id)
    verdict = guard.check_contact(
        contact.text,
        _situation(Target("self", None, address), contact.channel, now, past, opted, hold),
        contact_rules(),
    )
    if not address:  # no e-mail on file: nothing to send, and no guard verdict to record
        contact.status = "undeliverable"
        return False
    contact.codes = list(verdict.codes)
    contact.violations = violation_dicts(verdict.violations)
    contact.created_at = now
    if verdict.allowed:
        contact.status = "sent"
        contact.outbox_id = queue_message(
            session, channel=contact.channel, recipient=address, body=contact.text, now=now
        )
    else:
        contact.status = "blocked"
    session.flush()
    return verdict.allowed


def hold_queued_contacts(session: Session, *, now: datetime, since_days: int = 2) -> int:
    """Withdraw contacts already sent to the outbox but not yet handed to a channel, when a pause
    now holds them (a declaration calls this in its own transaction): their outbox messages are
    voided and the contacts recorded as blocked with the pause's evidence. The count withdrawn."""
    candidates = session.execute(
        select(Contact.id, Contact.borrower_id, Contact.loan_id, Contact.outbox_id).where(
            Contact.status == "sent",
            Contact.outbox_id.is_not(None),
            Contact.local_date >= local_date(now) - timedelta(days=since_days),
        )
    ).all()
    held: dict[int, tuple[int, str]] = {}  # outbox id → (contact id, evidence)
    for contact_id, borrower_id, loan_id, outbox_id in candidates:
        evidence = pauses.emergency_hold(session, borrower_id=borrower_id, loan_id=loan_id)
        if evidence:
            held[outbox_id] = (contact_id, evidence)
    voided = void_queued(
        session, outbox_ids=list(held), reason="EMERGENCY_HOLD: withdrawn before delivery", now=now
    )
    for outbox_id in voided:
        contact_id, evidence = held[outbox_id]
        found = guard.violation("EMERGENCY_HOLD", evidence)
        session.execute(
            update(Contact)
            .where(Contact.id == contact_id)
            .values(status="blocked", codes=["EMERGENCY_HOLD"], violations=violation_dicts([found]))
        )
    return len(voided)


# Used when a step names no script or the script was not created: polite, factual, guard-clean.
DEFAULT_TEMPLATES = {
    "sms": "【{lender}】{name}您好，您的借款（合同号{contract_number}）应还{amount}，还款日{due_date}。"
    "可通过{repayment_channels}还款。如有困难请致电{hotline}。",
    "app": "{name}您好，您的借款（合同号{contract_number}）应还{amount}，还款日{due_date}，请按时还款。",
    "email": "{name}您好：\n您的借款（合同号{contract_number}）应还{amount}，还款日{due_date}。"
    "逾期将按合同收取罚息并可能影响您的个人征信记录。还款方式：{repayment_channels}。如有疑问请致电{hotline}。\n{lender}",
    "robocall": "您好，这里是{lender}，提醒您合同号{contract_number}的借款应还{amount}，"
    "请尽快还款。详询{hotline}。",
}


def outbound_counts(session: Session, *, borrower_id: int, on: date) -> dict[str, int]:
    """Sent outbound contacts per local date over the 7 days ending on `on` (for the account page)."""
    rows = session.execute(
        select(Contact.local_date, func.count())
        .where(
            Contact.borrower_id == borrower_id,
            Contact.status == "sent",
            Contact.source != "inbound",
            Contact.local_date >= on - timedelta(days=6),
            Contact.local_date <= on,
        )
        .group_by(Contact.local_date)
    ).all()
    return {day.isoformat(): count for day, count in rows}


def open_holds(session: Session, *, borrower_id: int) -> list[Hold]:
    return list(
        session.scalars(select(Hold).where(Hold.borrower_id == borrower_id, Hold.released_at.is_(None)))
    )


def ensure_access(session: Session, *, actor: audit.Actor, borrower_id: int) -> None:
    """The borrower exists and the caller may work them (collectors: their worklist or a ticket)."""
    _require_borrower(session, borrower_id)
    check_borrower_access(session, viewer=actor, borrower_id=borrower_id, case_reference=None)
