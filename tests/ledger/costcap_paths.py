"""Loans driven through real postings and real closes of business, and their cash flows.

The IRR oracle here is numpy-financial's `irr` on the loan's daily cash flows (independent of
`ledger/costcap.py`): the daily rate × 365 is the annualised rate the PBoC 2021 rule discloses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import count

import numpy_financial as npf
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lenddesk.core.policy import Policy
from lenddesk.ledger import service
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.models import Loan, Repayment, ScheduleLine
from tests.ledger import factories

_references = count(1)


@dataclass
class Path:
    """One loan: what it received, and the close of business run up to each posting."""

    engine: Engine
    session: Session
    loan_id: int
    contract: str
    policy: Policy = field(default_factory=Policy)
    closed_to: date | None = None

    def loan(self) -> Loan:
        loan = self.session.get(Loan, self.loan_id)
        assert loan is not None
        return loan

    def lines(self) -> list[ScheduleLine]:
        return list(
            self.session.scalars(
                select(ScheduleLine).where(ScheduleLine.loan_id == self.loan_id).order_by(ScheduleLine.period)
            )
        )

    def close_to(self, day: date) -> None:
        """Close every business date up to `day` (inclusive)."""
        if self.closed_to is not None and day <= self.closed_to:
            return
        self.session.commit()
        run_cob(self.engine, day, policy=self.policy)
        self.session.expire_all()
        self.closed_to = day

    def pay(self, amount_fen: int, on: date, kind: str = "regular") -> Repayment:
        """Post a payment on `on` after closing every date before it (the day's close comes after)."""
        self.close_to(on - timedelta(days=1))
        result = service.post_repayment(
            self.session,
            actor=factories.AGENT,
            contract_number=self.contract,
            channel="bank_transfer",
            external_reference=f"CAP-{next(_references)}",
            amount_fen=amount_fen,
            value_date=on,
            today=on,
            kind=kind,
        )
        self.session.commit()
        return result.repayment

    def owed_by(self, day: date) -> int:
        """Everything owed on instalments due on or before `day`."""
        return sum(
            line.principal_fen + line.interest_fen + line.penalty_fen + line.late_fee_fen
            - line.paid_principal_fen - line.paid_interest_fen - line.paid_penalty_fen
            - line.paid_late_fee_fen - line.waived_penalty_fen - line.waived_late_fee_fen
            for line in self.lines()
            if line.due_on <= day
        )  # fmt: skip

    def cash_flows(self) -> list[tuple[date, int]]:
        """Disbursement out, every repayment not reversed in (the loan must owe nothing)."""
        loan = self.loan()
        repayments = self.session.scalars(
            select(Repayment).where(Repayment.loan_id == self.loan_id, Repayment.status != "reversed")
        ).all()
        return [(loan.disbursed_on, -loan.principal_fen)] + [(r.value_date, r.amount_fen) for r in repayments]


def oracle_irr(flows: list[tuple[date, int]]) -> float:
    """numpy-financial's IRR of the flows on a daily grid, × 365."""
    start = min(day for day, _ in flows)
    vector = [0.0] * ((max(day for day, _ in flows) - start).days + 1)
    for day, amount in flows:
        vector[(day - start).days] += amount
    while vector and vector[-1] == 0:
        vector.pop()
    return float(npf.irr(vector)) * 365


def make_path(engine: Engine, session: Session, product_code: str, **loan: object) -> Path:
    created = factories.loan(session, product_code=product_code, **loan)  # type: ignore[arg-type]
    session.commit()
    path = Path(engine, session, created.id, created.contract_number)
    run_cob(engine, created.disbursed_on, policy=path.policy)  # the book's first close
    path.closed_to = created.disbursed_on
    return path
