"""Verification of the caller (knowledge check, one-time codes) and the account data it unlocks:
the side panel and macros."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, case, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lenddesk.core import audit, throttle
from lenddesk.core.calendar import business_date
from lenddesk.core.errors import Forbidden, LendDeskError, NotFound, Unprocessable
from lenddesk.core.money import format_fen
from lenddesk.core.pii import mask_mobile, mask_name, normalise_mobile
from lenddesk.core.settings import get_settings
from lenddesk.desk import disclosure, macros
from lenddesk.desk.models import Macro, Message, OtpAllowance, OtpChallenge, OutboxMessage, Ticket
from lenddesk.desk.service._common import _event, _snapshot, desk_policy, get_ticket, lock_ticket
from lenddesk.desk.service.access import may_see_account, require_account_access
from lenddesk.desk.service.outbox import queue_outbound, register_secret_drawer
from lenddesk.ledger import service as ledger

# --- verification ---------------------------------------------------------------------------------
#
# A verification holds while the borrower keeps writing (policy: verification_idle_minutes between
# their messages) and is dropped when the ticket reopens. Every verification write locks the ticket
# first, so attempts and limits are counted exactly under concurrent requests; the counters
# themselves are incremented in SQL. One-time codes never rest in clear: the outbox holds
# `otp:<challenge id>`, and the code is drawn, hashed (with its own key) and put in the text only
# when the delivery worker claims it (`_otp_text`, the outbox's drawer for `otp`).


@dataclass(frozen=True)
class VerificationOutcome:
    verified: bool
    level: str
    reason: str = ""
    attempts_left: int | None = None
    expires_at: datetime | None = None
    sent_to: str | None = None


class OtpRefused(LendDeskError):
    """A code asked for too soon or too often."""

    status_code = 429
    default_code = "otp_rate_limited"


_OTP_REFERENCE = "otp:"
_LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def _verification_input(value: str, what_zh: str, what_en: str) -> str:
    """NFKC (full-width → half-width), trimmed; a lone surrogate is refused (it cannot be stored)."""
    cleaned = unicodedata.normalize("NFKC", value).strip()
    if any("\ud800" <= ch <= "\udfff" for ch in cleaned):
        raise Unprocessable(
            f"{what_zh}含无效字符", f"The {what_en} contains invalid characters", code="verification_input"
        )
    return cleaned


def effective_level(session: Session, ticket: Ticket, now: datetime) -> str:
    """The ticket's verification level as it holds at `now` ("none" once it has lapsed)."""
    return levels_now(session, [(ticket.id, ticket.verification_level, ticket.verified_at)], now)[ticket.id]


def levels_now(
    session: Session, tickets: Sequence[tuple[int, str, datetime | None]], now: datetime
) -> dict[int, str]:
    """(ticket id, stored level, verified at) → the level as it holds at `now`, one query for all."""
    levels = {ticket_id: "none" for ticket_id, _, _ in tickets}
    verified = {ticket_id: (level, at) for ticket_id, level, at in tickets if level != "none" and at}
    if not verified:
        return levels
    inbound: dict[int, list[datetime]] = {ticket_id: [] for ticket_id in verified}
    for ticket_id, received_at in session.execute(
        select(Message.ticket_id, Message.received_at).where(
            Message.ticket_id.in_(verified), Message.direction == "in"
        )
    ):
        inbound[ticket_id].append(received_at)
    idle = timedelta(minutes=desk_policy().verification_idle_minutes)
    for ticket_id, (level, verified_at) in verified.items():
        if macros.verification_current(verified_at, inbound[ticket_id], now, idle):
            levels[ticket_id] = level
    return levels


def _raise_level(session: Session, ticket: Ticket, level: str, now: datetime) -> None:
    current = effective_level(session, ticket, now)
    ticket.verification_level = current if macros.level_allows(current, level) else level
    ticket.verified_at = now


