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

`authorize` is the one rule, for reads and writes, API and console alike: the borrower 360, the
loan page, quotes and certificates ask it before they read; every state-changing ledger route
(repayments, reversals, recoveries, refunds, waivers and their decisions) asks it before it writes
(`service.staff_access.open_loan_for_write`). Only the roles in the policy's `case_bound_roles` need a
case; everyone else passes without one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from lenddesk.core.errors import Forbidden
from lenddesk.core.policy import get_policy


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


def is_case_bound(role: str) -> bool:
    """Whether a role opens (and writes to) a borrower only through a case of theirs."""
    return role in get_policy().ledger.case_bound_roles


def authorize(
    session: Session, *, user_id: int | None, role: str, borrower_id: int, case_reference: str | None
) -> Grant | None:
    """The case that lets a case-bound member of staff read or write this borrower; None for roles
    that need none. Raises Forbidden (`no_case_for_borrower`) when a case-bound caller has none.

    `case_reference` (a ticket number, `?ticket=` / the form's `ticket`) only narrows the search: the
    caller's own open ticket linked to the borrower, or a collector's worklist entry, counts as well.
    """
    if not is_case_bound(role):
        return None
    reference = case_reference.strip().upper() if case_reference else None
    grant = find_grant(
        session,
        AccessRequest(user_id=user_id, role=role, borrower_id=borrower_id, case_reference=reference),
    )
    if grant is None:
        raise Forbidden(
            "只能通过您负责的工单查看该借款人",
            "You may open this borrower only through a ticket of yours",
            code="no_case_for_borrower",
        )
    return grant
