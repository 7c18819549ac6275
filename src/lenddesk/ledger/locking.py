"""The loan lock: every write to a loan takes it before reading what it will change.

PostgreSQL: `SELECT … FOR UPDATE` on the loan row, held until the transaction ends; writers of one
loan queue on it, writers of other loans do not wait. SQLite: the database's write gate
(`core/sqlite_gate.py`) taken by an immediate transaction (`BEGIN IMMEDIATE`) before the first
read, so whatever is read afterwards is the latest committed state and no other writer can change
it before this transaction commits. SQLite has one writer at a time anyway; taking the gate first
only moves the wait to before the read.

Whoever locks more than one loan in a transaction locks them in id order (no deadlocks). The close
of business locks, chunk by chunk, the loans it will change (`cob_sql`, its "select" stage).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.ledger.models import Loan


def begin_write(session: Session) -> None:
    """On SQLite, start an immediate transaction (takes the write gate) unless one is open.

    On other databases this does nothing: row locks do the work there.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    if not connection.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def lock_loan(session: Session, loan_id: int) -> Loan | None:
    """Lock loan `loan_id` for this transaction and return it freshly read (None if it does not exist).

    Call it before reading the loan's lines or repayments: everything read after it is current.
    """
    begin_write(session)
    return session.scalar(
        select(Loan).where(Loan.id == loan_id).with_for_update().execution_options(populate_existing=True)
    )
