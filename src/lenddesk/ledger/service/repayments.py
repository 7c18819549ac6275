"""Repayments: posting, back-dated replay, reversal (four eyes), and credit balances used at the close."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached

from lenddesk.core import audit
from lenddesk.core.db import utcnow
from lenddesk.core.errors import Conflict, Forbidden, Unprocessable
from lenddesk.ledger.locking import begin_write
from lenddesk.ledger.models import Loan, Repayment, ScheduleLine
from lenddesk.ledger.service._common import _check_amount, _lock_loan, _not_found
from lenddesk.ledger.service.posting import _apply_repayment, _Book, _book, _refresh_loan, _use_credit
from lenddesk.ledger.service.posting_rows import NewRepayment, RowPostings
from lenddesk.ledger.service.reference import CHANNELS, REPAYMENT_KINDS, STATUS_LABELS_ZH
from lenddesk.ledger.service.refunds import _deduct_refunds
from lenddesk.ledger.service.restructuring import refuse_replay_if_restructured


class PostingResult:
    """What a posting answers: the repayment, and whether the same (channel, reference) was posted
    before (then it is that first one).

    `posted` is the repayment as stored: a `Repayment`, or on the hot path the plain `NewRepayment`
    just inserted (the same fields). `repayment` is it as an ORM object of the caller's session,
    made on first use with no statement: the HTTP route answers from `posted` and never needs one.
    """

    def __init__(
        self, posted: Repayment | NewRepayment, *, duplicate: bool, session: Session | None = None
    ) -> None:
        self.posted = posted
        self.duplicate = duplicate
        self._session = session

    @cached_property
    def repayment(self) -> Repayment:
        if isinstance(self.posted, Repayment):
            return self.posted
        assert self._session is not None
        return _in_session(self._session, self.posted)


def _locked_repayment(session: Session, repayment_id: int) -> Repayment:
    """The repayment with its loan locked, both read after the lock."""
    repayment = _repayment(session, repayment_id)
    _lock_loan(session, repayment.loan_id)
    session.refresh(repayment)
    return repayment


def _same_reference(session: Session, channel: str, reference: str) -> Repayment | None:
    return session.scalar(
        select(Repayment)
        .where(Repayment.channel == channel, Repayment.external_reference == reference)
        .execution_options(populate_existing=True)
    )


def _replay_or_refuse(existing: Repayment, loan_id: int, amount_fen: int, value_date: date) -> PostingResult:
    """The same (channel, reference) again: the first result if it is the same payment, else 409."""
    if (existing.loan_id, existing.amount_fen, existing.value_date) != (loan_id, amount_fen, value_date):
        raise Conflict(
            "该渠道流水号已用于另一笔不同的还款",
            "This channel reference was already used for a different repayment",
            code="reference_reused",
        )
    return PostingResult(existing, duplicate=True)


def _constraint_of(error: IntegrityError) -> str:
    diagnostics = getattr(error.orig, "diag", None)  # psycopg names the constraint
    name = getattr(diagnostics, "constraint_name", None)
    return name or str(error.orig).splitlines()[0]


def _insert_repayment(session: Session, repayment: Repayment) -> Repayment | None:
    """Insert; when a payment on another loan took the reference meanwhile, return that one instead.

    Only PostgreSQL can see that race (the loan lock covers one loan); on SQLite the write gate held
    since before the reference was checked excludes it, so no savepoint is spent there.
    """
    if session.get_bind().dialect.name == "sqlite":
        try:
            session.add(repayment)
            session.flush()
        except IntegrityError as exc:
            raise _integrity_conflict(exc) from exc
        return None
    try:
        with session.begin_nested():
            session.add(repayment)
            session.flush()
    except IntegrityError as exc:
        existing = _same_reference(session, repayment.channel, repayment.external_reference)
        if existing is None:
            raise _integrity_conflict(exc) from exc
        return existing
    return None


def _integrity_conflict(error: IntegrityError) -> Conflict:
    constraint = _constraint_of(error)
    return Conflict(
        f"数据库拒绝写入这笔还款（约束 {constraint}），未入账",
        f"The database refused to store the repayment (constraint {constraint}); nothing was posted",
        code="integrity_conflict",
        details={"constraint": constraint},
    )


def check_posting(channel: str, external_reference: str, amount_fen: int, kind: str) -> str:
    """Refuse a payment no loan could take (channel, reference, amount, kind); its reference, trimmed."""
    if channel not in CHANNELS:
        raise Unprocessable(
            f"未知的还款渠道：{channel}（可选：{', '.join(CHANNELS)}）",
            f"Unknown repayment channel: {channel} (one of: {', '.join(CHANNELS)})",
            code="unknown_channel",
        )
    reference = external_reference.strip()
    if not reference:
        raise Unprocessable("缺少渠道流水号", "The external reference is required", code="reference_required")
    _check_amount(amount_fen)
    if kind not in REPAYMENT_KINDS:
        raise Unprocessable(
            f"未知的还款类型：{kind}", f"Unknown repayment kind: {kind}", code="unknown_repayment_kind"
        )
    return reference


def post_repayment(
    session: Session,
    *,
    actor: audit.Actor,
    contract_number: str,
    channel: str,
    external_reference: str,
    amount_fen: int,
    value_date: date,
    today: date,
    kind: str = "regular",
    audit_first: Callable[[int], dict[str, Any]] | None = None,
) -> PostingResult:
    """Post a payment received on a channel; the same (channel, reference) is accepted once.

    The hot path on SQLAlchemy Core (`posting_rows`): on SQLite the write gate, then the loan with
    its product (locked on PostgreSQL), its lines with the reference and later payments, the insert
    of the repayment, the lines, the loan and the audit — five or six statements (tests/ledger/test_
    posting_statements.py); a bucket change or a settlement adds its own. A back-dated payment
    re-allocates the loan's repayments through the ORM replay.

    `audit_first(borrower_id)`, when given, is an audit entry (`audit.entry_values`) written before
    the posting's own, in the same statement (a member of staff's `borrower.write`).
    """
    reference = check_posting(channel, external_reference, amount_fen, kind)
    begin_write(session)
    postings = RowPostings(session, actor, today)
    read = postings.load_contract(  # the loan lock, then its lines and payments
        contract_number.strip().upper(), channel=channel, reference=reference, value_date=value_date
    )
    if read is None:
        raise _not_found("合同", "contract", contract_number)
    loan = read.book.loan
    first = [audit_first(loan.borrower_id)] if audit_first is not None else []  # type: ignore[attr-defined]
    if read.reference_taken_by is not None:
        existing = _same_reference(session, channel, reference)
        result = _replay_or_refuse(existing, loan.id, amount_fen, value_date)  # type: ignore[arg-type]
        audit.insert_entries(session, first)
        return result
    _refuse_posting(loan.status, loan.disbursed_on, value_date, today)  # type: ignore[attr-defined]
    if read.later_payments:  # a back-dated payment: allocate everything again in value-date order
        audit.insert_entries(session, first)
        return _post_back_dated(
            session, actor, loan.id, channel, reference, amount_fen, value_date, today, kind
        )
    for entry in first:
        postings.add_audit(entry)
    repayment = NewRepayment(loan.id, channel, reference, amount_fen, value_date, kind)  # type: ignore[attr-defined]
    postings.post(read.book, repayment)
    try:
        inserted = postings.insert_repayment_once(repayment)
    except IntegrityError as exc:  # another constraint (e.g. an id sequence behind its rows)
        raise _integrity_conflict(exc) from exc
    if not inserted:  # a payment on another loan took the reference meanwhile
        raced = _same_reference(session, channel, reference)
        assert raced is not None
        result = _replay_or_refuse(raced, loan.id, amount_fen, value_date)  # type: ignore[attr-defined]
        audit.insert_entries(session, first)
        return result
    postings.write()
    return PostingResult(repayment, duplicate=False, session=session)


def _in_session(session: Session, new: NewRepayment) -> Repayment:
    """The repayment just inserted as a persistent ORM object of the session, with no statement
    (its columns are all known): callers go on with it as with any repayment they read. If the
    session has read it meanwhile, that object."""
    present = session.identity_map.get(session.identity_key(Repayment, new.id))
    if present is not None:
        return present  # type: ignore[no-any-return]
    repayment = Repayment(
        id=new.id,
        loan_id=new.loan_id,
        channel=new.channel,
        external_reference=new.external_reference,
        amount_fen=new.amount_fen,
        value_date=new.value_date,
        received_at=new.received_at,
        kind=new.kind,
        status=new.status,
        allocation=new.allocation,
        posted_by=new.posted_by,
        reversal_reason=None,
        reversal_requested_by=None,
        reversal_approved_by=None,
        reversed_at=None,
    )
    make_transient_to_detached(repayment)
    session.add(repayment)
    return repayment


def _refuse_posting(status: str, disbursed_on: date, value_date: date, today: date) -> None:
    if status in ("settled", "written_off"):
        raise Conflict(
            f"贷款已{STATUS_LABELS_ZH[status]}，不能再入账还款",
            f"The loan is {status.replace('_', ' ')}; no repayment can be posted",
            code=f"loan_{status}",
        )
    if value_date < disbursed_on:
        raise Unprocessable(
            "还款日期不能早于放款日",
            "The value date cannot be before the disbursement date",
            code="date_before_disbursement",
        )
    if value_date > today:
        raise Unprocessable(
            "还款日期不能晚于今天", "The value date cannot be in the future", code="date_in_future"
        )


def _post_back_dated(
    session: Session,
    actor: audit.Actor,
    loan_id: int,
    channel: str,
    reference: str,
    amount_fen: int,
    value_date: date,
    today: date,
    kind: str,
) -> PostingResult:
    """The ORM posting and a replay of the loan's repayments in value-date order (the loan is locked)."""
    loan = _lock_loan(session, loan_id)
    repayment = Repayment(
        loan_id=loan.id,
        channel=channel,
        external_reference=reference,
        amount_fen=amount_fen,
        value_date=value_date,
        kind=kind,
        status="posted",
        posted_by=actor.name,
    )
    book = _book(session, loan)
    raced = _insert_repayment(session, repayment)
    if raced is not None:
        return _replay_or_refuse(raced, loan.id, amount_fen, value_date)
    _replay(session, book, today=today, actor=actor, posting=repayment)
    session.flush()
    audit.record(
        session,
        actor,
        "repayment.post",
        ("loan", loan.id),
        None,
        {
            "repayment_id": repayment.id,
            "channel": channel,
            "reference": reference,
            "amount_fen": amount_fen,
            "value_date": value_date,
            "kind": kind,
            "allocation": repayment.allocation,
        },
    )
    return PostingResult(repayment, duplicate=False)


