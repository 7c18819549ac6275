"""Scheduled work of the reports room: the month-end snapshot in the close of business."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection

from lenddesk.ledger import after_close
from lenddesk.reports.service import write_month
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


# After the collections plan and agreements: the snapshot reads the book as the close leaves it.
after_close.register("reports", month_end_step, order=900)
