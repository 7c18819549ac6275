"""Origination: products, and loans disbursed with their schedule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import Conflict, Unprocessable
from lenddesk.core.policy import get_policy
from lenddesk.ledger import allocation as alloc
from lenddesk.ledger import costcap
from lenddesk.ledger.models import Borrower, Loan, Product, ScheduleLine
from lenddesk.ledger.schedule import Method, generate_schedule
from lenddesk.ledger.service._common import _check_amount, _not_found, _rounding


def create_product(
    session: Session,
    *,
    actor: audit.Actor,
    code: str,
    name: str,
    annual_rate: Decimal,
    term: int,
    method: str,
    grace_days: int = 3,
    penalty_mode: str = "daily",
    penalty_daily_rate: Decimal = Decimal("0.0005"),
    penalty_multiple: Decimal = Decimal("1.5"),
    late_fee_fixed_fen: int = 0,
    late_fee_percent: Decimal = Decimal(0),
    allocation_order: str = ",".join(alloc.DEFAULT_ORDER),
    annual_cost_cap: Decimal = Decimal("0.24"),
    early_repayment_fee_percent: Decimal = Decimal(0),
) -> Product:
    method = _check_method(method)
    order = ",".join(alloc.parse_order(allocation_order))
    if penalty_mode not in ("daily", "multiple"):
        raise Unprocessable(
            "罚息方式须为 daily 或 multiple",
            "penalty_mode must be daily or multiple",
            code="bad_penalty_mode",
        )
    numbers = {
        "annual_rate": annual_rate,
        "grace_days": grace_days,
        "penalty_daily_rate": penalty_daily_rate,
        "penalty_multiple": penalty_multiple,
        "late_fee_fixed_fen": late_fee_fixed_fen,
        "late_fee_percent": late_fee_percent,
        "annual_cost_cap": annual_cost_cap,
        "early_repayment_fee_percent": early_repayment_fee_percent,
    }
    negative = [key for key, value in numbers.items() if value < 0]
    if negative:
        raise Unprocessable(
            f"以下参数不能为负数：{', '.join(negative)}",
            f"These values cannot be negative: {', '.join(negative)}",
            code="negative_value",
        )
    costcap.check_contract_rate(annual_rate, annual_cost_cap, get_policy().ledger.annual_cost_cap)
    # Validates rate and term the same way a loan's schedule will.
    generate_schedule(
        principal_fen=100,
        annual_rate=annual_rate,
        term=term,
        method=method,
        start_date=date(2026, 1, 1),
        rounding=_rounding(),
    )
    if session.scalar(select(Product.id).where(Product.code == code)) is not None:
        raise Conflict(
            f"产品代码已存在：{code}", f"Product code already exists: {code}", code="product_exists"
        )
    product = Product(
        code=code,
        name=name,
        term=term,
        method=method,
        penalty_mode=penalty_mode,
        allocation_order=order,
        **numbers,
    )
    session.add(product)
    session.flush()
    audit.record(session, actor, "product.create", ("product", product.id), None, {"code": code, **numbers})
    return product


def _check_method(method: str) -> str:
    try:
        return Method(method).value
    except ValueError as exc:
        raise Unprocessable(
            f"未知的还款方式：{method}（可选：{', '.join(m.value for m in Method)}）",
            f"Unknown schedule method: {method} (one of: {', '.join(m.value for m in Method)})",
            code="unknown_method",
        ) from exc


def create_loan(
    session: Session,
    *,
    actor: audit.Actor,
    borrower_id: int,
    product_code: str,
    principal_fen: int,
    disbursed_on: date,
    first_due_on: date | None = None,
    annual_rate: Decimal | None = None,
    term: int | None = None,
    contract_number: str | None = None,
) -> Loan:
    """A disbursed loan with its schedule; the rate and term default to the product's."""
    if session.get(Borrower, borrower_id) is None:
        raise _not_found("借款人", "borrower", borrower_id)
    product = session.scalar(select(Product).where(Product.code == product_code))
    if product is None:
        raise _not_found("产品", "product", product_code)
    _check_amount(principal_fen)
    rate = product.annual_rate if annual_rate is None else annual_rate
    legal_cap = get_policy().ledger.annual_cost_cap
    costcap.check_contract_rate(rate, costcap.effective_cap(product.annual_cost_cap, legal_cap), legal_cap)
    term = product.term if term is None else term
    lines = generate_schedule(
        principal_fen=principal_fen,
        annual_rate=rate,
        term=term,
        method=product.method,
        start_date=disbursed_on,
        first_due_on=first_due_on,
        rounding=_rounding(),
    )
    if contract_number and session.scalar(select(Loan.id).where(Loan.contract_number == contract_number)):
        raise Conflict(
            f"合同编号已存在：{contract_number}",
            f"Contract exists: {contract_number}",
            code="contract_exists",
        )
    loan = Loan(
        contract_number=contract_number or f"TMP{uuid4().hex[:20]}",
        borrower_id=borrower_id,
        product_id=product.id,
        principal_fen=principal_fen,
        annual_rate=rate,
        term=term,
        method=product.method,
        disbursed_on=disbursed_on,
        status="current",
        days_past_due=0,
        bucket="M0",
        outstanding_principal_fen=principal_fen,
        oldest_unpaid_due_on=lines[0].due_on,
        next_due_on=lines[0].due_on,
        cost_charged_fen=0,
        credit_balance_fen=0,
    )
    session.add(loan)
    session.flush()
    if not contract_number:
        loan.contract_number = f"HT{disbursed_on:%Y%m%d}{loan.id:08d}"
    session.add_all(
        ScheduleLine(
            loan_id=loan.id,
            period=line.period,
            due_on=line.due_on,
            principal_fen=line.principal_fen,
            interest_fen=line.interest_fen,
            original_principal_fen=line.principal_fen,
            original_interest_fen=line.interest_fen,
        )
        for line in lines
    )
    session.flush()
    audit.record(
        session,
        actor,
        "loan.create",
        ("loan", loan.id),
        None,
        {
            "contract_number": loan.contract_number,
            "borrower_id": borrower_id,
            "product": product_code,
            "principal_fen": principal_fen,
            "annual_rate": rate,
            "term": term,
            "disbursed_on": disbursed_on,
        },
    )
    return loan
