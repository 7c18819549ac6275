"""Who a care campaign leaves out, and why: a registry of exclusions other rooms can add to.

An exclusion is a reason code and a builder. Given the campaign's context and the borrower-id column
of the audience, the builder returns a SQL condition that is true for a borrower to leave out (or
None when the exclusion does not apply to this campaign, e.g. the marketing cap for an education
message). The preview and the launch evaluate every condition in one set-based statement; a borrower
is counted under the first reason (in `order`) that excludes them.

The care room registers its own (care/service/standard_exclusions.py). A room the care room may not
import — the incidents room's "an active incident pauses outbound" — registers its exclusion from
its own module, named in `EXCLUSION_MODULES` the way `ledger.after_close.STEP_MODULES` names the
close's steps, so that every process (server, worker, CLI) sees the same set:

    from lenddesk.care.exclusions import register_exclusion
    register_exclusion("active_incident", lambda context, borrower: ..., order=15)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

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


# (context, the audience's borrower-id column) → a SQL condition true for those to leave out, or None.
ExclusionBuilder = Callable[[ExclusionContext, Any], Any]

EXCLUSION_MODULES = (
    "lenddesk.care.service.standard_exclusions",
    "lenddesk.incidents.care_exclusions",  # the emergency room's pause (its merge adds the module)
)


@dataclass(frozen=True)
class Exclusion:
    reason: str
    order: int
    build: ExclusionBuilder


_exclusions: dict[str, Exclusion] = {}


def register_exclusion(reason: str, builder: ExclusionBuilder, *, order: int = 100) -> None:
    """Leave out the borrowers `builder` selects, under `reason` (re-registering replaces)."""
    _exclusions[reason] = Exclusion(reason, order, builder)


def registered_exclusions() -> list[Exclusion]:
    for module_name in EXCLUSION_MODULES:
        try:
            importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not module_name.startswith(exc.name):
                raise
    return sorted(_exclusions.values(), key=lambda exclusion: (exclusion.order, exclusion.reason))
