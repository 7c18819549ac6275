"""Restructuring (重组): an agreed plan's instalments replace a loan's outstanding ones.

Under the loan lock, on the effective date `on`:
- an instalment that owes nothing and is already due stays as it is;
- an open instalment (owing something, or not yet due) on which anything was paid or waived is
  closed: what it charged becomes what was paid and waived, so it owes nothing and keeps its
  payments; one not yet due is closed on `on`;
- the other open instalments are re-used, in period order, for the new ones (the surplus ones,
  if the plan is shorter, are closed empty on `on`); more new instalments get new periods.
The principal of the new instalments must be exactly the principal outstanding (interest is never
capitalised), and the penalties and late fees on them exactly those owed — they move, and are
not charged again. The cost cap must hold after the plan (costcap.headroom_fen, counted as the
close of business counts it). Every version of the schedule is kept in `schedule_revisions`; the
change is audited in the same transaction.

A repayment replay (back-dated posting, reversal) starts again from the schedule made at
origination, which no longer describes a restructured loan: it is refused on such a loan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import Conflict, Unprocessable
from lenddesk.core.money import format_fen
from lenddesk.core.policy import get_policy
from lenddesk.ledger import costcap
from lenddesk.ledger.models import Loan, Product, ScheduleLine, ScheduleRevision, Waiver
from lenddesk.ledger.owed import owed_components, owed_fen
from lenddesk.ledger.service._common import _check_open, _lines, _not_found, loan_by_contract
from lenddesk.ledger.service.posting import _Book, _locked_book, _refresh_loan

_WAIVED = {
    "penalty": "waived_penalty_fen",
    "late_fee": "waived_late_fee_fen",
    "interest": "waived_interest_fen",
}


@dataclass(frozen=True)
class BasisLine:
    """One instalment as a plan reads it: owed and charged amounts, and whether it was touched."""

    period: int
    due_on: date
    principal: int
    interest: int
    penalty: int
    late_fee: int
    charged_interest: int
    charged_penalty: int
    charged_late_fee: int
    touched: bool


@dataclass(frozen=True)
class RestructuringBasis:
    """What a plan needs of a loan (read without a lock: the plan is checked again when applied)."""

    loan_id: int
    contract_number: str
    borrower_id: int
    status: str
    annual_rate: Decimal
    disbursed_on: date
    cap_ppm: int
    principal_days_repaid: int
    early_repayment_fees_fen: int
    lines: tuple[BasisLine, ...]
    revisions: int


@dataclass(frozen=True)
class NewInstalment:
    due_on: date
    principal_fen: int
    interest_fen: int
    penalty_fen: int = 0
    late_fee_fen: int = 0


def _touched(line: ScheduleLine) -> bool:
    return any(
        (
            line.paid_principal_fen,
            line.paid_interest_fen,
            line.paid_penalty_fen,
            line.paid_late_fee_fen,
            line.waived_penalty_fen,
            line.waived_late_fee_fen,
            line.waived_interest_fen,
        )
    )


def _basis_line(line: ScheduleLine) -> BasisLine:
    owed = owed_components(line)
    return BasisLine(
        period=line.period,
        due_on=line.due_on,
        principal=owed["principal"],
        interest=owed["interest"],
        penalty=owed["penalty"],
        late_fee=owed["late_fee"],
        charged_interest=line.interest_fen,
        charged_penalty=line.penalty_fen,
        charged_late_fee=line.late_fee_fen,
        touched=_touched(line),
    )


def _cap_ppm(session: Session, loan: Loan) -> int:
    product = session.get(Product, loan.product_id)
    assert product is not None
    return costcap.cap_ppm_of(product.annual_cost_cap, get_policy().ledger.annual_cost_cap)


def restructuring_basis(session: Session, *, contract_number: str) -> RestructuringBasis:
    """A loan's state for restructuring plans (404 for an unknown contract)."""
    loan = loan_by_contract(session, contract_number)
    revisions = session.scalar(
        select(func.count(ScheduleRevision.id)).where(ScheduleRevision.loan_id == loan.id)
    )
    return RestructuringBasis(
        loan_id=loan.id,
        contract_number=loan.contract_number,
        borrower_id=loan.borrower_id,
        status=loan.status,
        annual_rate=Decimal(loan.annual_rate),
        disbursed_on=loan.disbursed_on,
        cap_ppm=_cap_ppm(session, loan),
        principal_days_repaid=loan.principal_days_repaid,
        early_repayment_fees_fen=loan.early_repayment_fees_fen,
        lines=tuple(_basis_line(line) for line in _lines(session, loan.id)),
        revisions=int(revisions or 0),
    )


