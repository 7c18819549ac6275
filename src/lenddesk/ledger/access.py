"""Who may open a borrower's 360 or loan page: the hook other rooms register grants with.

Agents and collectors (the policy's `case_bound_roles`) see a borrower only through a case of
theirs — a ticket they own linked to that borrower today, a collections worklist entry later.
Every other reader sees every borrower. The ledger does not know tickets or worklists (rooms
depend on the ledger, never the reverse), so the rooms that own cases register a *grant finder*
at import, the way console pages register their nav entries:

    from lenddesk.ledger import access
    access.register_grant_finder(my_finder)

A finder answers, for one viewer and one borrower, the case that lets them look (or None). With
no finder registered a case-bound viewer is refused: the check fails closed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Grant:
    """The case through which a viewer opens a borrower: what kind, and its human reference."""

    kind: str  # "ticket", later "worklist"
    reference: str  # e.g. the ticket number T20261130-000012


@dataclass(frozen=True)
class AccessRequest:
    """One viewer asking to open one borrower, optionally naming the case they come from."""

    user_id: int | None
    role: str
    borrower_id: int
    case_reference: str | None


GrantFinder = Callable[[Session, AccessRequest], Grant | None]

_finders: list[GrantFinder] = []


def register_grant_finder(finder: GrantFinder) -> None:
    """Add a finder (idempotent: importing a module twice registers it once)."""
    if finder not in _finders:
        _finders.append(finder)


def find_grant(session: Session, request: AccessRequest) -> Grant | None:
    """The first grant any registered finder gives, or None."""
    for finder in _finders:
        grant = finder(session, request)
        if grant is not None:
            return grant
    return None
