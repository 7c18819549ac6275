"""Use cases of the loan ledger. Functions take a Session and never commit.

`account_summary` and `find_borrower` are the ledger's read interface for other rooms (desk side
panel and macros, collections); keep their signatures stable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core.errors import NotFound
from lenddesk.ledger.models import Borrower, Loan, ScheduleLine


@dataclass(frozen=True)
class LoanSummary:
    loan_id: int
    contract_number: str
    status: str
    bucket: str
    days_past_due: int
    principal_fen: int
    outstanding_principal_fen: int
    next_due_on: date | None
    next_due_amount_fen: int
    overdue_amount_fen: int


@dataclass(frozen=True)
class AccountSummary:
    borrower_id: int
    name: str
    mobile: str
    loans: list[LoanSummary]

    @property
    def overdue_amount_fen(self) -> int:
        return sum(loan.overdue_amount_fen for loan in self.loans)


def _unpaid(line: ScheduleLine) -> int:
    due = line.principal_fen + line.interest_fen + line.penalty_fen + line.late_fee_fen
    paid = line.paid_principal_fen + line.paid_interest_fen + line.paid_penalty_fen + line.paid_late_fee_fen
    waived = line.waived_penalty_fen + line.waived_late_fee_fen
    return max(due - paid - waived, 0)


def _loan_summary(session: Session, loan: Loan, today: date) -> LoanSummary:
    lines = session.scalars(
        select(ScheduleLine).where(ScheduleLine.loan_id == loan.id).order_by(ScheduleLine.period)
    ).all()
    overdue = sum(_unpaid(line) for line in lines if line.due_on < today)
    upcoming = [line for line in lines if line.due_on >= today and _unpaid(line) > 0]
    return LoanSummary(
        loan_id=loan.id,
        contract_number=loan.contract_number,
        status=loan.status,
        bucket=loan.bucket,
        days_past_due=loan.days_past_due,
        principal_fen=loan.principal_fen,
        outstanding_principal_fen=loan.outstanding_principal_fen,
        next_due_on=upcoming[0].due_on if upcoming else None,
        next_due_amount_fen=_unpaid(upcoming[0]) if upcoming else 0,
        overdue_amount_fen=overdue,
    )


def account_summary(session: Session, *, borrower_id: int, today: date) -> AccountSummary:
    """What a borrower owes, loan by loan, as of `today` (a Shanghai business date)."""
    borrower = session.get(Borrower, borrower_id)
    if borrower is None:
        raise NotFound(f"借款人不存在：{borrower_id}", f"No such borrower: {borrower_id}")
    loans = session.scalars(select(Loan).where(Loan.borrower_id == borrower_id).order_by(Loan.id)).all()
    return AccountSummary(
        borrower_id=borrower.id,
        name=borrower.name,
        mobile=borrower.mobile,
        loans=[_loan_summary(session, loan, today) for loan in loans],
    )


def find_borrower(
    session: Session,
    *,
    mobile: str | None = None,
    email: str | None = None,
    wechat_openid: str | None = None,
) -> Borrower | None:
    """The borrower registered with this phone, e-mail or WeChat openid (first match), if any."""
    if mobile:
        return session.scalar(select(Borrower).where(Borrower.mobile == mobile).limit(1))
    if email:
        return session.scalar(select(Borrower).where(Borrower.email == email.lower()).limit(1))
    if wechat_openid:
        return session.scalar(select(Borrower).where(Borrower.wechat_openid == wechat_openid).limit(1))
    return None
