"""The small read interface other rooms use: account summary, borrower lookup, portfolio at a glance.

Other rooms read the ledger here (and, for set-based jobs, through the SQL of `ledger.read_sql`),
never through its models or tables (docs/ARCHITECTURE.md, "Read interfaces").
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, Subquery, bindparam, func, select
from sqlalchemy.orm import Session

from lenddesk.core.errors import NotFound
from lenddesk.core.pii import normalise_mobile
from lenddesk.ledger.models import Borrower, BorrowerContact, Loan, Product
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


# Built once: intake (the desk's hot path) looks a sender up on every message.
_BORROWER_ID_BY = {
    name: select(Borrower.__table__.c.id).where(Borrower.__table__.c[name] == bindparam("address")).limit(1)
    for name in ("mobile", "email", "wechat_openid")
}


def find_borrower_id(
    session: Session,
    *,
    mobile: str | None = None,
    email: str | None = None,
    wechat_openid: str | None = None,
) -> int | None:
    """The id of the borrower registered with this phone, e-mail or WeChat openid (first match):
    one indexed lookup, no object loaded. The address is taken as given (callers normalise it)."""
    for column, address in (("mobile", mobile), ("email", email), ("wechat_openid", wechat_openid)):
        if address:
            return session.scalar(_BORROWER_ID_BY[column], {"address": address})
    return None


_BORROWER_COLUMNS = {"mobile", "email", "wechat_openid", "name"}


def borrower_ids_where(column: str, value: Any) -> Select[Any]:
    """A subquery of the ids of borrowers whose `column` (mobile, email, wechat_openid or name) equals
    `value` (a value or a bind parameter), for another room's statement (`… IN (this)`)."""
    if column not in _BORROWER_COLUMNS:
        raise ValueError(f"not a borrower lookup column: {column}")
    return select(Borrower.id).where(getattr(Borrower, column) == value)


_BORROWER_NAMES = select(Borrower.id, Borrower.name).subquery("borrower_names")


def borrower_names() -> Subquery:
    """Borrowers' `id` and `name` as a row source another room joins in one statement (a worklist)."""
    return _BORROWER_NAMES


@dataclass(frozen=True)
class BorrowerCard:
    """Who a borrower is and where they are reached (no identity number, no address)."""

    id: int
    name: str
    mobile: str
    email: str | None
    wechat_openid: str | None


def _card(borrower: Borrower) -> BorrowerCard:
    return BorrowerCard(borrower.id, borrower.name, borrower.mobile, borrower.email, borrower.wechat_openid)


def borrower_card(session: Session, borrower_id: int) -> BorrowerCard | None:
    """The borrower's name and addresses, by id (from the session when already loaded)."""
    borrower = session.get(Borrower, borrower_id)
    return _card(borrower) if borrower is not None else None


OPEN_LOAN_STATUSES = ("current", "overdue")


def product_codes(session: Session) -> set[str]:
    """Every product code on the book (to check a list of codes another room was given)."""
    return set(session.scalars(select(Product.code)))


def open_loan_products(session: Session, *, borrower_id: int) -> dict[int, str]:
    """The borrower's open loans (current or overdue): loan id → product code."""
    rows = session.execute(
        select(Loan.id, Product.code)
        .join(Product, Product.id == Loan.product_id)
        .where(Loan.borrower_id == borrower_id, Loan.status.in_(OPEN_LOAN_STATUSES))
    ).all()
    return {loan_id: code for loan_id, code in rows}


def loan_product_code(session: Session, loan_id: int) -> str | None:
    """The product code of a loan, by id."""
    return session.scalar(
        select(Product.code).join(Loan, Loan.product_id == Product.id).where(Loan.id == loan_id)
    )


def borrowers_with_open_loans(
    session: Session, *, product_codes: list[str] | None, after_id: int = 0, limit: int = 1000
) -> list[BorrowerCard]:
    """Borrowers holding an open loan (of one of `product_codes`; None: any product), by id after
    `after_id`, at most `limit` (a broadcast pages through the book)."""
    loans = select(Loan.borrower_id).where(Loan.status.in_(OPEN_LOAN_STATUSES))
    if product_codes is not None:
        loans = loans.join(Product, Product.id == Loan.product_id).where(Product.code.in_(product_codes))
    statement = select(Borrower).where(Borrower.id.in_(loans), Borrower.id > after_id)
    statement = statement.order_by(Borrower.id).limit(limit)
    return [_card(borrower) for borrower in session.scalars(statement)]


