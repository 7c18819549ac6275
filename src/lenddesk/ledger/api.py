"""HTTP API of the ledger room (/api/v1/ledger) and the public loan calculator (/api/v1/calculator)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from lenddesk.core import audit, auth
from lenddesk.core.calendar import business_today
from lenddesk.core.http import Day, Id, db_session, errors
from lenddesk.core.models import User
from lenddesk.core.money import parse_yuan
from lenddesk.core.policy import get_policy
from lenddesk.ledger import calculator, service
from lenddesk.ledger.batches_api import router as batches_router
from lenddesk.ledger.roles import APPROVERS, POSTERS, READERS, RECOVERY_POSTERS, RECOVERY_READERS
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
    RecoveryBookOut,
    RecoveryIn,
    RecoveryOut,
    RefundIn,
    RefundOut,
    RejectIn,
    RepaymentOut,
    ReversalIn,
    SettlementQuoteOut,
    WaiverIn,
    WaiverOut,
)

ledger = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])
calculator_router = APIRouter(prefix="/api/v1/calculator", tags=["calculator"])
router = APIRouter()
T = TypeVar("T")

Ticket = Annotated[
    str | None,
    Query(
        max_length=32,
        pattern=r"^[A-Za-z0-9-]+$",
        description="the ticket (of yours) you open this borrower from; agents and collectors need one",
    ),
]


def _committed(session: Session, answer: T) -> T:
    """End a write route's transaction on the route's own worker thread, before answering.

    The session dependency commits only after FastAPI has validated the answer on another trip to
    the worker pool (a few threads, settings.worker_threads). A writer still holding the loan's lock
    (PostgreSQL) or the write gate (SQLite) across that trip waits for a thread while every thread
    waits for its lock: eight concurrent repayments on one loan hung until the gate gave up (30 s).
    """
    session.commit()
    return answer


# --- borrowers -------------------------------------------------------------------------------------


@ledger.get(
    "/borrowers",
    response_model=list[BorrowerHitOut],
    summary="Search borrowers by name, mobile, ID tail or contract",
    responses=errors(401, 403, 422),
)
def search_borrowers(
    q: Annotated[str, Query(min_length=1, max_length=64, description="name, mobile, ID tail or contract")],
    session: Session = db_session,
    user: User = auth.allow(*READERS),
) -> list[service.BorrowerHit]:
    return service.search_borrowers(session, query=q, role=user.role)


@ledger.post(
    "/borrowers",
    response_model=BorrowerOut,
    status_code=201,
    summary="Register a borrower and their contacts",
    responses=errors(400, 401, 403, 409, 422),
)
def create_borrower(body: BorrowerIn, session: Session = db_session, user: User = auth.allow("admin")):  # type: ignore[no-untyped-def]
    details = body.model_dump(exclude={"contacts"})
    contacts = [contact.model_dump() for contact in body.contacts]
    borrower = service.create_borrower_with_contacts(
        session, actor=audit.Actor.of(user), contacts=contacts, **details
    )
    return _committed(session, BorrowerOut.model_validate(borrower))


@ledger.post(
    "/borrowers/{borrower_id}/contacts",
    response_model=ContactOut,
    status_code=201,
    summary="Add a contact person to a borrower",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def add_contact(
    borrower_id: Id, body: ContactIn, session: Session = db_session, user: User = auth.allow("admin")
):  # type: ignore[no-untyped-def]
    contact = service.add_contact(
        session, actor=audit.Actor.of(user), borrower_id=borrower_id, **body.model_dump()
    )
    return _committed(session, ContactOut.model_validate(contact))


@ledger.get(
    "/borrowers/{borrower_id}",
    response_model=Borrower360Out,
    summary="A borrower's 360 (agents and collectors through a ticket of theirs; audited)",
    responses=errors(401, 403, 404, 422),
)
def borrower_360(
    borrower_id: Id, ticket: Ticket = None, session: Session = db_session, user: User = auth.allow(*READERS)
) -> service.Borrower360:
    return service.open_borrower_360(
        session,
        viewer=audit.Actor.of(user),
        borrower_id=borrower_id,
        case_reference=ticket,
        surface="api",
        today=business_today(),
    )


# --- products and loans -------------------------------------------------------------------------------


@ledger.post(
    "/products",
    response_model=ProductOut,
    status_code=201,
    summary="Create a loan product",
    responses=errors(400, 401, 403, 409, 422),
)
def create_product(body: ProductIn, session: Session = db_session, user: User = auth.allow("admin")):  # type: ignore[no-untyped-def]
    fields = body.model_dump(exclude={"late_fee_fixed"})
    product = service.create_product(
        session, actor=audit.Actor.of(user), late_fee_fixed_fen=body.late_fee_fixed, **fields
    )
    return _committed(session, ProductOut.model_validate(product))


@ledger.post(
    "/loans",
    response_model=LoanOut,
    status_code=201,
    summary="Book a disbursed loan and its repayment schedule",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def create_loan(body: LoanIn, session: Session = db_session, user: User = auth.allow("admin")):  # type: ignore[no-untyped-def]
    loan = service.create_loan(
        session,
        actor=audit.Actor.of(user),
        principal_fen=body.principal,
        **body.model_dump(exclude={"principal"}),
    )
    return _committed(
        session, LoanOut.model_validate(service.loan_view(session, loan=loan, today=business_today()))
    )


def _open_loan(session: Session, user: User, contract_number: str, ticket: str | None, page: str) -> str:
    loan = service.open_loan(
        session,
        viewer=audit.Actor.of(user),
        contract_number=contract_number,
        case_reference=ticket,
        surface="api",
        page=page,
    )
    return loan.contract_number


def _gate(session: Session, user: User, target: service.WriteTarget, ticket: str | None, action: str) -> str:
    """The read rule, before any write: the loan's contract number once the caller may change it."""
    loan = service.open_loan_for_write(
        session,
        actor=audit.Actor.of(user),
        target=target,
        case_reference=ticket,
        surface="api",
        action=action,
    )
    return loan.contract_number


