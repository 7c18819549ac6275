"""Recoveries on written-off loans (核销后回收), posted and reported apart from repayments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import Conflict, Unprocessable
from lenddesk.ledger.models import Loan, Recovery, Repayment
from lenddesk.ledger.service._common import (
    _check_money,
    _due,
    _lines,
    _lock_loan,
    _required_text,
    loan_by_contract,
)
from lenddesk.ledger.service.posting import _issue_certificate
from lenddesk.ledger.service.reference import CHANNELS


@dataclass(frozen=True)
class RecoveryResult:
    recovery: Recovery
    duplicate: bool  # the same (channel, reference) was posted before: this is the first result


def written_off_balance_fen(session: Session, loan: Loan) -> int:
    """What was owed on the lines when the loan was written off (lines do not move afterwards)."""
    return sum(_due(line).total for line in _lines(session, loan.id))


def recovered_fen(session: Session, loan_id: int) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(Recovery.amount_fen), 0)).where(Recovery.loan_id == loan_id)
    )
    return int(total or 0)


def post_recovery(
    session: Session,
    *,
    actor: audit.Actor,
    contract_number: str,
    channel: str,
    external_reference: str,
    amount_fen: int,
    value_date: date,
    today: date,
) -> RecoveryResult:
    """Money received on a written-off loan (核销后回收), kept apart from repayments.

    The loan stays written off until recoveries cover what was owed at write-off; then it is
    settled and a certificate issued. Anything beyond that is a credit balance (refundable).
    """
    if channel not in CHANNELS:
        raise Unprocessable(
            f"未知的还款渠道：{channel}（可选：{', '.join(CHANNELS)}）",
            f"Unknown repayment channel: {channel} (one of: {', '.join(CHANNELS)})",
            code="unknown_channel",
        )
    reference = _required_text(
        external_reference, "渠道流水号", "external reference", "reference_required", 64
    )
    amount_fen = _check_money(amount_fen)
    loan = _lock_loan(session, loan_by_contract(session, contract_number).id)
    existing = session.scalar(
        select(Recovery).where(Recovery.channel == channel, Recovery.external_reference == reference)
    )
    if existing is not None:
        if (existing.loan_id, existing.amount_fen, existing.value_date) != (loan.id, amount_fen, value_date):
            raise Conflict(
                "该渠道流水号已用于另一笔不同的回收款",
                "This channel reference was already used for a different recovery",
                code="reference_reused",
            )
        return RecoveryResult(existing, duplicate=True)
    if session.scalar(
        select(Repayment.id).where(Repayment.channel == channel, Repayment.external_reference == reference)
    ):
        raise Conflict(
            "该渠道流水号已用于一笔还款",
            "This channel reference was already used for a repayment",
            code="reference_reused",
        )
    if loan.status != "written_off":
        raise Conflict(
            "只有已核销的贷款才能入账回收款；正常还款请走还款入账",
            "Recoveries are posted on written-off loans only; post a repayment instead",
            code="loan_not_written_off",
        )
    if value_date > today or (loan.written_off_on and value_date < loan.written_off_on):
        raise Unprocessable(
            "回收日期须在核销日与今天之间",
            "The value date must lie between the write-off date and today",
            code="recovery_date_out_of_range",
        )
    owed = written_off_balance_fen(session, loan) - recovered_fen(session, loan.id)
    recovery = Recovery(
        loan_id=loan.id,
        channel=channel,
        external_reference=reference,
        amount_fen=amount_fen,
        value_date=value_date,
        posted_by=actor.name,
    )
    session.add(recovery)
    session.flush()
    after: dict[str, Any] = {
        "recovery_id": recovery.id,
        "channel": channel,
        "reference": reference,
        "amount_fen": amount_fen,
        "value_date": value_date,
        "owed_before_fen": owed,
    }
    if amount_fen >= owed:
        loan.credit_balance_fen += amount_fen - owed
        _settle_by_recovery(session, loan, value_date)
        after.update(status="settled", credit_fen=amount_fen - owed)
    audit.record(session, actor, "loan.recovery", ("loan", loan.id), None, after)
    return RecoveryResult(recovery, duplicate=False)


def _settle_by_recovery(session: Session, loan: Loan, on: date) -> None:
    loan.status, loan.settled_on, loan.days_past_due = "settled", on, 0
    loan.oldest_unpaid_due_on = loan.next_due_on = None
    certificate = _issue_certificate(session, loan)
    certificate.total_paid_fen += recovered_fen(session, loan.id)


@dataclass(frozen=True)
class RecoveryBook:
    """Recoveries of the whole book, reported apart from ordinary repayments."""

    written_off_loans: int
    loans_with_recoveries: int
    recovered_fen: int
    recoveries: int


def recovery_book(session: Session) -> RecoveryBook:
    written_off = session.scalar(select(func.count(Loan.id)).where(Loan.written_off_on.is_not(None)))
    count, loans, total = session.execute(
        select(
            func.count(Recovery.id),
            func.count(func.distinct(Recovery.loan_id)),
            func.coalesce(func.sum(Recovery.amount_fen), 0),
        )
    ).one()
    return RecoveryBook(
        written_off_loans=int(written_off or 0),
        loans_with_recoveries=int(loans),
        recovered_fen=int(total),
        recoveries=int(count),
    )