def borrower_ids_of_products(product_codes: list[str] | None) -> Select:
    """Ids of borrowers holding an open loan of one of `product_codes`; None: every borrower (for
    another room's `NOT IN`)."""
    if product_codes is None:
        return select(Borrower.id)
    return (
        select(Loan.borrower_id)
        .join(Product, Product.id == Loan.product_id)
        .where(Loan.status.in_(OPEN_LOAN_STATUSES), Product.code.in_(product_codes))
    )


def first_borrowers(session: Session, limit: int) -> list[BorrowerCard]:
    """The first `limit` borrowers by id (demo data that writes to real borrowers)."""
    return [_card(b) for b in session.scalars(select(Borrower).order_by(Borrower.id).limit(limit))]


@dataclass(frozen=True)
class ContactCard:
    """A phone number on file for a borrower: their own or a third party's (spouse, colleague …)."""

    id: int
    borrower_id: int
    mobile: str
    is_third_party: bool


def borrower_contact(session: Session, contact_id: int) -> ContactCard | None:
    """A contact on file, by id."""
    contact = session.get(BorrowerContact, contact_id)
    if contact is None:
        return None
    return ContactCard(contact.id, contact.borrower_id, contact.mobile, contact.is_third_party)


@dataclass(frozen=True)
class IdentityMatch:
    """A caller's answers fit the ledger's records: the borrower, and the loan they named if any."""

    borrower_id: int
    loan_id: int | None


def match_identity(
    session: Session,
    *,
    name: str,
    id_last6: str,
    borrower_id: int | None = None,
    contract_number: str | None = None,
    phone: str | None = None,
) -> IdentityMatch | None:
    """The knowledge check (name, last six of the ID number, and the contract number or the
    registered phone) against the borrower `borrower_id`, else the contract's, else the phone's.
    The identity number never leaves the ledger; None when anything does not fit."""
    loan = None
    if contract_number:
        loan = session.scalar(select(Loan).where(Loan.contract_number == contract_number.upper()))
    if borrower_id is not None:
        borrower = session.get(Borrower, borrower_id)
    elif loan is not None:
        borrower = session.get(Borrower, loan.borrower_id)
    elif phone:
        borrower = find_borrower(session, mobile=normalise_mobile(phone))
    else:
        borrower = None
    if borrower is None:
        return None
    same_name = name.strip() == borrower.name
    # Bytes: compare_digest refuses str with non-ASCII characters (full-width digits, U+FFFD …).
    same_id = hmac.compare_digest(id_last6.strip().upper().encode(), borrower.id_number[-6:].upper().encode())
    if contract_number:
        third = loan is not None and loan.borrower_id == borrower.id
    else:
        third = normalise_mobile(phone or "") == borrower.mobile
    if same_name and same_id and third:
        return IdentityMatch(borrower.id, loan.id if loan is not None else None)
    return None


def borrower_id_of_contract(session: Session, contract_number: str) -> int | None:
    """Whose loan a contract number (HT…) is, if it is one of ours."""
    return session.scalar(select(Loan.borrower_id).where(Loan.contract_number == contract_number.upper()))


def contract_number(session: Session, loan_id: int) -> str | None:
    """The loan's contract number (HT…), by loan id."""
    loan = session.get(Loan, loan_id)
    return loan.contract_number if loan is not None else None


@dataclass(frozen=True)
class OverdueLoan:
    loan_id: int
    contract_number: str
    borrower_id: int
    days_past_due: int
    principal_fen: int
    term: int


def overdue_loans(session: Session, *, min_days: int, max_days: int) -> list[OverdueLoan]:
    """Loans overdue by `min_days`..`max_days` days as the last close left them, by loan id."""
    rows = session.execute(
        select(
            Loan.id, Loan.contract_number, Loan.borrower_id, Loan.days_past_due, Loan.principal_fen, Loan.term
        )
        .where(Loan.status == "overdue", Loan.days_past_due.between(min_days, max_days))
        .order_by(Loan.id)
    ).all()
    return [OverdueLoan(*row) for row in rows]


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
