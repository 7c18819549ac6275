"""Staff access to a borrower (360 and loan pages): case-bound roles checked, every opening audited."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import Forbidden
from lenddesk.core.policy import get_policy
from lenddesk.ledger import access
from lenddesk.ledger.models import Borrower, Loan
from lenddesk.ledger.service._common import _not_found, loan_by_contract
from lenddesk.ledger.service.views import Borrower360, borrower_360


def _case_bound(role: str) -> bool:
    return role in get_policy().ledger.case_bound_roles


def check_borrower_access(
    session: Session, *, viewer: audit.Actor, borrower_id: int, case_reference: str | None
) -> access.Grant | None:
    """The case that lets a case-bound viewer open this borrower (None for roles that see all)."""
    if not _case_bound(viewer.role):
        return None
    reference = case_reference.strip().upper() if case_reference else None
    grant = access.find_grant(
        session,
        access.AccessRequest(
            user_id=viewer.user_id, role=viewer.role, borrower_id=borrower_id, case_reference=reference
        ),
    )
    if grant is None:
        raise Forbidden(
            "只能通过您负责的工单查看该借款人",
            "You may open this borrower only through a ticket of yours",
            code="no_case_for_borrower",
        )
    return grant


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
