"""Small helpers shared by the ledger's use cases: lookups, policy rounding, input checks, the loan lock."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core.errors import Conflict, NotFound, Unprocessable
from lenddesk.core.money import Rounding
from lenddesk.core.policy import get_policy
from lenddesk.ledger import allocation as alloc
from lenddesk.ledger.locking import lock_loan
from lenddesk.ledger.models import Loan, ScheduleLine
from lenddesk.ledger.owed import owed_components
from lenddesk.ledger.service.reference import STATUS_LABELS_ZH


def _rounding() -> Rounding:
    """The policy's rounding rule, for every amount the ledger rounds."""
    return get_policy().money.rounding


def _not_found(what_zh: str, what_en: str, key: object) -> NotFound:
    return NotFound(
        f"{what_zh}不存在：{key}", f"No such {what_en}: {key}", code=f"{what_en.replace(' ', '_')}_not_found"
    )


def _check_amount(amount_fen: object) -> int:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise Unprocessable(
            '金额必须是整数分（接口请使用元字符串，例如 "100.00"），不接受浮点数',
            'Amounts must be whole fen (the API takes yuan strings such as "100.00"); floats are refused',
            code="amount_not_integer",
        )
    if amount_fen <= 0:
        raise Unprocessable("金额必须大于 0", "The amount must be greater than 0", code="amount_not_positive")
    return amount_fen


def loan_by_contract(session: Session, contract_number: str) -> Loan:
    loan = session.scalar(select(Loan).where(Loan.contract_number == contract_number.strip().upper()))
    if loan is None:
        raise _not_found("合同", "contract", contract_number)
    return loan


def _lines(session: Session, loan_id: int) -> list[ScheduleLine]:
    return list(
        session.scalars(
            select(ScheduleLine).where(ScheduleLine.loan_id == loan_id).order_by(ScheduleLine.period)
        )
    )


def _due(line: ScheduleLine) -> alloc.Due:
    return alloc.Due(
        period=line.period, due_on=line.due_on, interest_paid=line.paid_interest_fen, **owed_components(line)
    )


def _check_open(loan: Loan) -> None:
    if loan.status in ("settled", "written_off"):
        raise Conflict(
            f"贷款已{STATUS_LABELS_ZH[loan.status]}",
            f"The loan is {loan.status.replace('_', ' ')}",
            code=f"loan_{loan.status}",
        )


# --- the loan lock, and the checks of the paths (recoveries, refunds, waivers) -------------------


def _lock_loan(session: Session, loan_id: int) -> Loan:
    """The loan, locked for this transaction (`locking.lock_loan`), or 404."""
    loan = lock_loan(session, loan_id)
    if loan is None:
        raise _not_found("贷款", "loan", loan_id)
    return loan


_MAX_FEN = 2**63 - 1


def _check_money(amount_fen: object) -> int:
    amount = _check_amount(amount_fen)
    if amount > _MAX_FEN:
        raise Unprocessable("金额过大", "The amount is too large", code="amount_too_large")
    return amount


def _required_text(text: str, what_zh: str, what_en: str, code: str, max_length: int = 255) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise Unprocessable(f"须填写{what_zh}", f"The {what_en} is required", code=code)
    if len(cleaned) > max_length:
        raise Unprocessable(
            f"{what_zh}过长（最多 {max_length} 字）",
            f"The {what_en} is too long (at most {max_length} characters)",
            code=f"{what_en}_too_long",
        )
    if any(0xD800 <= ord(char) <= 0xDFFF for char in cleaned):
        raise Unprocessable(
            f"{what_zh}含有无效字符", f"The {what_en} contains invalid characters", code="invalid_text"
        )
    return cleaned