def _original_schedule(lines: Sequence[ScheduleLine]) -> dict[int, tuple[int, int]]:
    """The principal and interest stored when the loan was made, never a schedule generated anew
    (a rate, a rounding rule or a maturity convention changed since must not change old loans)."""
    return {line.period: (line.original_principal_fen, line.original_interest_fen) for line in lines}


class _PrepaymentBehindLaterPayment(Conflict):
    default_code = "prepayment_behind_later_payment"


def _replay(
    session: Session,
    book: _Book,
    *,
    today: date,
    actor: audit.Actor,
    posting: Repayment | None = None,
) -> None:
    """Re-allocate every repayment not reversed from a clean state, in value-date order.

    Penalties and late fees that the close of business accrued on the lines (and their waivers)
    stay; what was paid, and the principal and interest that prepayments re-scheduled, start over.
    An earlier early repayment that no longer fits pays as a regular one; the one being `posting`
    (back-dated behind a later payment) is refused instead.
    """
    refuse_replay_if_restructured(session, book.loan.id)
    original = _original_schedule(book.lines)
    for line in book.lines:
        line.principal_fen, line.interest_fen = original[line.period]
        line.paid_principal_fen = line.paid_interest_fen = line.paid_penalty_fen = line.paid_late_fee_fen = 0
        line.paid_off_on = None
    book.loan.credit_balance_fen = 0
    book.loan.principal_days_repaid = book.loan.early_repayment_fees_fen = 0
    session.flush()
    repayments = session.scalars(
        select(Repayment)
        .where(Repayment.loan_id == book.loan.id, Repayment.status != "reversed")
        .order_by(Repayment.value_date, Repayment.id)
    ).all()
    for repayment in repayments:
        if repayment is not posting:
            _apply_repayment(book, repayment, replaying=True)
            continue
        try:
            _apply_repayment(book, repayment, replaying=False)
        except Unprocessable as error:
            raise _behind_later_payment(repayment, error) from None
    _deduct_refunds(session, book)
    _use_credit(book, today)  # what is left over pays what is payable today, as a new posting would
    last_value_date = repayments[-1].value_date if repayments else None
    _refresh_loan(session, book, today=today, actor=actor, settled_on=last_value_date)