def _drop_verification(session: Session, ticket: Ticket, *, actor: audit.Actor, at: datetime) -> None:
    """At reopening: whoever writes now may not be who was verified (caller ID can be spoofed)."""
    if ticket.verification_level != "none":
        ticket.verification_level, ticket.verified_at = "none", None
        _event(session, ticket, "verification", actor, "工单重新打开，身份核验已失效", at=at)


def _count_knowledge_failure(session: Session, ticket: Ticket) -> int:
    failures = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id)
        .values(knowledge_failures=Ticket.knowledge_failures + 1)
        .returning(Ticket.knowledge_failures)
    ).scalar_one()
    session.expire(ticket, ["knowledge_failures"])
    return int(failures)


# --- identity-check failures across tickets ---------------------------------------------------------
#
# Each ticket allows `knowledge_attempts`; a guesser opening ticket after ticket (a chat session each)
# is stopped by counters kept per borrower named, per phone given and per client address, across
# tickets, sessions and channels (policy [desk] identity_failures_*, a sliding window of
# identity_lock_minutes, in the shared throttle counters of core/throttle.py). A check reserves its
# place on every counter before it is answered and gives it back when the answer was right, so
# simultaneous guesses get at most the limit of answers; past a limit every check is refused, a right
# answer included, until the failures age out or an agent lifts the lock on a ticket verified by code.


@dataclass(frozen=True)
class _IdentityCounter:
    key: str
    limit: int


def _identity_window(now: datetime) -> tuple[throttle.Throttle, throttle.Window]:
    minutes = desk_policy().identity_lock_minutes
    return throttle.throttle_for(get_settings().redis_url, minutes), throttle.Window.at(now, minutes)


def _borrower_counter(borrower_id: int) -> _IdentityCounter:
    return _IdentityCounter(f"idf-b:{borrower_id}", desk_policy().identity_failures_per_borrower)


def _phone_counter(mobile: str) -> _IdentityCounter:
    return _IdentityCounter(f"idf-p:{_phone_key(mobile)}", desk_policy().identity_failures_per_phone)


def _identity_counters(
    session: Session, ticket: Ticket, contract_number: str | None, phone: str | None, address: str | None
) -> list[_IdentityCounter]:
    """The counters a check names: every borrower it could be about, the phone, the address."""
    borrower_ids = {ticket.borrower_id} if ticket.borrower_id is not None else set()
    if contract_number:
        loan_borrower = ledger.borrower_id_of_contract(session, contract_number)
        borrower_ids |= {loan_borrower} if loan_borrower is not None else set()
    if phone:
        by_phone = ledger.find_borrower(session, mobile=normalise_mobile(phone))
        borrower_ids |= {by_phone.id} if by_phone is not None else set()
    counters = [_borrower_counter(borrower_id) for borrower_id in sorted(borrower_ids)]
    if phone:
        counters.append(_phone_counter(normalise_mobile(phone)))
    if address:
        counters.append(_IdentityCounter(f"idf-a:{address}", desk_policy().identity_failures_per_address))
    return counters


def _identity_locked() -> Forbidden:
    return Forbidden(
        "核身失败次数过多，请改用短信验证码或转人工复核",
        "Too many failed knowledge checks; use a one-time code or escalate",
        code="verification_locked",
    )


def _reserve_identity_checks(session: Session, counters: list[_IdentityCounter], now: datetime) -> None:
    """One place on every counter for this check, or the lock (nothing is answered past a limit)."""
    counter, window = _identity_window(now)
    if any(counter.estimate(session, c.key, window) >= c.limit for c in counters):
        raise _identity_locked()
    hits = [counter.hit(session, c.key, window) > c.limit for c in counters]
    if any(hits):  # a simultaneous check took the last place
        raise _identity_locked()


def _release_identity_checks(session: Session, counters: list[_IdentityCounter], now: datetime) -> None:
    counter, window = _identity_window(now)
    for c in counters:
        counter.release(session, c.key, window)


