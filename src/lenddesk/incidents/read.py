"""The incidents room's read interface for other rooms, and the hold it puts on collections.

At import it registers `outbound_hold` with `collections.pauses`, so that every reminder and
collection contact asks it (collections never imports this room). Other rooms (care: no campaign
during an incident) call `active_holds` / `outbound_hold` directly.

Ordering against a declaration: `active_holds` first takes the incidents switch in shared mode
(PostgreSQL: a transaction-level advisory lock; on SQLite the caller already holds the write gate),
and a declaration or a resolution takes it exclusively before it reads or writes. A contact checked
before a declaration therefore commits before the declaration can; one checked after waits for it
and sees the incident. Nothing goes out after the declaration commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from lenddesk.collections import pauses
from lenddesk.incidents import rules
from lenddesk.incidents.models import Incident
from lenddesk.ledger import service as ledger

_CACHE = "incidents.active_holds"
# The advisory lock key of the incidents switch (any fixed bigint no other lock uses).
SWITCH_KEY = 0x1D_C1DE_2026
_SHARED = text("SELECT pg_advisory_xact_lock_shared(:key)")
_EXCLUSIVE = text("SELECT pg_advisory_xact_lock(:key)")


def _on_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def lock_switch_exclusive(session: Session) -> None:
    """Take the switch exclusively until the commit (PostgreSQL; SQLite: the caller holds the gate):
    waits for every outbound check in flight, and makes every later one wait for this transaction."""
    if _on_postgres(session):
        session.execute(_EXCLUSIVE, {"key": SWITCH_KEY})
    forget_holds(session)


@dataclass(frozen=True)
class Hold:
    incident_id: int
    kind: str
    title: str
    products: tuple[str, ...] | None  # None: every product

    @property
    def evidence(self) -> str:
        return (
            f"应急事件 #{self.incident_id}（{rules.KIND_LABELS_ZH.get(self.kind, self.kind)}）：{self.title}"
        )


def active_holds(session: Session) -> list[Hold]:
    """Active incidents that pause outbound contact. Takes the switch in shared mode; the answer is
    kept for the rest of the transaction (the lock keeps it true until the commit)."""
    transaction = session.get_transaction()
    cached = session.info.get(_CACHE)
    if cached is not None and cached[0] is transaction:
        return cached[1]
    if _on_postgres(session):
        session.execute(_SHARED, {"key": SWITCH_KEY})
    rows = session.execute(
        select(Incident.id, Incident.kind, Incident.title, Incident.products)
        .where(Incident.status == "active", Incident.pause_outbound.is_(True))
        .order_by(Incident.id)
    ).all()
    holds = [
        Hold(row.id, row.kind, row.title, tuple(row.products) if row.products is not None else None)
        for row in rows
    ]
    session.info[_CACHE] = (session.get_transaction(), holds)
    return holds


def outbound_hold(session: Session, borrower_id: int, loan_id: int | None = None) -> str:
    """The evidence of the incident that pauses a contact with this borrower (about `loan_id`, when
    given), or "" when none does."""
    holds = active_holds(session)
    if not holds:
        return ""
    products: list[str] | None = None
    for hold in holds:
        if hold.products is None:
            return hold.evidence
        if products is None:
            if loan_id is not None:
                code = ledger.loan_product_code(session, loan_id)
                products = [code] if code else []
            else:
                products = list(ledger.open_loan_products(session, borrower_id=borrower_id).values())
        if rules.in_scope(list(hold.products), products):
            return hold.evidence
    return ""


def forget_holds(session: Session) -> None:
    """Drop the transaction's cached answer (after this transaction changed the incidents)."""
    session.info.pop(_CACHE, None)


pauses.register("incidents", outbound_hold)
