"""The blacklist: requests, four-eyes approval of a listing or a removal, checks, and the read
interface other rooms use. Only keyed hashes are stored (risk/blacklist.py); no clear number is
written to any table, log or audit row."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from sqlalchemy import Select, select, union
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from lenddesk.risk import blacklist
from lenddesk.risk.models import BlacklistEntry, BorrowerKey
from lenddesk.risk.service._common import (
    borrower_hashes,
    identity_of,
    insert_for,
    risk_key,
    risk_policy,
    take_write_gate,
)

LISTED = ("listed", "removal_pending")
STATUS_LABELS_ZH = {
    "pending": "待审批加入",
    "listed": "已列入",
    "removal_pending": "待审批移出",
    "removed": "已移出",
    "rejected": "已驳回",
}


def _hash_of(kind: str, value: str) -> str:
    if kind not in blacklist.KINDS:
        raise Unprocessable(f"未知的类型：{kind}", f"Unknown kind {kind!r}", code="unknown_kind")
    normalised = blacklist.normalise(kind, value)
    if not blacklist.is_valid(kind, normalised):
        if kind == "id_number":
            raise Unprocessable(
                "身份证号码无效（长度、出生日期或校验位不正确）",
                "Invalid mainland ID card number (length, birth date or GB 11643 check digit)",
                code="invalid_id_number",
            )
        raise Unprocessable(
            "手机号码无效，应为 11 位中国大陆手机号",
            "Invalid mobile number: expected an 11-digit mainland China mobile number",
            code="invalid_mobile",
        )
    return blacklist.keyed_hash(risk_key(), kind, normalised)


def _clean_reason(reason: str, kind: str, value: str) -> str:
    """The reason as given, refused when it carries the number itself (or any long digit run)."""
    text = unicodedata.normalize("NFKC", reason or "").strip()
    if not text:
        raise Unprocessable("请填写原因", "A reason is required", code="reason_required")
    digits = re.sub(r"[\s\-]", "", text)
    if blacklist.normalise(kind, value) in digits.upper() or re.search(r"\d{11,}", digits):
        raise Unprocessable(
            "原因中不得包含证件号或手机号",
            "The reason must not contain an ID or mobile number",
            code="reason_contains_number",
        )
    return text[:255]


def _audited(entry: BlacklistEntry) -> dict[str, object]:
    return {"kind": entry.kind, "status": entry.status, "hash_prefix": entry.value_hash[:8]}


def request_listing(
    session: Session, *, actor: audit.Actor, kind: str, value: str, reason: str, now: datetime
) -> BlacklistEntry:
    """Ask to list a number; it is listed once a second person approves (409 when already live)."""
    value_hash = _hash_of(kind, value)
    reason = _clean_reason(reason, kind, value)
    take_write_gate(session)
    inserted = session.execute(
        insert_for(session)(BlacklistEntry)
        .values(
            kind=kind,
            value_hash=value_hash,
            live_key=value_hash,
            status="pending",
            reason=reason,
            requested_by=actor.name,
            requested_at=now,
        )
        .on_conflict_do_nothing(index_elements=["live_key"])
        .returning(BlacklistEntry.id)
    ).scalar()
    if inserted is None:
        live = session.scalar(select(BlacklistEntry).where(BlacklistEntry.live_key == value_hash))
        raise Conflict(
            "该号码已在黑名单中或已有待审批的申请",
            "The number is already listed or has a pending request",
            code="already_requested",
            details={"id": live.id, "status": live.status} if live is not None else None,
        )
    entry = session.get(BlacklistEntry, inserted)
    assert entry is not None
    audit.record(
        session, actor, "risk.blacklist.request", ("risk_blacklist", entry.id), None, _audited(entry)
    )
    return entry


def lock_entry(session: Session, entry_id: int) -> BlacklistEntry:
    take_write_gate(session)
    entry = session.scalar(
        select(BlacklistEntry)
        .where(BlacklistEntry.id == entry_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if entry is None:
        raise NotFound(
            f"黑名单记录不存在：{entry_id}", f"No such blacklist entry: {entry_id}", code="unknown_entry"
        )
    return entry


def approve(session: Session, *, actor: audit.Actor, entry_id: int, now: datetime) -> BlacklistEntry:
    """A second person approves the pending listing or removal (never the person who asked)."""
    if actor.role != "admin" and actor.role not in risk_policy().blacklist_approver_roles:
        raise Forbidden("当前角色无权审批黑名单", f"Role {actor.role} may not approve", code="role_forbidden")
    entry = lock_entry(session, entry_id)
    before = _audited(entry)
    if entry.status == "pending":
        _second_person(actor, entry.requested_by)
        entry.status, entry.approved_by, entry.approved_at = "listed", actor.name, now
        action = "risk.blacklist.approve"
    elif entry.status == "removal_pending":
        _second_person(actor, entry.removal_requested_by)
        entry.status, entry.live_key, entry.removed_by, entry.removed_at = "removed", None, actor.name, now
        action = "risk.blacklist.remove"
    else:
        raise Conflict(
            f"该记录状态为「{STATUS_LABELS_ZH[entry.status]}」，没有待审批的申请",
            f"The entry is {entry.status}; nothing waits for approval",
            code="not_pending",
        )
    audit.record(session, actor, action, ("risk_blacklist", entry.id), before, _audited(entry))
    return entry


def reject(
    session: Session, *, actor: audit.Actor, entry_id: int, note: str, now: datetime
) -> BlacklistEntry:
    """A second person turns down the pending request: a listing ends `rejected` (never listed), a
    removal goes back to `listed`. The approvers decide both ways; the note is kept in the audit."""
    if actor.role != "admin" and actor.role not in risk_policy().blacklist_approver_roles:
        raise Forbidden("当前角色无权审批黑名单", f"Role {actor.role} may not approve", code="role_forbidden")
    text = _clean_note(note)
    entry = lock_entry(session, entry_id)
    before = _audited(entry)
    if entry.status == "pending":
        _second_person(actor, entry.requested_by)
        entry.status, entry.live_key = "rejected", None
        entry.approved_by, entry.approved_at = actor.name, now
        action = "risk.blacklist.reject"
    elif entry.status == "removal_pending":
        _second_person(actor, entry.removal_requested_by)
        entry.status = "listed"
        entry.removal_reason = entry.removal_requested_by = entry.removal_requested_at = None
        action = "risk.blacklist.reject_removal"
    else:
        raise Conflict(
            f"该记录状态为「{STATUS_LABELS_ZH[entry.status]}」，没有待审批的申请",
            f"The entry is {entry.status}; nothing waits for a decision",
            code="not_pending",
        )
    audit.record(
        session, actor, action, ("risk_blacklist", entry.id), before, {**_audited(entry), "note": text}
    )
    return entry


def _clean_note(note: str) -> str:
    text = unicodedata.normalize("NFKC", note or "").strip()
    if not text:
        raise Unprocessable("请填写理由", "A reason is required", code="reason_required")
    if re.search(r"\d{11,}", re.sub(r"[\s\-]", "", text)):
        raise Unprocessable(
            "理由中不得包含证件号或手机号",
            "The reason must not contain an ID or mobile number",
            code="reason_contains_number",
        )
    return text[:255]


def _second_person(actor: audit.Actor, requested_by: str | None) -> None:
    if actor.name == requested_by:
        raise Forbidden(
            "须由申请人以外的另一人审批",
            "A second person must approve, not the one who asked",
            code="four_eyes",
        )


def request_removal(
    session: Session, *, actor: audit.Actor, entry_id: int, reason: str, now: datetime
) -> BlacklistEntry:
    """Ask to remove a listed number; it stays listed until a second person approves."""
    text = _clean_note(reason)
    entry = lock_entry(session, entry_id)
    if entry.status != "listed":
        raise Conflict(
            f"该记录状态为「{STATUS_LABELS_ZH[entry.status]}」，不能申请移出",
            f"The entry is {entry.status}; only a listed entry can be removed",
            code="not_listed",
        )
    before = _audited(entry)
    entry.status, entry.removal_reason = "removal_pending", text[:255]
    entry.removal_requested_by, entry.removal_requested_at = actor.name, now
    audit.record(
        session,
        actor,
        "risk.blacklist.request_removal",
        ("risk_blacklist", entry.id),
        before,
        _audited(entry),
    )
    return entry


def list_entries(session: Session, *, limit: int = 500) -> list[BlacklistEntry]:
    return list(session.scalars(select(BlacklistEntry).order_by(BlacklistEntry.id.desc()).limit(limit)).all())


def _listed(session: Session, hashes: list[str]) -> bool:
    found = session.scalar(
        select(BlacklistEntry.id)
        .where(BlacklistEntry.value_hash.in_(hashes), BlacklistEntry.status.in_(LISTED))
        .limit(1)
    )
    return found is not None


def check(session: Session, *, kind: str, value: str) -> bool:
    """Whether the number is listed now (a pending request does not list it yet)."""
    return _listed(session, [_hash_of(kind, value)])


def is_blacklisted(session: Session, borrower_id: int) -> bool:
    """The read interface: whether the borrower's ID number or mobile is listed (404 for none)."""
    id_number, mobile = identity_of(session, borrower_id)
    return _listed(session, list(borrower_hashes(id_number, mobile)))