def lift_identity_lock(
    session: Session, *, actor: audit.Actor, number: str, now: datetime
) -> VerificationOutcome:
    """An agent lifts the identity-check lock of the ticket's borrower (their record and registered
    phone) and the ticket's own count — only on a ticket verified by one-time code (strong) now."""
    ticket = lock_ticket(session, number=number)
    if ticket.borrower_id is None or effective_level(session, ticket, now) != "strong":
        raise macros.VerificationRequired(
            "解除核验锁定前，需先通过短信验证码完成强验证",
            "Lifting the verification lock needs the ticket verified by one-time code (strong) first",
            details={"required": "strong", "current": effective_level(session, ticket, now)},
        )
    borrower = ledger.borrower_card(session, ticket.borrower_id)
    assert borrower is not None
    counter, window = _identity_window(now)
    counters = [_borrower_counter(borrower.id), _phone_counter(borrower.mobile)]
    before = {
        "knowledge_failures": ticket.knowledge_failures,
        "borrower_failures": counter.estimate(session, counters[0].key, window),
        "phone_failures": counter.estimate(session, counters[1].key, window),
    }
    for c in counters:
        counter.clear(session, c.key, window)
    ticket.knowledge_failures = 0
    _event(session, ticket, "verification", actor, "已解除身份核验锁定", at=now, data={"method": "unlock"})
    after = {"knowledge_failures": 0, "borrower_failures": 0, "phone_failures": 0}
    audit.record(session, actor, "ticket.verify_unlock", ("ticket", ticket.number), before, after)
    return VerificationOutcome(True, effective_level(session, ticket, now), "unlocked")


def verify_knowledge(
    session: Session,
    *,
    actor: audit.Actor,
    number: str,
    name: str,
    id_last6: str,
    contract_number: str | None,
    phone: str | None,
    now: datetime,
    address: str | None = None,
) -> VerificationOutcome:
    """Name + last six of the ID number + a contract number or the registered phone → basic level.

    A failure is returned (not raised) so that the attempt count is committed with the request; a
    failure counts on the ticket and on the identity counters (`address`: the client's, on the
    public channels). A wrong answer and an answer naming no borrower read the same ("mismatch").
    """
    name = _verification_input(name, "姓名", "name")
    id_last6 = _verification_input(id_last6, "身份证号后六位", "last six of the ID number").upper()
    if not re.fullmatch(r"\d{5}[\dX]", id_last6):
        raise Unprocessable(
            "身份证号后六位应为 6 位数字（最后一位可为 X）",
            "The last six of the ID number are six digits (the last may be X)",
            code="verification_input",
        )
    contract_number = _verification_input(contract_number or "", "合同编号", "contract number") or None
    phone = _verification_input(phone or "", "手机号", "phone") or None
    if not (contract_number or phone):
        raise Unprocessable(
            "请提供合同编号或注册手机号",
            "Give a contract number or the registered phone",
            code="verification_input",
        )
    ticket = lock_ticket(session, number=number)
    limit = desk_policy().knowledge_attempts
    if ticket.knowledge_failures >= limit:
        raise _identity_locked()
    counters = _identity_counters(session, ticket, contract_number, phone, address)
    _reserve_identity_checks(session, counters, now)
    match = ledger.match_identity(
        session,
        name=name,
        id_last6=id_last6,
        borrower_id=ticket.borrower_id,
        contract_number=contract_number,
        phone=phone,
    )
    if match is None:
        left = limit - _count_knowledge_failure(session, ticket)
        _event(
            session,
            ticket,
            "verification",
            actor,
            "身份核验未通过（信息不符）",
            at=now,
            data={"method": "knowledge"},
        )
        audit.record(
            session, actor, "ticket.verify_failed", ("ticket", ticket.number), None, {"attempts_left": left}
        )
        return VerificationOutcome(
            False, effective_level(session, ticket, now), "mismatch", attempts_left=left
        )
    _release_identity_checks(session, counters, now)
    before = _snapshot(ticket)
    ticket.borrower_id = match.borrower_id
    if match.loan_id is not None:
        ticket.loan_id = match.loan_id
    _raise_level(session, ticket, "basic", now)
    _event(
        session,
        ticket,
        "verification",
        actor,
        "身份核验通过（基础验证）",
        at=now,
        data={"method": "knowledge", "level": ticket.verification_level},
    )
    audit.record(session, actor, "ticket.verify", ("ticket", ticket.number), before, _snapshot(ticket))
    return VerificationOutcome(True, ticket.verification_level)