def _behind_later_payment(repayment: Repayment, reason: Unprocessable) -> Conflict:
    day = repayment.value_date
    return _PrepaymentBehindLaterPayment(
        f"提前还款的起息日 {day} 早于本贷款已入账的还款：按起息日顺序重新分配后不能作为提前还款入账"
        f"（{reason.message_zh}）。请以当前日期入账，或先冲正较晚的还款。",
        f"The early repayment is dated {day}, before a repayment already posted on this loan: put back"
        f" in value-date order it no longer applies as an early repayment ({reason.message_en})."
        " Post it with today's date, or reverse the later repayment first.",
        details={"value_date": day.isoformat(), "reason": reason.code, **(reason.details or {})},
    )


def request_reversal(session: Session, *, actor: audit.Actor, repayment_id: int, reason: str) -> Repayment:
    """An agent or collector asks for a repayment to be reversed; a team lead approves."""
    repayment = _locked_repayment(session, repayment_id)
    if not reason.strip():
        raise Unprocessable("冲正须填写原因", "A reversal needs a reason", code="reason_required")
    if repayment.status != "posted":
        raise Conflict(
            "该笔还款已申请冲正或已冲正",
            "This repayment is already under reversal or reversed",
            code="not_reversible",
        )
    repayment.status = "reversal_requested"
    repayment.reversal_reason = reason.strip()
    repayment.reversal_requested_by = actor.name
    audit.record(
        session,
        actor,
        "repayment.reversal_request",
        ("loan", repayment.loan_id),
        {"repayment_id": repayment.id, "status": "posted"},
        {"repayment_id": repayment.id, "status": "reversal_requested", "reason": repayment.reversal_reason},
    )
    return repayment


