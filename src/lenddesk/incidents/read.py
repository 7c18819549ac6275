"""The incidents room's read interface for other rooms, and the hold it puts on collections.

At import it registers `outbound_hold` with `collections.pauses`, so that every reminder and
collection contact asks it (collections never imports this room). Other rooms (care: no campaign
during an incident) call `active_holds` / `outbound_hold` directly.

Ordering against a declaration: `active_holds` first locks the switch row FOR SHARE (PostgreSQL;
on SQLite the caller already holds the write gate), and a declaration locks it FOR UPDATE before it
inserts. A contact checked before a declaration therefore commits before the declaration can; one
checked after waits for it and sees the incident. Nothing goes out after the declaration commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.collections import pauses
from lenddesk.incidents import rules
from lenddesk.incidents.models import Incident, Switch
from lenddesk.ledger import service as ledger

_CACHE = "incidents.active_holds"


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
    """Active incidents that pause outbound contact. Locks the switch row FOR SHARE; the answer is
    kept for the rest of the transaction (the lock keeps it true until the commit)."""
    transaction = session.get_transaction()
    cached = session.info.get(_CACHE)
    if cached is not None and cached[0] is transaction:
        return cached[1]
    session.execute(select(Switch.version).where(Switch.id == 1).with_for_update(read=True))
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
