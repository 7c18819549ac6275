"""The care room's exclusion for an active incident: while an outage, a leak or a fund risk is
active, no care campaign reaches a borrower it covers — a borrower with an open loan of one of its
products, or everyone when it covers every product. Whether it pauses outbound or not: a greeting or
an offer in the middle of an incident is never welcome. Registered here, since care may not read
the incidents room's tables (care.exclusions.EXCLUSION_MODULES names this module)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lenddesk.care.exclusions import Excluded, ExclusionContext, Verdict, register_exclusion
from lenddesk.incidents.models import Incident
from lenddesk.ledger import service as ledger

ACTIVE_INCIDENT = "active_incident"


def _covered_by_an_active_incident(context: ExclusionContext, audience: Any) -> Verdict | None:
    if context.session is None:
        return None
    scopes = list(context.session.scalars(select(Incident.products).where(Incident.status == "active")))
    if not scopes:
        return None
    if any(products is None for products in scopes):
        return Excluded(ledger.borrower_ids_of_products(None))
    codes = sorted({code for products in scopes for code in products})
    return Excluded(ledger.borrower_ids_of_products(codes))


register_exclusion(ACTIVE_INCIDENT, _covered_by_an_active_incident, order=65)
