"""Hand-made loans for close-of-business tests (what the repayment service would write)."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core.pii import id_check_char
from lenddesk.ledger.models import Borrower, Loan, Product, ScheduleLine
from lenddesk.ledger.schedule import generate_schedule

_numbers = itertools.count(1)

PRODUCT_DEFAULTS: dict[str, Any] = {
    "annual_rate": Decimal("0.18"),
    "term": 12,
    "method": "equal_instalment",
    "grace_days": 3,
    "penalty_mode": "daily",
    "penalty_daily_rate": Decimal("0.0005"),
    "penalty_multiple": Decimal("1.5"),
    "late_fee_fixed_fen": 3000,
    "late_fee_percent": Decimal("0"),
    "annual_cost_cap": Decimal("0.24"),
}


def add_product(session: Session, **overrides: Any) -> Product:
    number = next(_numbers)
    product = Product(code=f"T{number}", name=f"测试产品{number}", **{**PRODUCT_DEFAULTS, **overrides})
    session.add(product)
    session.flush()
    return product


def add_loan(
    session: Session,
    product: Product,
    *,
    disbursed_on: date,
    principal_fen: int = 1_200_000,
) -> Loan:
    number = next(_numbers)
    # A real birth date (day 01–28), so ID validators downstream (the risk blacklist) accept it.
    first17 = f"110101199001{number % 28 + 1:02d}{number % 1000:03d}"
    borrower = Borrower(name="测试", id_number=first17 + id_check_char(first17), mobile=f"138{number:08d}")
    session.add(borrower)
    session.flush()
    lines = generate_schedule(
        principal_fen=principal_fen,
        annual_rate=product.annual_rate,
        term=product.term,
        method=product.method,
        start_date=disbursed_on,
        rounding="half_up",
    )
    loan = Loan(
        contract_number=f"HT-TEST-{number}",
        borrower_id=borrower.id,
        product_id=product.id,
        principal_fen=principal_fen,
        annual_rate=product.annual_rate,
        term=product.term,
        method=product.method,
        disbursed_on=disbursed_on,
        oldest_unpaid_due_on=lines[0].due_on,
        next_due_on=lines[0].due_on,
        outstanding_principal_fen=principal_fen,
    )
    session.add(loan)
    session.flush()
    for line in lines:
        session.add(
            ScheduleLine(
                loan_id=loan.id,
                period=line.period,
                due_on=line.due_on,
                principal_fen=line.principal_fen,
                interest_fen=line.interest_fen,
            )
        )
    session.flush()
    return loan


def lines_of(session: Session, loan_id: int) -> list[ScheduleLine]:
    return list(
        session.scalars(
            select(ScheduleLine).where(ScheduleLine.loan_id == loan_id).order_by(ScheduleLine.period)
        )
    )


def pay_in_full(session: Session, loan_id: int, periods: list[int], on: date) -> int:
    """Pay these instalments completely (penalty, late fee, interest, principal); returns the amount."""
    total = 0
    loan = session.get(Loan, loan_id)
    assert loan is not None
    for line in lines_of(session, loan_id):
        if line.period not in periods:
            continue
        parts = (
            ("penalty_fen", "paid_penalty_fen", "waived_penalty_fen"),
            ("late_fee_fen", "paid_late_fee_fen", "waived_late_fee_fen"),
            ("interest_fen", "paid_interest_fen", None),
            ("principal_fen", "paid_principal_fen", None),
        )
        for due, paid, waived in parts:
            left = getattr(line, due) - getattr(line, paid) - (getattr(line, waived) if waived else 0)
            setattr(line, paid, getattr(line, paid) + left)
            total += left
            if due == "principal_fen":
                loan.outstanding_principal_fen -= left
                loan.principal_days_repaid += left * (on - loan.disbursed_on).days
        line.paid_off_on = on
    session.flush()
    return total
