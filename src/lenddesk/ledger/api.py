"""HTTP API of the ledger room (/api/v1/ledger) and the public loan calculator (/api/v1/calculator)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from lenddesk.core import audit, auth
from lenddesk.core.db import business_today
from lenddesk.core.http import db_session
from lenddesk.core.models import User
from lenddesk.core.money import parse_yuan
from lenddesk.core.policy import get_policy
from lenddesk.ledger import calculator, service
from lenddesk.ledger.schemas import (
    Borrower360Out,
    BorrowerHitOut,
    BorrowerIn,
    BorrowerOut,
    CalculatorEarlyOut,
    CalculatorScheduleOut,
    CertificateOut,
    ContactIn,
    ContactOut,
    LoanIn,
    LoanOut,
    PartialQuoteOut,
    ProductIn,
    ProductOut,
    QuoteOut,
    RejectIn,
    RepaymentIn,
    RepaymentOut,
    ReversalIn,
    SettlementQuoteOut,
)

ledger = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])
calculator_router = APIRouter(prefix="/api/v1/calculator", tags=["calculator"])
router = APIRouter()

READERS = ("agent", "collector", "team_lead", "qa", "compliance")
POSTERS = ("agent", "collector", "team_lead")


# --- borrowers -------------------------------------------------------------------------------------


@ledger.get("/borrowers", response_model=list[BorrowerHitOut])
def search_borrowers(
    q: Annotated[str, Query(min_length=1, max_length=64, description="name, mobile, ID tail or contract")],
    session: Session = db_session,
    user: User = auth.allow(*READERS),
) -> list[service.BorrowerHit]:
    return service.search_borrowers(session, query=q, role=user.role)


@ledger.post("/borrowers", response_model=BorrowerOut, status_code=201)
def create_borrower(body: BorrowerIn, session: Session = db_session, user: User = auth.allow("admin")):  # type: ignore[no-untyped-def]
    details = body.model_dump(exclude={"contacts"})
    contacts = [contact.model_dump() for contact in body.contacts]
    return service.create_borrower_with_contacts(
        session, actor=audit.Actor.of(user), contacts=contacts, **details
    )


@ledger.post("/borrowers/{borrower_id}/contacts", response_model=ContactOut, status_code=201)
def add_contact(
    borrower_id: int, body: ContactIn, session: Session = db_session, user: User = auth.allow("admin")
):  # type: ignore[no-untyped-def]
    return service.add_contact(
        session, actor=audit.Actor.of(user), borrower_id=borrower_id, **body.model_dump()
    )


@ledger.get("/borrowers/{borrower_id}", response_model=Borrower360Out)
def borrower_360(borrower_id: int, session: Session = db_session, user: User = auth.allow(*READERS)):  # type: ignore[no-untyped-def]
    return service.borrower_360(session, borrower_id=borrower_id, role=user.role, today=business_today())


# --- products and loans -------------------------------------------------------------------------------


@ledger.post("/products", response_model=ProductOut, status_code=201)
def create_product(body: ProductIn, session: Session = db_session, user: User = auth.allow("admin")):  # type: ignore[no-untyped-def]
    fields = body.model_dump(exclude={"late_fee_fixed"})
    return service.create_product(
        session, actor=audit.Actor.of(user), late_fee_fixed_fen=body.late_fee_fixed, **fields
    )


@ledger.post("/loans", response_model=LoanOut, status_code=201)
def create_loan(body: LoanIn, session: Session = db_session, user: User = auth.allow("admin")):  # type: ignore[no-untyped-def]
    loan = service.create_loan(
        session,
        actor=audit.Actor.of(user),
        principal_fen=body.principal,
        **body.model_dump(exclude={"principal"}),
    )
    return service.loan_view(session, loan=loan, today=business_today())


@ledger.get("/loans/{contract_number}", response_model=LoanOut)
def loan_detail(contract_number: str, session: Session = db_session, user: User = auth.allow(*READERS)):  # type: ignore[no-untyped-def]
    return service.loan_detail(session, contract_number=contract_number, today=business_today())


@ledger.get("/loans/{contract_number}/settlement-quote", response_model=QuoteOut)
def settlement_quote(
    contract_number: str,
    on: date | None = None,
    partial_principal: Annotated[str | None, Query(description="principal to prepay, yuan")] = None,
    session: Session = db_session,
    user: User = auth.allow(*POSTERS, "compliance"),
) -> QuoteOut:
    """What settles the loan on a date (default today), or what prepaying some principal costs."""
    day = on or business_today()
    if partial_principal is None:
        quote = service.settlement_quote(session, contract_number=contract_number, on=day)
        return QuoteOut(contract_number=contract_number, settlement=SettlementQuoteOut.model_validate(quote))
    partial = service.partial_quote(
        session, contract_number=contract_number, on=day, prepaid_principal_fen=parse_yuan(partial_principal)
    )
    return QuoteOut(
        contract_number=contract_number,
        settlement=SettlementQuoteOut.model_validate(partial.base),
        partial=PartialQuoteOut.model_validate(partial),
    )


@ledger.get("/loans/{contract_number}/certificate", response_model=CertificateOut)
def certificate(contract_number: str, session: Session = db_session, user: User = auth.allow(*READERS)):  # type: ignore[no-untyped-def]
    return service.certificate_view(session, contract_number=contract_number, role=user.role)


# --- repayments ----------------------------------------------------------------------------------------


def _repayment_out(
    repayment: object, contract_number: str | None = None, duplicate: bool = False
) -> RepaymentOut:
    out = RepaymentOut.model_validate(repayment)
    return out.model_copy(update={"contract_number": contract_number, "duplicate": duplicate})


@ledger.post("/repayments", response_model=RepaymentOut, status_code=201)
def post_repayment(
    body: RepaymentIn, response: Response, session: Session = db_session, user: User = auth.allow(*POSTERS)
) -> RepaymentOut:
    """Post a payment; the same (channel, external_reference) again answers 200 with the first result."""
    result = service.post_repayment(
        session,
        actor=audit.Actor.of(user),
        contract_number=body.contract_number,
        channel=body.channel,
        external_reference=body.external_reference,
        amount_fen=body.amount,
        value_date=body.value_date,
        today=business_today(),
        kind=body.kind,
    )
    if result.duplicate:
        response.status_code = 200
    return _repayment_out(result.repayment, body.contract_number.strip().upper(), result.duplicate)


@ledger.post("/repayments/{repayment_id}/reversal", response_model=RepaymentOut)
def request_reversal(
    repayment_id: int, body: ReversalIn, session: Session = db_session, user: User = auth.allow(*POSTERS)
) -> RepaymentOut:
    repayment = service.request_reversal(
        session, actor=audit.Actor.of(user), repayment_id=repayment_id, reason=body.reason
    )
    return _repayment_out(repayment)


@ledger.post("/repayments/{repayment_id}/reversal/approve", response_model=RepaymentOut)
def approve_reversal(
    repayment_id: int, session: Session = db_session, user: User = auth.allow("team_lead")
) -> RepaymentOut:
    repayment = service.approve_reversal(
        session, actor=audit.Actor.of(user), repayment_id=repayment_id, today=business_today()
    )
    return _repayment_out(repayment)


@ledger.post("/repayments/{repayment_id}/reversal/reject", response_model=RepaymentOut)
def reject_reversal(
    repayment_id: int, body: RejectIn, session: Session = db_session, user: User = auth.allow("team_lead")
) -> RepaymentOut:
    repayment = service.reject_reversal(
        session, actor=audit.Actor.of(user), repayment_id=repayment_id, note=body.note
    )
    return _repayment_out(repayment)


# --- public calculator ---------------------------------------------------------------------------------

Principal = Annotated[str, Query(description='principal in yuan, e.g. "10000.00"')]
AnnualRate = Annotated[Decimal, Query(description="annual rate as a decimal, e.g. 0.18")]
Term = Annotated[int, Query(description="number of monthly periods")]
MethodName = Annotated[str, Query(description="equal_instalment, equal_principal, interest_first or bullet")]


def _terms(
    principal: str, annual_rate: Decimal, term: int, method: str, start_date: date
) -> calculator.LoanTerms:
    return calculator.LoanTerms.of(
        principal_fen=parse_yuan(principal),
        annual_rate=annual_rate,
        term=term,
        method=method,
        start_date=start_date,
        rounding=get_policy().money.rounding,
    )


@calculator_router.get("/schedule", response_model=CalculatorScheduleOut, dependencies=[auth.public()])
def calculator_schedule(
    principal: Principal, annual_rate: AnnualRate, term: Term, method: MethodName, start_date: date
) -> calculator.ScheduleResult:
    """A repayment schedule for a loan described by its terms (no sign-in)."""
    return calculator.schedule(_terms(principal, annual_rate, term, method, start_date))


@calculator_router.get("/early-repayment", response_model=CalculatorEarlyOut, dependencies=[auth.public()])
def calculator_early_repayment(
    principal: Principal,
    annual_rate: AnnualRate,
    term: Term,
    method: MethodName,
    start_date: date,
    repay_on: date,
    partial_principal: Annotated[str | None, Query(description="principal to prepay, yuan")] = None,
    fee_percent: Annotated[
        Decimal, Query(ge=0, le=100, description="early repayment fee, % of principal")
    ] = Decimal(0),
) -> CalculatorEarlyOut:
    """What repaying early on `repay_on` costs (instalments due by then assumed paid on time)."""
    result = calculator.early_repayment(
        _terms(principal, annual_rate, term, method, start_date),
        on=repay_on,
        prepaid_principal_fen=parse_yuan(partial_principal) if partial_principal else None,
        fee_percent=fee_percent,
    )
    return CalculatorEarlyOut(
        on=repay_on,
        paid_instalments=result.paid_instalments,
        settlement=SettlementQuoteOut.model_validate(result.quote),
        partial=PartialQuoteOut.model_validate(result.partial) if result.partial else None,
        total=result.total_fen,
    )


router.include_router(ledger)
router.include_router(calculator_router)
