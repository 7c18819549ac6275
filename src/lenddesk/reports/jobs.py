"""Scheduled work of the reports room: the month-end snapshot in the close of business."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from lenddesk.ledger import after_close
from lenddesk.ledger.cob import last_closed_date
from lenddesk.ledger.service.positions import first_disbursement
from lenddesk.reports.service import months_to_rebuild, write_month, written_months
from lenddesk.reports.states import is_month_end, month_of


def month_end_step(connection: Connection, business_date: date) -> dict[str, int]:
    """On the last calendar day of a month (Shanghai), snapshot every loan as this close leaves it.

    Idempotent: a second run for the date replaces the month's rows.
    """
    if not is_month_end(business_date):
        return {}
    with connection.begin():
        written = write_month(connection, month_of(business_date), live=True)
    return {"loans": written.loans, "roll_rows": written.roll_rows}


# After aging and the agreements (which may reinstate waived charges): the snapshot reads the book
# as the close leaves it, and nothing of the collections plan or the score, so on PostgreSQL it
# runs beside them.
after_close.register(
    "reports", month_end_step, order=900, label="reports month-end snapshot 月末快照", after=("negotiation",)
)


def seed_demo(session: Session, *, borrowers: int) -> None:
    """Fill the month ends before the seeded window from the bucket history (idempotent).

    The seeder's simulated window closes its own month ends with balances; the months before it
    are rebuilt on the count basis, so the roll matrices of the demo reach back to the first loan.
    """
    del borrowers  # the book is already seeded; every month without a snapshot is filled
    connection = session.connection()
    first = first_disbursement(session)
    if first is None:
        return
    written = set(written_months(connection))
    for month in months_to_rebuild(month_of(first), last_closed_date(connection)):
        if month not in written:
            write_month(connection, month, live=False)
