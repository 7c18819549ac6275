"""Profile of the close of business (not a test): each step's time and its slowest statements.

    .venv/bin/python bench/close_steps.py --url postgresql+psycopg://…/book --date 2026-11-27
    .venv/bin/python bench/close_steps.py --url … --date 2026-11-27 --explain   # EXPLAIN (ANALYZE, BUFFERS)

Runs `run_cob` on an already seeded book (e.g. one seeded as bench/cob.py does) and times every SQL
statement by the step that issued it (SQLAlchemy cursor events), then prints each step's time and
its `--top` slowest statements. With `--explain`, re-runs the slowest statement of each
after-close step under `EXPLAIN (ANALYZE, BUFFERS)` inside a transaction that is rolled back
(PostgreSQL only). The close changes the book: run it on a copy.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from lenddesk.core.db import make_engine  # noqa: E402
from lenddesk.ledger import after_close  # noqa: E402
from lenddesk.ledger.cob import run_cob  # noqa: E402


class StatementClock:
    """Wall time of every statement, grouped under the step running at the time."""

    def __init__(self) -> None:
        self.step = "ledger"
        self.statements: dict[str, list[tuple[float, str, Any]]] = defaultdict(list)
        self._started: list[float] = []

    def before(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        self._started.append(time.perf_counter())

    def after(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        seconds = time.perf_counter() - self._started.pop()
        self.statements[self.step].append((seconds, statement, parameters))


def wrap_steps(clock: StatementClock) -> None:
    """Tag every after-close step's statements with the step's name."""
    after_close.registered_steps()
    for name, step in list(after_close._steps.items()):

        def timed(connection: Any, day: date, _run: Any = step.run, _name: str = name) -> dict[str, int]:
            clock.step = _name
            try:
                return _run(connection, day)
            finally:
                clock.step = "ledger"

        after_close._steps[name] = step.__class__(step.name, step.order, timed, step.label, step.after)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True)
    parser.add_argument("--date", required=True, type=date.fromisoformat)
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument(
        "--workers", type=int, default=1, help="1 (default) so that each statement is timed under its step"
    )
    parser.add_argument(
        "--by-statement", action="store_true", help="each step's statements grouped by their text, summed"
    )
    parser.add_argument(
        "--auto-explain",
        type=float,
        default=None,
        metavar="SECONDS",
        help="PostgreSQL: log the plan (ANALYZE, BUFFERS) of statements slower than this (server log)",
    )
    args = parser.parse_args()
    engine = make_engine(args.url)
    if args.auto_explain is not None and engine.dialect.name == "postgresql":
        event.listen(engine, "connect", lambda dbapi, _: auto_explain(dbapi, args.auto_explain))
    clock = StatementClock()
    event.listen(engine, "before_cursor_execute", clock.before)
    event.listen(engine, "after_cursor_execute", clock.after)
    wrap_steps(clock)
    summary = run_cob(engine, args.date, workers=args.workers)
    print(
        f"close of {args.date}: {summary.duration_seconds:.2f} s, {summary.loans_processed:,} loans processed"
    )
    for name, seconds in summary.step_seconds.items():
        print(f"  step {name:<28} {seconds:8.3f} s")
    for step, statements in clock.statements.items():
        total = sum(seconds for seconds, _, _ in statements)
        print(f"\n[{step}] {len(statements)} statements, {total:.3f} s in SQL; slowest:")
        for seconds, statement, _ in sorted(statements, key=lambda item: -item[0])[: args.top]:
            print(f"  {seconds:8.3f} s  {' '.join(statement.split())[:240]}")
    if args.by_statement:
        print_grouped(clock)
    if args.explain and engine.dialect.name == "postgresql":
        explain_slowest(engine, clock)
    engine.dispose()


def print_grouped(clock: StatementClock) -> None:
    """Each step's statements grouped by their first words (a chunked statement runs once a chunk)."""
    for step, statements in clock.statements.items():
        groups: dict[str, list[float]] = defaultdict(list)
        for seconds, statement, _ in statements:
            groups[" ".join(statement.split())[:90]].append(seconds)
        print(f"\n[{step}] by statement: calls, seconds")
        for text, times in sorted(groups.items(), key=lambda item: -sum(item[1]))[:12]:
            print(f"  {len(times):5d} {sum(times):8.3f} s  {text}")


def auto_explain(dbapi_connection: Any, seconds: float) -> None:
    """The plans as they ran, first runs included (an EXPLAIN afterwards sees analysed tables)."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("LOAD 'auto_explain'")
        cursor.execute(f"SET auto_explain.log_min_duration = {int(seconds * 1000)}")
        cursor.execute("SET auto_explain.log_analyze = on")
        cursor.execute("SET auto_explain.log_buffers = on")
    dbapi_connection.commit()


def explain_slowest(engine: Any, clock: StatementClock) -> None:
    for step, statements in clock.statements.items():
        if step == "ledger" or not statements:
            continue
        seconds, statement, parameters = max(statements, key=lambda item: item[0])
        print(f"\n[{step}] EXPLAIN (ANALYZE, BUFFERS) of its slowest statement ({seconds:.3f} s):")
        with engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            with raw.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                for (line,) in cursor.fetchall():
                    print("  " + line)
            raw.rollback()


if __name__ == "__main__":
    main()
