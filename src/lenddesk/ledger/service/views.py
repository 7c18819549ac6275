"""Read views of the ledger: the borrower 360 and the loan page, with the loan's cost disclosure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core.policy import get_policy
from lenddesk.ledger import costcap
from lenddesk.ledger.models import (
    Borrower,
    BorrowerContact,
    BucketTransition,
    CreditRefund,
    Loan,
    Product,
    Recovery,
    Repayment,
    ScheduleLine,
    SettlementCertificate,
    Waiver,
)
from lenddesk.ledger.service._common import _due, _lines, _not_found, loan_by_contract
from lenddesk.ledger.service.borrowers import Disclosure


@dataclass(frozen=True)
class ContactView:
    id: int
    relation: str
    name: str
    mobile: str
    is_third_party: bool


@dataclass(frozen=True)
class LineView:
    period: int
    due_on: date
    principal_fen: int
    interest_fen: int
    penalty_fen: int
    late_fee_fen: int
    paid_fen: int
    waived_fen: int
    outstanding_fen: int
    state: str  # paid, partly_paid, unpaid, overdue
    paid_off_on: date | None

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.interest_fen + self.penalty_fen + self.late_fee_fen


@dataclass(frozen=True)
class RepaymentView:
    id: int
    channel: str
    external_reference: str
    amount_fen: int
    value_date: date
    kind: str
    status: str
    posted_by: str
    allocation: list[dict[str, Any]]
    reversal_reason: str | None
    reversal_requested_by: str | None
    reversal_approved_by: str | None


@dataclass(frozen=True)
class BucketChange:
    business_date: date
    from_bucket: str
    to_bucket: str
    days_past_due: int


@dataclass(frozen=True)
class RecoveryView:
    id: int
    channel: str
    external_reference: str
    amount_fen: int
    value_date: date
    posted_by: str


@dataclass(frozen=True)
class RefundView:
    id: int
    reference: str
    amount_fen: int
    reason: str
    status: str
    requested_by: str
    decided_by: str | None


@dataclass(frozen=True)
class WaiverView:
    id: int
    component: str
    amount_fen: int
    reason: str
    status: str
    requested_by: str
    approved_by: str | None
    applied_on: date | None


@dataclass(frozen=True)
class LoanView:
    id: int
    contract_number: str
    borrower_id: int
    product_code: str
    product_name: str
    principal_fen: int
    annual_rate: Decimal
    term: int
    method: str
    disbursed_on: date
    status: str
    bucket: str
    days_past_due: int
    outstanding_principal_fen: int
    credit_balance_fen: int
    overdue_fen: int
    next_due_on: date | None
    next_due_fen: int
    settled_on: date | None
    certificate_number: str | None
    lines: list[LineView] = field(default_factory=list)
    repayments: list[RepaymentView] = field(default_factory=list)
    bucket_history: list[BucketChange] = field(default_factory=list)
    recoveries: list[RecoveryView] = field(default_factory=list)
    refunds: list[RefundView] = field(default_factory=list)
    waivers: list[WaiverView] = field(default_factory=list)

    @property
    def recovered_fen(self) -> int:
        return sum(recovery.amount_fen for recovery in self.recoveries)

    cost: CostDisclosure | None = None


@dataclass(frozen=True)
class CostDisclosure:
    """The loan's cost against the cap and its annualised rate by the IRR method (costcap)."""

    annual_cost_cap: Decimal
    cost_charged_fen: int  # interest fallen due + penalties + late fees + early repayment fees
    cost_cap_fen: int  # the cap on the principal-days outstanding up to today
    irr_annual_rate: Decimal | None  # actual cash flows, the rest of the schedule as projected

    @property
    def cost_cap_room_fen(self) -> int:
        return self.cost_cap_fen - self.cost_charged_fen


def _cost_disclosure(
    loan: Loan, product: Product, lines: Sequence[LineView], repayments: Sequence[Repayment], today: date
) -> CostDisclosure:
    legal_cap = get_policy().ledger.annual_cost_cap
    basis = costcap.principal_days(
        loan.principal_days_repaid, loan.outstanding_principal_fen, loan.disbursed_on, today
    )
    flows = costcap.loan_cash_flows(
        principal_fen=loan.principal_fen,
        disbursed_on=loan.disbursed_on,
        receipts=[(r.value_date, r.amount_fen) for r in repayments if r.status != "reversed"],
        still_owed=[(line.due_on, line.outstanding_fen) for line in lines],
        credit_fen=loan.credit_balance_fen,
        today=today,
    )
    return CostDisclosure(
        annual_cost_cap=costcap.effective_cap(product.annual_cost_cap, legal_cap),
        cost_charged_fen=loan.cost_charged_fen + loan.early_repayment_fees_fen,
        cost_cap_fen=costcap.cap_on(basis, costcap.cap_ppm_of(product.annual_cost_cap, legal_cap)),
        irr_annual_rate=costcap.annualised_irr(flows),
    )


@dataclass(frozen=True)
class Borrower360:
    id: int
    name: str
    id_number: str
    mobile: str
    email: str | None
    address: str | None
    employer: str | None
    preferred_channel: str | None
    preferred_contact_time: str | None
    full_pii: bool
    contacts: list[ContactView]
    loans: list[LoanView]

    @property
    def overdue_fen(self) -> int:
        return sum(loan.overdue_fen for loan in self.loans)

    @property
    def outstanding_principal_fen(self) -> int:
        return sum(loan.outstanding_principal_fen for loan in self.loans)


