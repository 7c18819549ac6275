"""The desk's grant of staff access to borrowers (docs/LEDGER.md "Staff access"), registered at import."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.desk.models import Ticket
from lenddesk.ledger import access as ledger_access

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


ledger_access.register_grant_finder(ticket_grants_borrower)