def blacklisted_borrower_ids() -> Select:
    """The set-based read interface: ids of borrowers whose ID number or mobile is listed, as of the
    borrower keys (refreshed by every close; a later care room excludes these from its offers)."""
    listed = BlacklistEntry.status.in_(LISTED)
    by_id = (
        select(BorrowerKey.borrower_id)
        .join(BlacklistEntry, BlacklistEntry.value_hash == BorrowerKey.id_hash)
        .where(listed)
    )
    by_mobile = (
        select(BorrowerKey.borrower_id)
        .join(BlacklistEntry, BlacklistEntry.value_hash == BorrowerKey.mobile_hash)
        .where(listed)
    )
    return select(union(by_id, by_mobile).subquery().c.borrower_id)


def refresh_borrower_key(session: Session, borrower_id: int) -> None:
    """Store the keyed hashes of one borrower (e.g. after their mobile changed)."""
    id_number, mobile = identity_of(session, borrower_id)
    id_hash, mobile_hash = borrower_hashes(id_number, mobile)
    statement = insert_for(session)(BorrowerKey).values(
        borrower_id=borrower_id, id_hash=id_hash, mobile_hash=mobile_hash
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["borrower_id"],
            set_={"id_hash": statement.excluded.id_hash, "mobile_hash": statement.excluded.mobile_hash},
        )
    )