def _line_view(line: ScheduleLine, today: date) -> LineView:
    outstanding = _due(line).total
    paid = line.paid_principal_fen + line.paid_interest_fen + line.paid_penalty_fen + line.paid_late_fee_fen
    if outstanding == 0:
        state = "paid"
    elif line.due_on < today:
        state = "overdue"
    elif paid:
        state = "partly_paid"
    else:
        state = "unpaid"
    return LineView(
        period=line.period,
        due_on=line.due_on,
        principal_fen=line.principal_fen,
        interest_fen=line.interest_fen,
        penalty_fen=line.penalty_fen,
        late_fee_fen=line.late_fee_fen,
        paid_fen=paid,
        waived_fen=line.waived_penalty_fen + line.waived_late_fee_fen + line.waived_interest_fen,
        outstanding_fen=outstanding,
        state=state,
        paid_off_on=line.paid_off_on,
    )


def loan_view(session: Session, *, loan: Loan, today: date) -> LoanView:
    product = session.get(Product, loan.product_id)
    assert product is not None
    lines = [_line_view(line, today) for line in _lines(session, loan.id)]
    repayments = session.scalars(
        select(Repayment)
        .where(Repayment.loan_id == loan.id)
        .order_by(Repayment.value_date.desc(), Repayment.id.desc())
    ).all()
    transitions = session.scalars(
        select(BucketTransition)
        .where(BucketTransition.loan_id == loan.id)
        .order_by(BucketTransition.business_date)
    ).all()
    certificate = session.scalar(
        select(SettlementCertificate.number).where(SettlementCertificate.loan_id == loan.id)
    )
    upcoming = [line for line in lines if line.due_on >= today and line.outstanding_fen > 0]
    return LoanView(
        id=loan.id,
        contract_number=loan.contract_number,
        borrower_id=loan.borrower_id,
        product_code=product.code,
        product_name=product.name,
        principal_fen=loan.principal_fen,
        annual_rate=loan.annual_rate,
        term=loan.term,
        method=loan.method,
        disbursed_on=loan.disbursed_on,
        status=loan.status,
        bucket=loan.bucket,
        days_past_due=loan.days_past_due,
        outstanding_principal_fen=loan.outstanding_principal_fen,
        credit_balance_fen=loan.credit_balance_fen,
        overdue_fen=sum(line.outstanding_fen for line in lines if line.due_on < today),
        next_due_on=upcoming[0].due_on if upcoming else None,
        next_due_fen=upcoming[0].outstanding_fen if upcoming else 0,
        settled_on=loan.settled_on,
        certificate_number=certificate,
        lines=lines,
        repayments=[
            RepaymentView(
                id=r.id,
                channel=r.channel,
                external_reference=r.external_reference,
                amount_fen=r.amount_fen,
                value_date=r.value_date,
                kind=r.kind,
                status=r.status,
                posted_by=r.posted_by,
                allocation=r.allocation or [],
                reversal_reason=r.reversal_reason,
                reversal_requested_by=r.reversal_requested_by,
                reversal_approved_by=r.reversal_approved_by,
            )
            for r in repayments
        ],
        bucket_history=[
            BucketChange(t.business_date, t.from_bucket, t.to_bucket, t.days_past_due) for t in transitions
        ],
        **_loan_paths(session, loan.id),
        cost=_cost_disclosure(loan, product, lines, repayments, today),
    )


def _loan_paths(session: Session, loan_id: int) -> dict[str, Any]:
    """Recoveries, refunds and waivers of a loan, newest first (the loan page's history)."""

    def rows(model: Any) -> Sequence[Any]:
        return session.scalars(select(model).where(model.loan_id == loan_id).order_by(model.id.desc())).all()

    return {
        "recoveries": [
            RecoveryView(r.id, r.channel, r.external_reference, r.amount_fen, r.value_date, r.posted_by)
            for r in rows(Recovery)
        ],
        "refunds": [
            RefundView(r.id, r.reference, r.amount_fen, r.reason, r.status, r.requested_by, r.decided_by)
            for r in rows(CreditRefund)
        ],
        "waivers": [
            WaiverView(
                w.id,
                w.component,
                w.amount_fen,
                w.reason,
                w.status,
                w.requested_by,
                w.approved_by,
                w.applied_on,
            )
            for w in rows(Waiver)
        ],
    }


def borrower_360(session: Session, *, borrower_id: int, role: str, today: date) -> Borrower360:
    """Everything about a borrower, with personal data masked as the viewer's role requires."""
    borrower = session.get(Borrower, borrower_id)
    if borrower is None:
        raise _not_found("借款人", "borrower", borrower_id)
    disclosure = Disclosure.for_role(role)
    contacts = session.scalars(
        select(BorrowerContact).where(BorrowerContact.borrower_id == borrower_id).order_by(BorrowerContact.id)
    ).all()
    loans = session.scalars(select(Loan).where(Loan.borrower_id == borrower_id).order_by(Loan.id)).all()
    return Borrower360(
        id=borrower.id,
        name=borrower.name,
        id_number=disclosure.id_number(borrower.id_number),
        mobile=disclosure.mobile(borrower.mobile, third_party=False),
        email=disclosure.email(borrower.email),
        address=disclosure.address(borrower.address),
        employer=disclosure.employer(borrower.employer),
        preferred_channel=borrower.preferred_channel,
        preferred_contact_time=borrower.preferred_contact_time,
        full_pii=disclosure.full_pii,
        contacts=[
            ContactView(
                id=c.id,
                relation=c.relation,
                name=c.name,
                mobile=disclosure.mobile(c.mobile, third_party=c.is_third_party),
                is_third_party=c.is_third_party,
            )
            for c in contacts
        ],
        loans=[loan_view(session, loan=loan, today=today) for loan in loans],
    )


def loan_detail(session: Session, *, contract_number: str, today: date) -> LoanView:
    return loan_view(session, loan=loan_by_contract(session, contract_number), today=today)