def _otp_hash(salt: str, code: str) -> str:
    key = get_settings().resolved_otp_key().encode()
    return hmac.new(key, f"{salt}:{code}".encode(), hashlib.sha256).hexdigest()


def _phone_key(mobile: str) -> str:
    """The phone number as the send limits keep it: a keyed hash, not the number."""
    key = get_settings().resolved_otp_key().encode()
    return hmac.new(key, f"phone:{mobile}".encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=2)
def _allowance_row_upsert(dialect: str) -> Any:
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = OtpAllowance.__table__
    return (
        upsert(table)
        .values(
            scope=bindparam("scope"),
            key=bindparam("key"),
            day=bindparam("day"),
            sent=0,
            last_sent_at=_LONG_AGO,
        )
        .on_conflict_do_nothing(index_elements=["scope", "key"])
    )


def _use_otp_allowance(session: Session, scope: str, key: str, *, daily: int, now: datetime) -> None:
    """Count one code against a ticket's or a phone's allowance in one conditional UPDATE, or refuse."""
    table, today = OtpAllowance.__table__, business_date(now)
    interval = timedelta(seconds=desk_policy().otp_interval_seconds)
    session.execute(
        _allowance_row_upsert(session.get_bind().dialect.name), {"scope": scope, "key": key, "day": today}
    )
    mine = and_(table.c.scope == scope, table.c.key == key)
    counted = session.execute(
        update(table)
        .where(mine, table.c.last_sent_at <= now - interval, or_(table.c.day != today, table.c.sent < daily))
        .values(sent=case((table.c.day == today, table.c.sent + 1), else_=1), day=today, last_sent_at=now)
        .returning(table.c.sent)
    ).first()
    if counted is not None:
        return
    last_sent_at = session.execute(select(table.c.last_sent_at).where(mine)).scalar_one()
    if last_sent_at > now - interval:
        wait = int((last_sent_at + interval - now).total_seconds()) + 1
        raise OtpRefused(
            f"验证码发送过于频繁，请 {wait} 秒后再试",
            f"A code was sent moments ago; try again in {wait} seconds",
            code="otp_too_soon",
            details={"retry_after_seconds": wait},
        )
    whom_zh, whom_en = ("该手机号", "phone number") if scope == "phone" else ("本工单", "ticket")
    raise OtpRefused(
        f"{whom_zh}今日验证码已达上限（{daily} 条），请明天再试或转人工复核",
        f"This {whom_en} has had its {daily} codes today; try tomorrow or escalate",
        code="otp_daily_limit_phone" if scope == "phone" else "otp_daily_limit",
    )


