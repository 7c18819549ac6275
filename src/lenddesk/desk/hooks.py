"""Callbacks other rooms register to hear that a ticket ended (resolved, or closed while active).

The desk does not know quality or feedback (they depend on the desk, never the reverse), so they
register a hook at import, the way rooms register ledger grant finders:

    from lenddesk.desk import hooks
    hooks.register_resolution_hook(score_on_resolution)

A hook runs inside the desk's transaction, after the status change, with the ticket locked; it
takes (session, ticket, at) and must not commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from lenddesk.desk.models import Ticket

# What a hook receives: the desk's ticket, locked, for reading (other rooms never change it).
ResolvedTicket = Ticket
ResolutionHook = Callable[[Session, ResolvedTicket, datetime], None]

_resolution_hooks: list[ResolutionHook] = []


def register_resolution_hook(hook: ResolutionHook) -> None:
    """Add a hook (idempotent: importing a module twice registers it once)."""
    if hook not in _resolution_hooks:
        _resolution_hooks.append(hook)


def ticket_resolved(session: Session, ticket: Ticket, at: datetime) -> None:
    for hook in list(_resolution_hooks):
        hook(session, ticket, at)
