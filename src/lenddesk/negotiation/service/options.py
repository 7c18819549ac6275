"""The options a case's loan allows today, computed by `plans` from the ledger's state."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.core.errors import Unprocessable
from lenddesk.core.policy import get_policy
from lenddesk.ledger import service as ledger
from lenddesk.negotiation import plans
from lenddesk.negotiation.models import Agreement, HardshipCase
from lenddesk.negotiation.service._common import _amount

# --- options --------------------------------------------------------------------------------------


def _terms(first_due_on: date | None) -> plans.Terms:
    policy = get_policy()
    return plans.Terms(
        policy=policy.negotiation,
        rounding=policy.money.rounding,
        waiver_single_approval_fen=policy.ledger.waiver_single_approval_fen,
        first_due_on=first_due_on,
    )


def _extensions_used(session: Session, loan_id: int) -> int:
    return int(
        session.scalar(
            select(func.count(Agreement.id)).where(
                Agreement.loan_id == loan_id, Agreement.kind == "extension"
            )
        )
        or 0
    )


def loan_state(session: Session, *, contract_number: str) -> plans.LoanState:
    basis = ledger.restructuring_basis(session, contract_number=contract_number)
    return plans.LoanState(
        contract_number=basis.contract_number,
        annual_rate=basis.annual_rate,
        disbursed_on=basis.disbursed_on,
        cap_ppm=basis.cap_ppm,
        principal_days_repaid=basis.principal_days_repaid,
        early_repayment_fees_fen=basis.early_repayment_fees_fen,
        lines=tuple(plans.LineState(**asdict(line)) for line in basis.lines),
        extensions_used=_extensions_used(session, basis.loan_id),
    )


def option_id(case_id: int, slug: str) -> str:
    return f"N{case_id}-{slug}"


def _check_first_due(on: date, first_due_on: date | None) -> None:
    if first_due_on is not None and not on < first_due_on <= on + timedelta(days=92):
        raise Unprocessable(
            "首期还款日须在计算日之后三个月内",
            "The first due date must fall within three months after the date of the options",
            code="first_due_out_of_range",
        )


def compare_options(
    session: Session,
    *,
    case: HardshipCase,
    on: date,
    capacity_fen: int | None = None,
    first_due_on: date | None = None,
) -> plans.Comparison:
    """Every option for the case's loan on `on`, for the stated (or a trial) monthly capacity."""
    capacity = (
        _amount(capacity_fen, "月还款能力", "monthly capacity", required=False) or case.monthly_capacity_fen
    )
    _check_first_due(on, first_due_on)
    state = loan_state(session, contract_number=case.contract_number)
    if on < state.disbursed_on:
        raise Unprocessable(
            "计算日期早于放款日", "The date is before the disbursement", code="date_before_disbursement"
        )
    return plans.plan_options(state, on=on, capacity_fen=capacity, terms=_terms(first_due_on))
