"""The care room's daily step in the close: purge consents past their retention (≥ 5 months after
revocation; the job is idempotent, a second run that day deletes nothing)."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from lenddesk.care import service
from lenddesk.core.calendar import SHANGHAI
from lenddesk.ledger import after_close


def purge_consents(connection: Connection, business_date: date) -> dict[str, int]:
    # Judged at the end of the business date, so a re-run of an old date never purges more.
    at = datetime.combine(business_date, time(23, 59, 59), tzinfo=SHANGHAI)
    with connection.begin(), Session(bind=connection) as session:
        purged = service.purge_revoked_consents(session, now=at)
        session.flush()
    return {"consents_purged": purged}


after_close.register("care.purge_consents", purge_consents, order=300, after=())