@ledger.get(
    "/loans/{contract_number}",
    response_model=LoanOut,
    summary="A loan with its schedule and history (agents and collectors through a ticket; audited)",
    responses=errors(401, 403, 404, 422),
)
def loan_detail(
    contract_number: str,
    ticket: Ticket = None,
    session: Session = db_session,
    user: User = auth.allow(*READERS),
) -> service.LoanView:
    number = _open_loan(session, user, contract_number, ticket, "loan")
    return service.loan_detail(session, contract_number=number, today=business_today())


@ledger.get(
    "/loans/{contract_number}/settlement-quote",
    response_model=QuoteOut,
    summary="Quote settling a loan, or prepaying part of its principal",
    responses=errors(401, 403, 404, 409, 422),
)
def settlement_quote(
    contract_number: str,
    on: Day | None = None,
    partial_principal: Annotated[str | None, Query(description="principal to prepay, yuan")] = None,
    ticket: Ticket = None,
    session: Session = db_session,
    user: User = auth.allow(*POSTERS, "compliance"),
) -> QuoteOut:
    """What settles the loan on a date (default today), or what prepaying some principal costs."""
    contract_number = _open_loan(session, user, contract_number, ticket, "quote")
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


@ledger.get(
    "/loans/{contract_number}/certificate",
    response_model=CertificateOut,
    summary="The settlement certificate of a settled loan (agents and collectors through a ticket)",
    responses=errors(401, 403, 404, 409, 422),
)
def certificate(
    contract_number: str,
    ticket: Ticket = None,
    session: Session = db_session,
    user: User = auth.allow(*READERS),
) -> service.CertificateView:
    number = _open_loan(session, user, contract_number, ticket, "certificate")
    return service.certificate_view(session, contract_number=number, role=user.role)


# --- repayments (the posting itself, the hot path, is in posting_api) -------------------------------------


def repayment_out(
    repayment: object, contract_number: str | None = None, duplicate: bool = False
) -> RepaymentOut:
    out = RepaymentOut.model_validate(repayment)
    return out.model_copy(update={"contract_number": contract_number, "duplicate": duplicate})


