"""Steps other rooms add to the close of business, run after the ledger has aged the book.

A room that builds on the ledger (negotiation: broken agreements; collections: promises kept or
broken, the daily contact plan) registers a step here instead of the ledger importing the room.
`STEP_MODULES` names the modules that register at import, the way `app.ROUTER_MODULES` names the
routers; a module that does not exist yet is skipped.

A step gets a connection (no transaction open) and the business date, runs set-based SQL in
transactions of its own, and must be idempotent for the date: a crash after the step and before the
date is marked done runs it again. It returns counts that go into the run's summary.

A step runs after every step of a lower order, unless it names the steps it reads (`after`): on
PostgreSQL the close then runs steps whose prerequisites are done side by side, each on its own
connection (the month-end snapshot beside the collections plan and the score). SQLite has one
writer, so there they run one after another on the close's connection, in order.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Engine

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
    after: tuple[str, ...] | None = None


_steps: dict[str, _Step] = {}
_skipped: set[str] = set()


def register(
    name: str,
    step: AfterCloseStep,
    *,
    order: int = 100,
    label: str | None = None,
    after: Iterable[str] | None = None,
) -> None:
    """Run `step` in every close of business after aging, lower `order` first (re-registering replaces).

    `label` is what `lenddesk cob` prints against the step's time (default: its name). `after`
    names the only steps it must follow (default: every step of a lower order).
    """
    _steps[name] = _Step(name, order, step, label or name, tuple(after) if after is not None else None)


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
    return [(step.name, step.run) for step in _in_order()]


def _in_order() -> list[_Step]:
    return sorted(_steps.values(), key=lambda s: (s.order, s.name))


def run_steps(
    connection: Connection, day: date, seconds: dict[str, float] | None = None, *, workers: int = 1
) -> dict[str, int]:
    """Every registered step for `day`; their counts prefixed with the step's name.

    `seconds`, when given, receives each step's wall time under its name, in the steps' order
    (added to what is there, so a catch-up over several dates sums them). With `workers` > 1 on
    PostgreSQL, steps whose prerequisites are done run side by side on connections of their own.
    """
    registered_steps()
    steps = [step for step in _in_order() if step.name not in _skipped]
    if workers > 1 and connection.dialect.name == "postgresql" and len(steps) > 1:
        results = _side_by_side(connection.engine, steps, day, workers)
    else:
        results = {step.name: _timed(step, connection, day) for step in steps}
    counts: dict[str, int] = {}
    for step in steps:
        step_counts, wall = results[step.name]
        for key, value in step_counts.items():
            counts[f"{step.name}.{key}"] = value
        if seconds is not None:
            seconds[step.name] = seconds.get(step.name, 0.0) + wall
    return counts


def _timed(step: _Step, connection: Connection, day: date) -> tuple[dict[str, int], float]:
    started = time.perf_counter()
    counts = step.run(connection, day)
    return counts, time.perf_counter() - started


def _prerequisites(step: _Step, steps: list[_Step]) -> set[str]:
    names = {other.name for other in steps}
    if step.after is None:
        return {other.name for other in steps if other.order < step.order}
    return set(step.after) & names


def _side_by_side(
    engine: Engine, steps: list[_Step], day: date, workers: int
) -> dict[str, tuple[dict[str, int], float]]:
    """Each step as soon as its prerequisites are done, up to `workers` at a time."""
    waiting = list(steps)
    results: dict[str, tuple[dict[str, int], float]] = {}
    running: dict[Future[tuple[dict[str, int], float]], _Step] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="after-close") as pool:
        while waiting or running:
            for step in [s for s in waiting if _prerequisites(s, steps) <= results.keys()]:
                if len(running) == workers:
                    break
                waiting.remove(step)
                running[pool.submit(_on_own_connection, engine, step, day)] = step
            if not running:
                raise RuntimeError(f"after-close steps wait on each other: {[s.name for s in waiting]}")
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                results[running.pop(future).name] = future.result()
    return results


def _on_own_connection(engine: Engine, step: _Step, day: date) -> tuple[dict[str, int], float]:
    with engine.connect() as connection:
        # As on the close's own connection (ledger/cob.py): no JIT for these long statements.
        connection.exec_driver_sql("SET jit = off")
        connection.commit()
        return _timed(step, connection, day)


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
