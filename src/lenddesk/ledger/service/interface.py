"""The small read interface other rooms use: account summary, borrower lookup, portfolio at a glance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.core.errors import NotFound
from lenddesk.ledger.models import Borrower, Loan
from lenddesk.ledger.service._common import _due, _lines


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


def _loan_summary(session: Session, loan: Loan, today: date) -> LoanSummary:
    dues = [_due(line) for line in _lines(session, loan.id)]
    overdue = sum(due.total for due in dues if due.due_on < today)
    upcoming = [due for due in dues if due.due_on >= today and due.total > 0]
    return LoanSummary(
        loan_id=loan.id,
        contract_number=loan.contract_number,
        status=loan.status,
        bucket=loan.bucket,
        days_past_due=loan.days_past_due,
        principal_fen=loan.principal_fen,
        outstanding_principal_fen=loan.outstanding_principal_fen,
        next_due_on=upcoming[0].due_on if upcoming else None,
        next_due_amount_fen=upcoming[0].total if upcoming else 0,
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


# --- the portfolio at a glance (home page) --------------------------------------------------------


@dataclass(frozen=True)
class PortfolioGlance:
    active_loans: int
    overdue_loans: int
    overdue_principal_fen: int
    by_bucket: dict[str, int]

    @property
    def overdue_share(self) -> float:
        return self.overdue_loans / self.active_loans if self.active_loans else 0.0


def portfolio_glance(session: Session) -> PortfolioGlance:
    """Active loans, how many are overdue and their outstanding principal, by bucket (one query)."""
    rows = session.execute(
        select(Loan.bucket, Loan.status, func.count(Loan.id), func.sum(Loan.outstanding_principal_fen))
        .where(Loan.status.in_(("current", "overdue")))
        .group_by(Loan.bucket, Loan.status)
    ).all()
    overdue = [row for row in rows if row.status == "overdue"]
    return PortfolioGlance(
        active_loans=sum(row[2] for row in rows),
        overdue_loans=sum(row[2] for row in overdue),
        overdue_principal_fen=int(sum(row[3] or 0 for row in overdue)),
        by_bucket={row.bucket: row[2] for row in sorted(overdue, key=lambda row: row.bucket)},
    )