@ledger.post(
    "/repayments/{repayment_id}/reversal",
    response_model=RepaymentOut,
    summary="Request the reversal of a repayment",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def request_reversal(
    repayment_id: Id,
    body: ReversalIn,
    ticket: Ticket = None,
    session: Session = db_session,
    user: User = auth.allow(*POSTERS),
) -> RepaymentOut:
    _gate(session, user, service.WriteTarget("repayment", repayment_id), ticket, "reversal_request")
    repayment = service.request_reversal(
        session, actor=audit.Actor.of(user), repayment_id=repayment_id, reason=body.reason
    )
    return _committed(session, repayment_out(repayment))


@ledger.post(
    "/repayments/{repayment_id}/reversal/approve",
    response_model=RepaymentOut,
    summary="Approve a requested reversal (a second person)",
    responses=errors(401, 403, 404, 409, 422),
)
def approve_reversal(
    repayment_id: Id,
    ticket: Ticket = None,
    session: Session = db_session,
    user: User = auth.allow("team_lead"),
) -> RepaymentOut:
    _gate(session, user, service.WriteTarget("repayment", repayment_id), ticket, "reversal_approve")
    repayment = service.approve_reversal(
        session, actor=audit.Actor.of(user), repayment_id=repayment_id, today=business_today()
    )
    return _committed(session, repayment_out(repayment))


@ledger.post(
    "/repayments/{repayment_id}/reversal/reject",
    response_model=RepaymentOut,
    summary="Reject a requested reversal",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def reject_reversal(
    repayment_id: Id,
    body: RejectIn,
    ticket: Ticket = None,
    session: Session = db_session,
    user: User = auth.allow("team_lead"),
) -> RepaymentOut:
    _gate(session, user, service.WriteTarget("repayment", repayment_id), ticket, "reversal_reject")
    repayment = service.reject_reversal(
        session, actor=audit.Actor.of(user), repayment_id=repayment_id, note=body.note
    )
    return _committed(session, repayment_out(repayment))


# --- recoveries, refunds of credit, waivers ------------------------------------------------------------


@ledger.post(
    "/recoveries",
    response_model=RecoveryOut,
    status_code=201,
    summary="Post money received on a written-off loan (a recovery, kept apart from repayments)",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def post_recovery(
    body: RecoveryIn,
    response: Response,
    ticket: Ticket = None,
    session: Session = db_session,
    user: User = auth.allow(*RECOVERY_POSTERS),
) -> RecoveryOut:
    """The same (channel, external_reference) again answers 200 with the first result."""
    _gate(session, user, service.WriteTarget.contract(body.contract_number), ticket, "recovery")
    result = service.post_recovery(
        session,
        actor=audit.Actor.of(user),
        contract_number=body.contract_number,
        channel=body.channel,
        external_reference=body.external_reference,
        amount_fen=body.amount,
        value_date=body.value_date,
        today=business_today(),
    )
    if result.duplicate:
        response.status_code = 200
    out = RecoveryOut.model_validate(result.recovery)
    return out.model_copy(
        update={"contract_number": body.contract_number.strip().upper(), "duplicate": result.duplicate}
    )


@ledger.get(
    "/recoveries/summary",
    response_model=RecoveryBookOut,
    summary="Recoveries of the whole book: written-off loans, loans with recoveries, total recovered",
    responses=errors(401, 403),
)
def recovery_summary(
    session: Session = db_session, user: User = auth.allow(*RECOVERY_READERS)
) -> service.RecoveryBook:
    return service.recovery_book(session)


def _refund_out(refund: object, duplicate: bool = False) -> RefundOut:
    return RefundOut.model_validate(refund).model_copy(update={"duplicate": duplicate})


@ledger.post(
    "/loans/{contract_number}/refunds",
    response_model=RefundOut,
    status_code=201,
    summary="Ask for (part of) a loan's credit balance to be paid back; a second person approves",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def request_refund(
    contract_number: str,
    body: RefundIn,
    response: Response,
    ticket: Ticket = None,
    session: Session = db_session,
    user: User = auth.allow(*POSTERS),
) -> RefundOut:
    """The same `reference` on the same loan again answers 200 with the first request."""
    contract_number = _gate(
        session, user, service.WriteTarget.contract(contract_number), ticket, "refund_request"
    )
    refund, duplicate = service.request_refund(
        session,
        actor=audit.Actor.of(user),
        contract_number=contract_number,
        amount_fen=body.amount,
        reference=body.reference,
        reason=body.reason,
    )
    if duplicate:
        response.status_code = 200
    return _refund_out(refund, duplicate)


@ledger.post(
    "/refunds/{refund_id}/approve",
    response_model=RefundOut,
    summary="Approve and pay a credit refund (not the requester; exactly once)",
    responses=errors(401, 403, 404, 409, 422),
)
def approve_refund(
    refund_id: Id, ticket: Ticket = None, session: Session = db_session, user: User = auth.allow(*APPROVERS)
) -> RefundOut:
    _gate(session, user, service.WriteTarget("refund", refund_id), ticket, "refund_approve")
    refund, duplicate = service.approve_refund(session, actor=audit.Actor.of(user), refund_id=refund_id)
    return _refund_out(refund, duplicate)


@ledger.post(
    "/refunds/{refund_id}/reject",
    response_model=RefundOut,
    summary="Reject a credit refund request",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def reject_refund(
    refund_id: Id,
    body: RejectIn,
    ticket: Ticket = None,
    session: Session = db_session,
    user: User = auth.allow(*APPROVERS),
) -> RefundOut:
    _gate(session, user, service.WriteTarget("refund", refund_id), ticket, "refund_reject")
    refund = service.reject_refund(session, actor=audit.Actor.of(user), refund_id=refund_id, note=body.note)
    return _refund_out(refund)


@ledger.post(
    "/loans/{contract_number}/waivers",
    response_model=WaiverOut,
    status_code=201,
    summary="Waive penalty, late fee or interest: applied at once up to the policy limit, else held",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def request_waiver(
    contract_number: str,
    body: WaiverIn,
    ticket: Ticket = None,
    session: Session = db_session,
    user: User = auth.allow(*POSTERS),
) -> service.Waiver:
    contract_number = _gate(
        session, user, service.WriteTarget.contract(contract_number), ticket, "waiver_request"
    )
    return service.request_waiver(
        session,
        actor=audit.Actor.of(user),
        contract_number=contract_number,
        component=body.component,
        amount_fen=body.amount,
        reason=body.reason,
        today=business_today(),
    )


@ledger.post(
    "/waivers/{waiver_id}/approve",
    response_model=WaiverOut,
    summary="Approve a held waiver (a different person of an approving role)",
    responses=errors(401, 403, 404, 409, 422),
)
def approve_waiver(
    waiver_id: Id, ticket: Ticket = None, session: Session = db_session, user: User = auth.allow(*APPROVERS)
) -> service.Waiver:
    _gate(session, user, service.WriteTarget("waiver", waiver_id), ticket, "waiver_approve")
    return service.approve_waiver(
        session, actor=audit.Actor.of(user), waiver_id=waiver_id, today=business_today()
    )


@ledger.post(
    "/waivers/{waiver_id}/reject",
    response_model=WaiverOut,
    summary="Reject a held waiver",
    responses=errors(400, 401, 403, 404, 409, 422),
)
def reject_waiver(
    waiver_id: Id,
    body: RejectIn,
    ticket: Ticket = None,
    session: Session = db_session,
    user: User = auth.allow(*APPROVERS),
) -> service.Waiver:
    _gate(session, user, service.WriteTarget("waiver", waiver_id), ticket, "waiver_reject")
    return service.reject_waiver(session, actor=audit.Actor.of(user), waiver_id=waiver_id, note=body.note)


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


@calculator_router.get(
    "/schedule",
    response_model=CalculatorScheduleOut,
    dependencies=[auth.public()],
    summary="Repayment schedule of a loan described by its terms",
    responses=errors(422),
)
def calculator_schedule(
    principal: Principal, annual_rate: AnnualRate, term: Term, method: MethodName, start_date: Day
) -> calculator.ScheduleResult:
    """A repayment schedule for a loan described by its terms (no sign-in)."""
    return calculator.schedule(_terms(principal, annual_rate, term, method, start_date))


@calculator_router.get(
    "/early-repayment",
    response_model=CalculatorEarlyOut,
    dependencies=[auth.public()],
    summary="What repaying a loan early costs",
    responses=errors(422),
)
def calculator_early_repayment(
    principal: Principal,
    annual_rate: AnnualRate,
    term: Term,
    method: MethodName,
    start_date: Day,
    repay_on: Day,
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
router.include_router(batches_router)
router.include_router(calculator_router)
