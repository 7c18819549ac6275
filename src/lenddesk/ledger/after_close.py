"""Steps other rooms add to the close of business, run after the ledger has aged the book.

A room that builds on the ledger (negotiation: broken agreements; collections: promises kept or
broken, the daily contact plan) registers a step here instead of the ledger importing the room.
`STEP_MODULES` names the modules that register at import, the way `app.ROUTER_MODULES` names the
routers; a module that does not exist yet is skipped.

A step gets the COB's connection (no transaction open) and the business date, runs set-based SQL in
transactions of its own, and must be idempotent for the date: a crash after the step and before the
date is marked done runs it again. It returns counts that go into the run's summary.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection

AfterCloseStep = Callable[[Connection, date], dict[str, int]]

STEP_MODULES = (
    "lenddesk.negotiation.jobs",
    "lenddesk.collections.jobs",
    "lenddesk.risk.jobs",
    "lenddesk.reports.jobs",
    "lenddesk.care.jobs",
)


@dataclass(frozen=True)
class _Step:
    name: str
    order: int
    run: AfterCloseStep


_steps: dict[str, _Step] = {}


def register(name: str, step: AfterCloseStep, *, order: int = 100) -> None:
    """Run `step` in every close of business after aging, lower `order` first (re-registering replaces)."""
    _steps[name] = _Step(name, order, step)


def registered_steps() -> list[tuple[str, AfterCloseStep]]:
    for module_name in STEP_MODULES:
        try:
            importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
    return [(step.name, step.run) for step in sorted(_steps.values(), key=lambda s: (s.order, s.name))]


def run_steps(connection: Connection, day: date) -> dict[str, int]:
    """Every registered step for `day`, in order; their counts prefixed with the step's name."""
    counts: dict[str, int] = {}
    for name, step in registered_steps():
        for key, value in step(connection, day).items():
            counts[f"{name}.{key}"] = value
    return counts