def send_otp(session: Session, *, actor: audit.Actor, number: str, now: datetime) -> VerificationOutcome:
    """A one-time code to the borrower's registered phone, through the SMS outbox, within the limits."""
    policy = desk_policy()
    ticket = lock_ticket(session, number=number)
    # The code goes to the registered phone of the linked borrower, else of the sender's candidate:
    # only who holds that phone can answer it, so a correct code links the ticket (`check_otp`).
    borrower_id = ticket.borrower_id or ticket.candidate_borrower_id
    if borrower_id is None:
        raise Unprocessable(
            "尚未识别借款人，请先完成基础核验",
            "The borrower is not identified yet; do the knowledge check first",
            code="borrower_unknown",
        )
    borrower = ledger.borrower_card(session, borrower_id)
    assert borrower is not None
    _use_otp_allowance(session, "ticket", str(ticket.id), daily=policy.otp_daily_per_ticket, now=now)
    _use_otp_allowance(
        session, "phone", _phone_key(borrower.mobile), daily=policy.otp_daily_per_phone, now=now
    )
    session.execute(
        update(OtpChallenge)
        .where(OtpChallenge.ticket_id == ticket.id, OtpChallenge.status == "pending")
        .values(status="replaced")
    )
    expires_at = now + timedelta(minutes=policy.otp_minutes)
    challenge = OtpChallenge(
        ticket_id=ticket.id,
        borrower_id=borrower.id,
        code_hash=None,
        salt=secrets.token_hex(8),
        expires_at=expires_at,
        attempts=0,
        max_attempts=policy.otp_attempts,
        status="pending",
        created_at=now,
    )
    session.add(challenge)
    session.flush()
    queue_outbound(
        session,
        ticket_id=ticket.id,
        channel="sms",
        recipient=borrower.mobile,
        kind="otp",
        body=f"{_OTP_REFERENCE}{challenge.id}",
        now=now,
    )
    masked = mask_mobile(borrower.mobile)
    _event(session, ticket, "verification", actor, f"验证码已发送至 {masked}", at=now, data={"method": "otp"})
    audit.record(
        session, actor, "ticket.otp_send", ("ticket", ticket.number), None, {"challenge_id": challenge.id}
    )
    return VerificationOutcome(
        False, effective_level(session, ticket, now), "sent", expires_at=expires_at, sent_to=masked
    )


def _otp_text(session: Session, message: OutboxMessage, now: datetime) -> tuple[str, str] | None:
    """The text and code of an `otp:<id>` outbox message, drawn now; None when the code is void."""
    challenge_id = message.body.removeprefix(_OTP_REFERENCE)
    challenge = session.get(OtpChallenge, int(challenge_id)) if challenge_id.isdigit() else None
    if (
        challenge is None
        or challenge.status != "pending"
        or challenge.code_hash
        or now > challenge.expires_at
    ):
        return None
    policy = desk_policy()
    code = f"{secrets.randbelow(10**policy.otp_length):0{policy.otp_length}d}"
    challenge.code_hash = _otp_hash(challenge.salt, code)
    return f"【LendDesk】您的验证码为 {code}，{policy.otp_minutes} 分钟内有效。请勿告知他人。", code


def _count_otp_attempt(session: Session, challenge: OtpChallenge) -> int:
    table = OtpChallenge.__table__
    attempts = session.execute(
        update(table)
        .where(table.c.id == challenge.id)
        .values(
            attempts=table.c.attempts + 1,
            status=case((table.c.attempts + 1 >= table.c.max_attempts, "locked"), else_=table.c.status),
        )
        .returning(table.c.attempts)
    ).scalar_one()
    session.expire(challenge, ["attempts", "status"])
    return int(attempts)


