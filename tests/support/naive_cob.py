"""The naive close of business: one ORM loan at a time, in Python.

It applies the same rules (`delinquency.close_loan_day`) as the set-based SQL engine, so tests
use it as the independent reference for `ledger.cob.run_cob`, and bench/cob.py as the baseline.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lenddesk.core.db import utcnow
from lenddesk.ledger import transitions
from lenddesk.ledger.delinquency import (
    ACTIVE_STATUSES,
    PERCENT_SCALE,
    ChargeTerms,
    DelinquencyRules,
    LineState,
    LoanState,
    close_loan_day,
    scaled,
)
from lenddesk.ledger.models import CobRun, Loan, Product, ScheduleLine

LINE_FIELDS = [name for name in LineState.__dataclass_fields__]
LOAN_FIELDS = [name for name in LoanState.__dataclass_fields__ if name != "annual_rate_e8"]


def loan_state(loan: Loan) -> LoanState:
    values = {name: getattr(loan, name) for name in LOAN_FIELDS}
    return LoanState(annual_rate_e8=scaled(loan.annual_rate, PERCENT_SCALE), **values)


def line_state(line: ScheduleLine) -> LineState:
    return LineState(**{name: getattr(line, name) for name in LINE_FIELDS})


def naive_close(factory: sessionmaker[Session], day: date, rules: DelinquencyRules) -> int:
    """Close `day` loan by loan; returns how many loans changed."""
    changed = 0
    with factory() as session:
        terms = {product.id: ChargeTerms.of_product(product) for product in session.scalars(select(Product))}
        loans = session.scalars(select(Loan).where(Loan.status.in_(ACTIVE_STATUSES)).order_by(Loan.id))
        for loan in loans:
            lines = session.scalars(
                select(ScheduleLine).where(ScheduleLine.loan_id == loan.id).order_by(ScheduleLine.period)
            ).all()
            result = close_loan_day(
                loan_state(loan), [line_state(line) for line in lines], terms[loan.product_id], day, rules
            )
            if result is None:
                continue
            changed += 1
            for name in LOAN_FIELDS:
                setattr(loan, name, getattr(result.loan, name))
            for line, new in zip(lines, result.lines, strict=True):
                line.penalty_fen, line.late_fee_fen = new.penalty_fen, new.late_fee_fen
            if result.transition:
                transitions.record(
                    session,
                    loan_id=loan.id,
                    business_date=day,
                    from_bucket=result.transition[0],
                    to_bucket=result.transition[1],
                    days_past_due=result.loan.days_past_due,
                )
        session.add(CobRun(business_date=day, status="done", last_loan_id=0, finished_at=utcnow()))
        session.commit()
    return changed


def book_state(engine) -> dict[str, list[tuple]]:  # type: ignore[no-untyped-def]
    """Everything the close of business writes, in a canonical form (for equality checks)."""
    from sqlalchemy import text

    queries = {
        "loans": "SELECT id, status, days_past_due, bucket, oldest_unpaid_due_on, next_due_on,"
        " outstanding_principal_fen, cost_charged_fen, settled_on, written_off_on FROM loans ORDER BY id",
        "lines": "SELECT id, penalty_fen, late_fee_fen FROM schedule_lines"
        " WHERE penalty_fen <> 0 OR late_fee_fen <> 0 ORDER BY id",
        "transitions": "SELECT loan_id, business_date, from_bucket, to_bucket, days_past_due"
        " FROM bucket_transitions ORDER BY loan_id, business_date",
        "runs": "SELECT business_date, status FROM cob_runs ORDER BY business_date",
    }
    with engine.connect() as connection:
        return {
            name: [tuple(_plain(value) for value in row) for row in connection.execute(text(sql))]
            for name, sql in queries.items()
        }


def _plain(value):  # type: ignore[no-untyped-def]
    from datetime import date

    if isinstance(value, date):
        return value.isoformat()
    if value is not None and not isinstance(value, str):
        return int(value)
    return value
