"""Staff access to a borrower: case-bound roles checked by `access.authorize`, every use audited.

Reads (360, loan page, quote, certificate) are recorded as `borrower.open`; writes (every
state-changing ledger route, API and console) as `borrower.write`, in the write's own transaction,
with the case (ticket or worklist entry) that allowed them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import Unprocessable
from lenddesk.ledger import access
from lenddesk.ledger.models import Borrower, CreditRefund, Loan, Repayment, Waiver
from lenddesk.ledger.service._common import _not_found, loan_by_contract
from lenddesk.ledger.service.repayments import PostingResult, check_posting, post_repayment
from lenddesk.ledger.service.views import Borrower360, borrower_360


def check_borrower_access(
    session: Session, *, viewer: audit.Actor, borrower_id: int, case_reference: str | None
) -> access.Grant | None:
    """The case that lets a case-bound viewer open this borrower (None for roles that see all)."""
    return access.authorize(
        session,
        user_id=viewer.user_id,
        role=viewer.role,
        borrower_id=borrower_id,
        case_reference=case_reference,
    )


def _record_opening(
    session: Session,
    viewer: audit.Actor,
    *,
    borrower_id: int,
    grant: access.Grant | None,
    surface: str,
    page: str,
    contract_number: str | None = None,
) -> None:
    after: dict[str, Any] = {"surface": surface, "page": page}
    if contract_number:
        after["contract_number"] = contract_number
    if grant is not None:
        after.update(via=grant.kind, case=grant.reference)
    audit.record(session, viewer, "borrower.open", ("borrower", borrower_id), None, after)


def open_borrower_360(
    session: Session,
    *,
    viewer: audit.Actor,
    borrower_id: int,
    case_reference: str | None,
    surface: str,
    today: date,
) -> Borrower360:
    """The borrower 360 for a member of staff: access checked, masked for the role, and audited."""
    if session.get(Borrower, borrower_id) is None:
        raise _not_found("借款人", "borrower", borrower_id)
    grant = check_borrower_access(
        session, viewer=viewer, borrower_id=borrower_id, case_reference=case_reference
    )
    view = borrower_360(session, borrower_id=borrower_id, role=viewer.role, today=today)
    _record_opening(session, viewer, borrower_id=borrower_id, grant=grant, surface=surface, page="360")
    return view


def open_loan(
    session: Session,
    *,
    viewer: audit.Actor,
    contract_number: str,
    case_reference: str | None,
    surface: str,
    page: str = "loan",
) -> Loan:
    """A loan opened by a member of staff (its page, quote or certificate): checked and audited."""
    loan = loan_by_contract(session, contract_number)
    grant = check_borrower_access(
        session, viewer=viewer, borrower_id=loan.borrower_id, case_reference=case_reference
    )
    _record_opening(
        session,
        viewer,
        borrower_id=loan.borrower_id,
        grant=grant,
        surface=surface,
        page=page,
        contract_number=loan.contract_number,
    )
    return loan


# --- writes: the same rule as reads, recorded with the case ------------------------------------------


@dataclass(frozen=True)
class WriteTarget:
    """What a ledger write touches: a loan by contract, or a repayment, refund or waiver by id."""

    kind: str  # "contract", "repayment", "refund", "waiver"
    key: str | int

    @classmethod
    def contract(cls, number: str) -> WriteTarget:
        return cls("contract", number)


_TARGETS: dict[str, tuple[Any, str, str]] = {
    "repayment": (Repayment, "还款记录", "repayment"),
    "refund": (CreditRefund, "退款申请", "refund"),
    "waiver": (Waiver, "减免申请", "waiver"),
}


def _target_loan(session: Session, target: WriteTarget) -> Loan:
    if target.kind == "contract":
        return loan_by_contract(session, str(target.key))
    model, what_zh, what_en = _TARGETS[target.kind]
    row = session.get(model, target.key)
    loan = session.get(Loan, row.loan_id) if row is not None else None
    if loan is None:
        raise _not_found(what_zh, what_en, target.key)
    return loan


def _write_recorded(
    contract_number: str, grant: access.Grant | None, surface: str, action: str
) -> dict[str, Any]:
    """What a `borrower.write` audit entry records of a member of staff's write."""
    after: dict[str, Any] = {"surface": surface, "action": action, "contract_number": contract_number}
    if grant is not None:
        after.update(via=grant.kind, case=grant.reference)
    return after


def open_loan_for_write(
    session: Session,
    *,
    actor: audit.Actor,
    target: WriteTarget,
    case_reference: str | None,
    surface: str,
    action: str,
) -> Loan:
    """The loan a member of staff is about to change, after the read rule (`access.authorize`).

    Every state-changing ledger route calls this before its service function (the repayment
    posting through `post_repayment_as_staff`): an agent or a collector needs the same case as for
    opening the loan, and the write is recorded as `borrower.write` (with the case) in the write's
    own transaction.
    """
    loan = _target_loan(session, target)
    grant = check_borrower_access(
        session, viewer=actor, borrower_id=loan.borrower_id, case_reference=case_reference
    )
    after = _write_recorded(loan.contract_number, grant, surface, action)
    audit.record(session, actor, "borrower.write", ("borrower", loan.borrower_id), None, after)
    return loan


def post_repayment_as_staff(
    session: Session,
    *,
    actor: audit.Actor,
    case_reference: str | None,
    surface: str,
    contract_number: str,
    channel: str,
    external_reference: str,
    amount_fen: int,
    value_date: date,
    today: date,
    kind: str = "regular",
) -> PostingResult:
    """`post_repayment` by a member of staff, under the rule of `open_loan_for_write` at less cost.

    A case-bound caller's case is found before the loan's lock (on SQLite the write gate), as there;
    a caller of another role needs none, and the loan is read once, by the posting. Its
    `borrower.write` entry goes in with the posting's own audit entries.
    """
    grant = None
    if access.is_case_bound(actor.role):
        loan = loan_by_contract(session, contract_number)
        grant = check_borrower_access(
            session, viewer=actor, borrower_id=loan.borrower_id, case_reference=case_reference
        )
    else:
        try:
            check_posting(channel, external_reference, amount_fen, kind)
        except Unprocessable:
            loan_by_contract(session, contract_number)  # an unknown contract is named first, as ever
            raise
    after = _write_recorded(contract_number.strip().upper(), grant, surface, "repayment")
    return post_repayment(
        session,
        actor=actor,
        contract_number=contract_number,
        channel=channel,
        external_reference=external_reference,
        amount_fen=amount_fen,
        value_date=value_date,
        today=today,
        kind=kind,
        audit_first=lambda borrower_id: audit.entry_values(
            actor, "borrower.write", ("borrower", borrower_id), None, after
        ),
    )