def check_otp(
    session: Session, *, actor: audit.Actor, number: str, code: str, now: datetime
) -> VerificationOutcome:
    code = _verification_input(code, "验证码", "code")
    ticket = lock_ticket(session, number=number)
    challenge = session.scalar(
        select(OtpChallenge)
        .where(OtpChallenge.ticket_id == ticket.id, OtpChallenge.status == "pending")
        .order_by(OtpChallenge.id.desc())
        .limit(1)
    )
    if challenge is None:
        raise Unprocessable(
            "没有待验证的验证码，请重新发送", "No code is pending; send a new one", code="otp_none"
        )
    if challenge.code_hash is None:
        raise Unprocessable(
            "验证码尚未发出，请稍后再试",
            "The code has not been sent yet; try again shortly",
            code="otp_not_sent",
        )
    if now > challenge.expires_at:
        challenge.status = "expired"
        _event(session, ticket, "verification", actor, "验证码已过期", at=now, data={"method": "otp"})
        return VerificationOutcome(False, effective_level(session, ticket, now), "expired", attempts_left=0)
    if not hmac.compare_digest(challenge.code_hash, _otp_hash(challenge.salt, code)):
        left = challenge.max_attempts - _count_otp_attempt(session, challenge)
        _event(
            session, ticket, "verification", actor, "验证码错误", at=now, data={"method": "otp", "left": left}
        )
        audit.record(
            session, actor, "ticket.otp_failed", ("ticket", ticket.number), None, {"attempts_left": left}
        )
        level = effective_level(session, ticket, now)
        return VerificationOutcome(False, level, "locked" if left <= 0 else "wrong", left)
    before = _snapshot(ticket)
    challenge.status, challenge.verified_at = "verified", now
    ticket.borrower_id = challenge.borrower_id  # the holder of the borrower's registered phone
    _raise_level(session, ticket, "strong", now)
    _event(
        session,
        ticket,
        "verification",
        actor,
        "短信验证码核验通过（强验证）",
        at=now,
        data={"level": "strong"},
    )
    audit.record(session, actor, "ticket.otp_verify", ("ticket", ticket.number), before, _snapshot(ticket))
    return VerificationOutcome(True, ticket.verification_level)


# --- account data: side panel and macros ----------------------------------------------------------


def account_details(session: Session, *, ticket: Ticket, now: datetime) -> ledger.AccountSummary:
    """The borrower's account from the ledger — refused below the policy's verification level."""
    macros.require_level(
        effective_level(session, ticket, now),
        desk_policy().account_detail_level,
        "查看账户信息",
        "Account details",
    )
    if ticket.borrower_id is None:
        raise Unprocessable("尚未识别借款人", "The borrower is not identified yet", code="borrower_unknown")
    return ledger.account_summary(session, borrower_id=ticket.borrower_id, today=business_date(now))


def _refuse_account_data(session: Session, ticket: Ticket, text: str, *, level: str, now: datetime) -> None:
    """Below the required level, text for the borrower may carry no account data in any form."""
    required = desk_policy().account_detail_level
    if macros.level_allows(level, required):
        return
    contracts: list[str] = []
    scanned_for = ticket.borrower_id or ticket.candidate_borrower_id  # scanning for more is the safe side
    if scanned_for is not None:
        summary = ledger.account_summary(session, borrower_id=scanned_for, today=business_date(now))
        contracts = [loan.contract_number for loan in summary.loans]
    public = [desk_policy().hotline, ticket.number]
    found = disclosure.find_account_data(text, contract_numbers=contracts, public=public)
    if found:
        found_zh, found_en = disclosure.describe(found)
        raise macros.VerificationRequired(
            f"回复中包含账户信息（{found_zh}），需要先完成{macros.LEVEL_LABELS[required]}"
            f"（当前：{macros.LEVEL_LABELS[level]}），未发送",
            f"The reply carries account data ({found_en}) and needs verification level {required} "
            f"(the ticket has {level}); nothing was sent",
            details={
                "required": required,
                "current": level,
                "found": [{"kind": f.kind, "text": f.text} for f in found],
            },
        )


@dataclass(frozen=True)
class BorrowerPanel:
    identified: bool
    verification_level: str
    required_level: str
    masked_name: str | None = None
    masked_mobile: str | None = None
    account: ledger.AccountSummary | None = None
    account_withheld: bool = False  # verified, but not this viewer's to see (access.py)
    candidate: bool = False  # not linked: the masked identity is the sender's match, to verify against


