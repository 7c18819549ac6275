"""Settlement and partial-prepayment quotes, and settlement certificates (结清证明)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core.errors import NotFound
from lenddesk.ledger import settlement
from lenddesk.ledger.models import Borrower, Loan, SettlementCertificate
from lenddesk.ledger.service._common import _check_amount, _check_open, _rounding, loan_by_contract
from lenddesk.ledger.service.borrowers import Disclosure
from lenddesk.ledger.service.posting import _book, _partial_fee_room, _quote


def settlement_quote(session: Session, *, contract_number: str, on: date) -> settlement.SettlementQuote:
    loan = loan_by_contract(session, contract_number)
    _check_open(loan)
    return _quote(_book(session, loan), on)


def partial_quote(
    session: Session, *, contract_number: str, on: date, prepaid_principal_fen: int
) -> settlement.PartialQuote:
    loan = loan_by_contract(session, contract_number)
    _check_open(loan)
    _check_amount(prepaid_principal_fen)
    book = _book(session, loan)
    quote = settlement.quote_partial(
        book.dues(),
        annual_rate=loan.annual_rate,
        method=loan.method,
        disbursed_on=loan.disbursed_on,
        on=on,
        prepaid_principal_fen=prepaid_principal_fen,
        fee_percent=book.product.early_repayment_fee_percent,
        credit_fen=loan.credit_balance_fen,
        rounding=_rounding(),
    )
    base = _quote(book, on)
    room = _partial_fee_room(book, on, base)
    return replace(quote, base=base, fee_fen=min(quote.fee_fen, max(room, 0)))


def certificate_for(session: Session, *, contract_number: str) -> SettlementCertificate:
    loan = loan_by_contract(session, contract_number)
    certificate = session.scalar(
        select(SettlementCertificate).where(SettlementCertificate.loan_id == loan.id)
    )
    if certificate is None:
        raise NotFound(
            "该贷款尚未结清，没有结清证明", "The loan is not settled: no certificate", code="no_certificate"
        )
    return certificate


@dataclass(frozen=True)
class CertificateView:
    number: str
    contract_number: str
    borrower_name: str
    borrower_id_number: str
    principal_fen: int
    disbursed_on: date
    settled_on: date
    total_paid_fen: int
    issued_at: Any


def certificate_view(session: Session, *, contract_number: str, role: str) -> CertificateView:
    """The settlement certificate (结清证明) as shown and printed, masked for the viewer's role."""
    certificate = certificate_for(session, contract_number=contract_number)
    loan = session.get(Loan, certificate.loan_id)
    assert loan is not None
    borrower = session.get(Borrower, loan.borrower_id)
    assert borrower is not None
    return CertificateView(
        number=certificate.number,
        contract_number=loan.contract_number,
        borrower_name=borrower.name,
        borrower_id_number=Disclosure.for_role(role).id_number(borrower.id_number),
        principal_fen=loan.principal_fen,
        disbursed_on=loan.disbursed_on,
        settled_on=certificate.settled_on,
        total_paid_fen=certificate.total_paid_fen,
        issued_at=certificate.issued_at,
    )
