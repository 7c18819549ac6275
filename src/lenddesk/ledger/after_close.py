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
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    label: str


_steps: dict[str, _Step] = {}
_skipped: set[str] = set()


def register(name: str, step: AfterCloseStep, *, order: int = 100, label: str | None = None) -> None:
    """Run `step` in every close of business after aging, lower `order` first (re-registering replaces).

    `label` is what `lenddesk cob` prints against the step's time (default: its name).
    """
    _steps[name] = _Step(name, order, step, label or name)


def step_labels() -> dict[str, str]:
    """The printable label of every registered step, by name."""
    registered_steps()
    return {step.name: step.label for step in _steps.values()}


def registered_steps() -> list[tuple[str, AfterCloseStep]]:
    for module_name in STEP_MODULES:
        try:
            importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
    return [(step.name, step.run) for step in sorted(_steps.values(), key=lambda s: (s.order, s.name))]


def run_steps(connection: Connection, day: date, seconds: dict[str, float] | None = None) -> dict[str, int]:
    """Every registered step for `day`, in order; their counts prefixed with the step's name.

    `seconds`, when given, receives each step's wall time under its name (added to what is there,
    so a catch-up over several dates sums them).
    """
    counts: dict[str, int] = {}
    for name, step in registered_steps():
        if name in _skipped:
            continue
        started = time.perf_counter()
        for key, value in step(connection, day).items():
            counts[f"{name}.{key}"] = value
        if seconds is not None:
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - started
    return counts


@contextmanager
def skipping(*names: str) -> Iterator[None]:
    """Closes run inside this block leave out the named steps (the demo seeder's early window days).

    Only for steps whose later runs recompute everything from the book (a skipped date is not caught
    up): the risk score rescored the whole book each day, so its last run is the same without the
    ones before, bar the alerts of band changes on the skipped dates.
    """
    _skipped.update(names)
    try:
        yield
    finally:
        _skipped.difference_update(names)