def _snapshot(lines: Sequence[ScheduleLine]) -> list[dict[str, Any]]:
    columns = [column.key for column in ScheduleLine.__table__.columns if column.key not in ("loan_id",)]
    return [
        {
            name: (value.isoformat() if isinstance(value, date) else value)
            for name in columns
            for value in [getattr(line, name)]
        }
        for line in lines
    ]


def _is_open(line: ScheduleLine, on: date) -> bool:
    return owed_fen(line) > 0 or line.due_on > on


def _check_plan(book: _Book, instalments: Sequence[NewInstalment], on: date) -> None:
    if not instalments:
        raise Unprocessable("新还款计划为空", "The new schedule has no instalments", code="empty_plan")
    if any(
        min(i.principal_fen, i.interest_fen, i.penalty_fen, i.late_fee_fen) < 0 for i in instalments
    ) or any(i.due_on <= on for i in instalments):
        raise Unprocessable(
            "新还款计划的金额不能为负，还款日须晚于生效日",
            "New instalments need amounts of at least zero and due dates after the effective date",
            code="bad_plan",
        )
    if [i.due_on for i in instalments] != sorted(i.due_on for i in instalments):
        raise Unprocessable("新还款日须按顺序排列", "New due dates must be in order", code="bad_plan")
    owed = [owed_components(line) for line in book.lines]
    expected = {c: sum(o[c] for o in owed) for c in ("principal", "penalty", "late_fee")}
    planned = {
        "principal": sum(i.principal_fen for i in instalments),
        "penalty": sum(i.penalty_fen for i in instalments),
        "late_fee": sum(i.late_fee_fen for i in instalments),
    }
    if planned != expected:
        raise Conflict(
            "贷款账户已变化，新还款计划与当前欠款不一致，请重新生成方案",
            "The loan changed since the plan was made: its amounts no longer match what is owed",
            code="schedule_changed",
            details={k: {"owed": format_fen(expected[k]), "plan": format_fen(planned[k])} for k in expected},
        )


def _close(line: ScheduleLine, on: date) -> None:
    """Charge only what was paid and waived: the line owes nothing and keeps its payments."""
    line.principal_fen = line.paid_principal_fen
    line.interest_fen = line.paid_interest_fen + line.waived_interest_fen
    line.penalty_fen = line.paid_penalty_fen + line.waived_penalty_fen
    line.late_fee_fen = line.paid_late_fee_fen + line.waived_late_fee_fen
    line.due_on = min(line.due_on, on)
    line.paid_off_on = line.paid_off_on or on


def _fill(line: ScheduleLine, new: NewInstalment) -> None:
    line.due_on = new.due_on
    line.principal_fen, line.interest_fen = new.principal_fen, new.interest_fen
    line.penalty_fen, line.late_fee_fen = new.penalty_fen, new.late_fee_fen
    line.paid_off_on = None


def _cap_room(book: _Book, on: date) -> int:
    """The cost cap's room after the change, as the close of business counts it."""
    loan, lines = book.loan, book.lines
    charged = sum(
        line.penalty_fen + line.late_fee_fen + (line.interest_fen if line.due_on <= on else 0)
        for line in lines
    )
    outstanding = loan.principal_fen - sum(line.paid_principal_fen for line in lines)
    return costcap.headroom_fen(
        cap_ppm=costcap.cap_ppm_of(book.product.annual_cost_cap, get_policy().ledger.annual_cost_cap),
        principal_days_now=costcap.principal_days(
            loan.principal_days_repaid, outstanding, loan.disbursed_on, on
        ),
        on=on,
        cost_fen=charged + loan.early_repayment_fees_fen,
        future=[
            (line.due_on, line.principal_fen - line.paid_principal_fen, line.interest_fen)
            for line in lines
            if line.due_on > on
        ],
    )


