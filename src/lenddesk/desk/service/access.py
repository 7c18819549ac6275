"""Staff access to a ticket's borrower: one rule for the borrower 360, the side panel and macros.

An agent (a case-bound role, policy `case_bound_roles`) sees a borrower only through a ticket they
own, not closed, linked to that borrower — and a ticket is linked only by a verification. Team leads
and up see every borrower. The desk registers its grant with the ledger at import
(docs/LEDGER.md "Staff access"); the panel and macros ask the ledger the same question.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import Forbidden
from lenddesk.desk.models import Ticket
from lenddesk.ledger import access as ledger_access
from lenddesk.ledger import service as ledger

# --- staff access to borrowers: the desk's grant (docs/LEDGER.md "Staff access") -----------------


def ticket_grants_borrower(
    session: Session, request: ledger_access.AccessRequest
) -> ledger_access.Grant | None:
    """A ticket the viewer owns, not closed, linked to the borrower: the named one, else the latest."""
    if request.user_id is None:
        return None
    statement = select(Ticket.number).where(
        Ticket.owner_id == request.user_id,
        Ticket.borrower_id == request.borrower_id,
        Ticket.status != "closed",
    )
    if request.case_reference:
        statement = statement.where(Ticket.number == request.case_reference)
    number = session.scalar(statement.order_by(Ticket.id.desc()).limit(1))
    return ledger_access.Grant("ticket", number) if number else None


def may_see_account(session: Session, *, viewer: audit.Actor, ticket: Ticket) -> bool:
    """Whether `viewer` may see the account of the ticket's borrower (the 360's rule)."""
    if ticket.borrower_id is None:
        return False
    if viewer.user_id is None:  # the borrower's own self-service (web chat), a system process
        return True
    try:
        require_account_access(session, viewer=viewer, ticket=ticket)
    except Forbidden:
        return False
    return True


def require_account_access(session: Session, *, viewer: audit.Actor, ticket: Ticket) -> None:
    """Refuse (403) a case-bound viewer the account of a borrower this ticket does not give them."""
    if ticket.borrower_id is None or viewer.user_id is None:
        return
    ledger.check_borrower_access(
        session, viewer=viewer, borrower_id=ticket.borrower_id, case_reference=ticket.number
    )


ledger_access.register_grant_finder(ticket_grants_borrower)