def approve_reversal(session: Session, *, actor: audit.Actor, repayment_id: int, today: date) -> Repayment:
    """Reverse the repayment and re-allocate every repayment after it (four eyes: not the requester)."""
    repayment = _locked_repayment(session, repayment_id)
    if repayment.status != "reversal_requested":
        raise Conflict(
            "该笔还款没有待审批的冲正申请",
            "No reversal is pending for this repayment",
            code="no_pending_reversal",
        )
    if repayment.reversal_requested_by == actor.name:
        raise Forbidden(
            "不能审批自己提交的冲正申请", "You cannot approve your own reversal request", code="own_request"
        )
    loan = session.get(Loan, repayment.loan_id)  # locked and read by _locked_repayment
    assert loan is not None
    before = {
        "repayment_id": repayment.id,
        "status": repayment.status,
        "outstanding_principal_fen": loan.outstanding_principal_fen,
    }
    repayment.status = "reversed"
    repayment.reversal_approved_by = actor.name
    repayment.reversed_at = utcnow()
    session.flush()
    _replay(session, _book(session, loan), today=today, actor=actor)
    audit.record(
        session,
        actor,
        "repayment.reverse",
        ("loan", loan.id),
        before,
        {
            "repayment_id": repayment.id,
            "status": "reversed",
            "outstanding_principal_fen": loan.outstanding_principal_fen,
        },
    )
    return repayment


def reject_reversal(session: Session, *, actor: audit.Actor, repayment_id: int, note: str = "") -> Repayment:
    repayment = _locked_repayment(session, repayment_id)
    if repayment.status != "reversal_requested":
        raise Conflict(
            "该笔还款没有待审批的冲正申请",
            "No reversal is pending for this repayment",
            code="no_pending_reversal",
        )
    repayment.status = "posted"
    audit.record(
        session,
        actor,
        "repayment.reversal_reject",
        ("loan", repayment.loan_id),
        {"repayment_id": repayment.id, "status": "reversal_requested"},
        {"repayment_id": repayment.id, "status": "posted", "note": note},
    )
    return repayment


def _repayment(session: Session, repayment_id: int) -> Repayment:
    repayment = session.get(Repayment, repayment_id)
    if repayment is None:
        raise _not_found("还款记录", "repayment", repayment_id)
    return repayment


def apply_credit_balances(session: Session, *, business_date: date) -> int:
    """Let credit balances pay the instalments payable on `business_date` (for the close of business).

    Only loans holding credit are touched (a handful); returns how many changed.
    """
    holding_credit = select(Loan.id).where(
        Loan.credit_balance_fen > 0, Loan.status.in_(("current", "overdue"))
    )
    changed = 0
    for loan_id in session.scalars(holding_credit.order_by(Loan.id)).all():
        loan = _lock_loan(session, loan_id)  # in id order: no deadlock with another locker
        if loan.credit_balance_fen <= 0 or loan.status not in ("current", "overdue"):
            continue  # used or closed since the list was read
        book = _book(session, loan)
        credit = loan.credit_balance_fen
        _use_credit(book, business_date)
        if loan.credit_balance_fen != credit:
            _refresh_loan(
                session, book, today=business_date, actor=audit.Actor.system("cob"), settled_on=business_date
            )
            changed += 1
    return changed