def borrower_panel(session: Session, *, number: str, now: datetime, viewer: audit.Actor) -> BorrowerPanel:
    """The side panel: masked identity always, the account only at the required verification level
    and to a viewer the borrower 360 would let in (their own ticket, or a lead: access.py)."""
    ticket = get_ticket(session, number=number)
    required = desk_policy().account_detail_level
    level = effective_level(session, ticket, now)
    if ticket.borrower_id is None:
        candidate = (
            ledger.borrower_card(session, ticket.candidate_borrower_id)
            if ticket.candidate_borrower_id
            else None
        )
        if candidate is None:
            return BorrowerPanel(False, level, required)
        masked = mask_name(candidate.name), mask_mobile(candidate.mobile)
        return BorrowerPanel(False, level, required, *masked, candidate=True)
    borrower = ledger.borrower_card(session, ticket.borrower_id)
    assert borrower is not None
    account, withheld = None, False
    if macros.level_allows(level, required):
        withheld = not may_see_account(session, viewer=viewer, ticket=ticket)
        account = None if withheld else account_details(session, ticket=ticket, now=now)
    return BorrowerPanel(
        True,
        level,
        required,
        mask_name(borrower.name),
        mask_mobile(borrower.mobile),
        account,
        withheld,
    )


def _chinese_date(day: date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def _account_values(session: Session, ticket: Ticket, now: datetime) -> dict[str, str]:
    summary = account_details(session, ticket=ticket, now=now)
    loans = summary.loans
    chosen = next((loan for loan in loans if loan.loan_id == ticket.loan_id), None)
    chosen = chosen or next((loan for loan in loans if loan.status in ("current", "overdue")), None)
    chosen = chosen or (loans[0] if loans else None)
    values = {"borrower_name": summary.name, "overdue_amount": format_fen(summary.overdue_amount_fen)}
    if chosen is not None:
        values |= {
            "contract_number": chosen.contract_number,
            "amount_due": format_fen(chosen.next_due_amount_fen),
            "due_date": _chinese_date(chosen.next_due_on),
            "outstanding_principal": format_fen(chosen.outstanding_principal_fen),
        }
    return values


def _macro(session: Session, code: str) -> Macro:
    macro = session.scalar(select(Macro).where(Macro.code == code, Macro.active.is_(True)))
    if macro is None:
        raise NotFound(f"快捷回复不存在：{code}", f"No such macro: {code}", code="macro_not_found")
    return macro


def render_macro(
    session: Session, *, ticket: Ticket, code: str, agent_name: str, now: datetime, viewer: audit.Actor
) -> str:
    """Fill a macro for a ticket; the ledger is read only when the verification level allows and
    the viewer may see the borrower's account (access.py: the 360's rule), else refused.

    Below that level the filled text is scanned like a free-text reply (a macro's own words may
    carry a date or an amount).
    """
    macro = _macro(session, code)
    required = desk_policy().account_detail_level
    level = effective_level(session, ticket, now)
    values = {"ticket_number": ticket.number, "agent_name": agent_name, "hotline": desk_policy().hotline}
    if macros.needs_account_level(macro.body):
        macros.require_level(level, required, "使用含账户信息的快捷回复", "A macro with account details")
        require_account_access(session, viewer=viewer, ticket=ticket)
        values |= _account_values(session, ticket, now)
    text = macros.fill(macro.body, values, level=level, required_level=required)
    _refuse_account_data(session, ticket, text, level=level, now=now)
    return text


def list_macros(session: Session) -> list[Macro]:
    return list(session.scalars(select(Macro).where(Macro.active.is_(True)).order_by(Macro.code)))


def save_macro(
    session: Session, *, actor: audit.Actor, code: str, title: str, body: str, category: str | None
) -> Macro:
    macros.variables_in(body)
    macro = session.scalar(select(Macro).where(Macro.code == code))
    before = None if macro is None else {"title": macro.title, "body": macro.body}
    if macro is None:
        macro = Macro(code=code, title=title, body=body, category=category, active=True)
        session.add(macro)
    else:
        macro.title, macro.body, macro.category, macro.active = title, body, category, True
    session.flush()
    audit.record(session, actor, "macro.save", ("macro", code), before, {"title": title, "body": body})
    return macro


register_secret_drawer("otp", _otp_text)
