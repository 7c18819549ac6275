"""Who a care campaign leaves out, and why: a registry of exclusions other rooms can add to.

An exclusion is a reason code, an order and a builder. Given the campaign's context and the
audience (a row source with `borrower_id` and the ledger's contact columns, see
`ledger.contact_rows`), the builder says whom to leave out in one of three shapes, or None when the
exclusion does not apply to this campaign (the marketing cap for an education message):

- `Excluded(ids)`: a select of the borrower ids to leave out (opt-outs, overdue loans, holds …);
- `Required(ids)`: a select of the ids that may stay — everyone else is left out (consents …);
- `RowCondition(condition)`: a condition on the audience's own columns (the contact window).

The preview and the launch judge every borrower in one set-based statement: the `Excluded` sets are
gathered into one list of (borrower, first order), each `Required` set is joined once, row
conditions are evaluated in place — no per-borrower lookup per exclusion, which is what keeps a
preview over a million borrowers within seconds. A borrower is counted under the first reason (in
`order`) that leaves them out.

The care room registers its own (care/service/standard_exclusions.py). A room the care room may not
import — the incidents room's "an active incident pauses outbound" — registers its exclusion from
its own module, named in `EXCLUSION_MODULES` the way `ledger.after_close.STEP_MODULES` names the
close's steps, so that every process (server, worker, CLI) sees the same set:

    from lenddesk.care.exclusions import Excluded, register_exclusion
    register_exclusion("active_incident", lambda context, audience: Excluded(paused_ids()), order=65)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from lenddesk.core.policy import CarePolicy


@dataclass(frozen=True)
class ExclusionContext:
    """What a builder may know of the campaign and the moment it is judged at."""

    campaign_id: int | None
    kind: str  # greeting, education, offer, revisit
    channel: str
    purpose: str | None  # the consent it needs: marketing, education, or None
    marketing: bool
    now: datetime  # UTC
    day: date  # Shanghai business date of `now`
    hhmm: str  # Shanghai wall-clock time of `now`, HH:MM
    policy: CarePolicy
    session: Session | None = None  # to read state a select cannot (the active incidents)


@dataclass(frozen=True)
class Excluded:
    ids: Any  # a select of one column: the borrower ids to leave out


@dataclass(frozen=True)
class Required:
    ids: Any  # a select of one column: the borrower ids that may stay


@dataclass(frozen=True)
class RowCondition:
    condition: Any  # true for an audience row to leave out


Verdict = Excluded | Required | RowCondition
# (context, the audience row source) → whom to leave out, or None when it does not apply.
ExclusionBuilder = Callable[[ExclusionContext, Any], Verdict | None]

EXCLUSION_MODULES = (
    "lenddesk.care.service.standard_exclusions",
    "lenddesk.incidents.care_exclusions",  # no campaign reaches a borrower an active incident covers
)


@dataclass(frozen=True)
class Exclusion:
    reason: str
    order: int
    build: ExclusionBuilder


_exclusions: dict[str, Exclusion] = {}


def register_exclusion(reason: str, builder: ExclusionBuilder, *, order: int = 100) -> None:
    """Leave out whom `builder` names, under `reason` (re-registering a reason replaces it; orders
    must differ between reasons)."""
    _exclusions[reason] = Exclusion(reason, order, builder)


def registered_exclusions() -> list[Exclusion]:
    for module_name in EXCLUSION_MODULES:
        try:
            importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not module_name.startswith(exc.name):
                raise
    return sorted(_exclusions.values(), key=lambda exclusion: (exclusion.order, exclusion.reason))