def restructure(
    session: Session,
    *,
    loan_id: int,
    instalments: Sequence[NewInstalment],
    on: date,
    actor: audit.Actor,
    kind: str,
    reference: str,
) -> ScheduleRevision:
    """Replace the loan's open instalments by `instalments` on `on` (see the module's rules)."""
    book = _locked_book(session, loan_id)
    _check_open(book.loan)
    _check_plan(book, instalments, on)
    before = _snapshot(book.lines)
    open_lines = [line for line in book.lines if _is_open(line, on)]
    clean = [line for line in open_lines if not _touched(line)]
    for line in open_lines:
        if _touched(line):
            _close(line, on)
    surplus = max(len(clean) - len(instalments), 0)
    for line in clean[:surplus]:
        _close(line, on)
    reused = clean[surplus:]
    next_period = max((line.period for line in book.lines), default=0) + 1
    for index, new in enumerate(instalments):
        if index < len(reused):
            _fill(reused[index], new)
            continue
        line = ScheduleLine(
            loan_id=loan_id,
            period=next_period,
            due_on=new.due_on,
            principal_fen=new.principal_fen,
            interest_fen=new.interest_fen,
            penalty_fen=new.penalty_fen,
            late_fee_fen=new.late_fee_fen,
        )
        next_period += 1
        session.add(line)
        book.lines.append(line)
    session.flush()
    room = _cap_room(book, on)
    if room < 0:
        raise Unprocessable(
            f"新还款计划超过综合融资成本上限 {format_fen(-room)} 元",
            f"The new schedule exceeds the annual cost cap by {format_fen(-room)}",
            code="cost_cap_exceeded",
        )
    _refresh_loan(session, book, today=on, actor=actor, settled_on=None)
    number = 1 + int(
        session.scalar(select(func.count(ScheduleRevision.id)).where(ScheduleRevision.loan_id == loan_id))
        or 0
    )
    revision = ScheduleRevision(
        loan_id=loan_id,
        number=number,
        effective_on=on,
        kind=kind,
        reference=reference,
        created_by=actor.name,
        before_lines=before,
        after_lines=_snapshot(sorted(book.lines, key=lambda line: line.period)),
    )
    session.add(revision)
    session.flush()
    audit.record(
        session,
        actor,
        "loan.restructure",
        ("loan", loan_id),
        {"open_lines": len(open_lines), "outstanding_principal_fen": book.loan.outstanding_principal_fen},
        {
            "revision": number,
            "kind": kind,
            "reference": reference,
            "effective_on": on,
            "instalments": len(instalments),
            "first_due_on": instalments[0].due_on,
            "status": book.loan.status,
        },
    )
    return revision


def reinstate_waiver(
    session: Session, *, waiver_id: int, actor: audit.Actor, today: date, reason: str
) -> Waiver:
    """Undo an applied waiver whose condition was missed: what it forgave is owed again, on the
    instalments it was taken from (a Conflict if it is not an applied waiver)."""
    found = session.get(Waiver, waiver_id)
    if found is None:
        raise _not_found("减免", "waiver", waiver_id)
    book = _locked_book(session, found.loan_id)
    session.refresh(found)
    if found.status != "applied":
        raise Conflict(
            "该减免不是已生效状态，不能恢复计收",
            "Only an applied waiver can be reinstated",
            code="waiver_not_applied",
        )
    lines = book.by_period
    field = _WAIVED[found.component]
    for entry in found.allocation or []:
        line = lines[int(entry["period"])]
        setattr(line, field, max(getattr(line, field) - int(entry["amount"]), 0))
        if owed_fen(line) > 0:
            line.paid_off_on = None
    found.status = "reinstated"
    _refresh_loan(session, book, today=today, actor=actor, settled_on=None)
    audit.record(
        session,
        actor,
        "waiver.reinstated",
        ("loan", found.loan_id),
        {"waiver_id": found.id, "status": "applied"},
        {"waiver_id": found.id, "status": "reinstated", "amount_fen": found.amount_fen, "reason": reason},
    )
    return found


def schedule_revisions(session: Session, *, loan_id: int) -> list[ScheduleRevision]:
    return list(
        session.scalars(
            select(ScheduleRevision)
            .where(ScheduleRevision.loan_id == loan_id)
            .order_by(ScheduleRevision.number)
        )
    )


class RestructuredLoan(Conflict):
    default_code = "loan_restructured"


def refuse_replay_if_restructured(session: Session, loan_id: int) -> None:
    """A replay starts from the origination schedule: on a restructured loan it would undo the plan."""
    restructured = session.scalar(
        select(func.count(ScheduleRevision.id)).where(ScheduleRevision.loan_id == loan_id)
    )
    if restructured:
        raise RestructuredLoan(
            "该贷款已按协议重组还款计划，不能倒签入账或冲正还款；请联系组长人工处理",
            "The loan's schedule was restructured by an agreement: back-dated postings and reversals"
            " cannot be replayed on it; a team lead handles them by hand",
        )


__all__ = [
    "BasisLine",
    "NewInstalment",
    "RestructuredLoan",
    "RestructuringBasis",
    "refuse_replay_if_restructured",
    "reinstate_waiver",
    "restructure",
    "restructuring_basis",
    "schedule_revisions",
]
