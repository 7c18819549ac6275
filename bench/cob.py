"""Benchmark of the close of business (not a test): figures and ratios measured in one run.

    .venv/bin/python bench/cob.py                   # 1,000,000 loans on SQLite and PostgreSQL
    .venv/bin/python bench/cob.py --loans 100000    # a quick check

For each database: seed the book with `lenddesk seed` (a child process, timed), then close one
business date with `run_cob` in a child process (wall time and that process's peak RSS), then time
one bare UPDATE pass over the rows COB changes. On SQLite, also time the naive per-loan ORM close
(`tests/support/naive_cob.py`, same rules) on a smaller book and extrapolate it linearly.
Databases are deleted afterwards. Figures go into docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from lenddesk.core.db import make_engine, session_factory, upgrade_database  # noqa: E402
from lenddesk.core.policy import get_policy  # noqa: E402
from lenddesk.ledger.delinquency import DelinquencyRules  # noqa: E402

# The book is seeded as of AS_OF. Its first close (FIRST_CLOSE) is a one-off: it opens a collections
# account for every borrower in arrears, scores every borrower for the first time and stores their
# keyed hashes. The close measured against the targets is the next one, a day like any other in
# operation: the close of a month's last day, so every step runs (the month-end snapshot too).
AS_OF = date(2026, 11, 28)
FIRST_CLOSE = AS_OF + timedelta(days=1)
CLOSE = FIRST_CLOSE + timedelta(days=1)
# Steps with their own targets (issues 21 and 22): (label prefix, SQLite, PostgreSQL) seconds.
STEP_TARGETS = {"risk": (5.0, 8.0), "reports": (8.0, 10.0)}

COB_CHILD = """
import json, sys, time
from datetime import date
from lenddesk.core.db import make_engine
from lenddesk.ledger.cob import run_cob
engine = make_engine(sys.argv[1])
started = time.perf_counter()
summary = run_cob(engine, date.fromisoformat(sys.argv[2]), chunk_size=int(sys.argv[3]))
seconds = time.perf_counter() - started
# This process's own peak: wait4's ru_maxrss also counts the parent's pages, carried over fork and exec.
with open("/proc/self/status") as status:
    peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"seconds": seconds, "peak_rss_mib": peak_kib / 1024, **summary.as_dict()}))
"""


@dataclass
class Figures:
    database: str
    loans: int = 0
    seed_seconds: float = 0.0
    cob_wall_seconds: float = 0.0
    cob_seconds: float = 0.0
    cob_peak_rss_mib: float = 0.0
    bare_update_seconds: float = 0.0
    first_close_seconds: float = 0.0
    first_close_steps: dict[str, float] = field(default_factory=dict)
    touched_loans: int = 0
    touched_lines: int = 0
    overdue_loans: int = 0
    summary: dict[str, object] = field(default_factory=dict)


def run_measured(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, the child's peak RSS from wait4 (MiB; it includes the parent's RSS at the fork,
    so the close's child reports its own) and its stdout."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(args, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise RuntimeError(f"{args[:3]} failed: {err.read().decode()[-2000:]}")
        return seconds, usage.ru_maxrss / 1024, out.read().decode()


def seed(url: str, loans: int) -> float:
    upgrade_database(url)
    env = {**os.environ, "LENDDESK_DATABASE_URL": url}
    command = [
        str(Path(sys.executable).parent / "lenddesk"), "seed", "--borrowers", str(loans // 2),
        "--loans-per-borrower", "2",
        "--simulate-days", "0", "--date", AS_OF.isoformat(), "--batch", "10000",
    ]  # fmt: skip
    seconds, _, output = run_measured(command, env)
    print(output.strip().splitlines()[-3] if output.strip() else "")
    return seconds


def mark_touched(url: str) -> tuple[int, int, int]:
    """Record (not timed) which loans and schedule lines the close of CLOSE will change."""
    engine = make_engine(url)
    with engine.begin() as connection:
        for table in ("bench_touched_loans", "bench_touched_lines"):
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        connection.exec_driver_sql("CREATE TABLE bench_touched_loans (id INTEGER PRIMARY KEY)")
        connection.exec_driver_sql("CREATE TABLE bench_touched_lines (id INTEGER PRIMARY KEY)")
        day = {"d": CLOSE}
        connection.execute(
            text(
                "INSERT INTO bench_touched_loans SELECT id FROM loans WHERE status = 'overdue' OR"
                " (status = 'current' AND (oldest_unpaid_due_on < :d OR next_due_on <= :d))"
            ),
            day,
        )
        connection.execute(
            text(
                "INSERT INTO bench_touched_lines SELECT s.id FROM schedule_lines s"
                " JOIN loans l ON l.id = s.loan_id"
                " WHERE l.status = 'overdue' AND s.due_on < :d"
                " AND s.principal_fen + s.interest_fen > s.paid_principal_fen + s.paid_interest_fen"
            ),
            day,
        )
        for table in ("bench_touched_loans", "bench_touched_lines"):  # so the baseline gets good plans too
            connection.exec_driver_sql(f"ANALYZE {table}")
        loans = connection.scalar(text("SELECT COUNT(*) FROM bench_touched_loans"))
        lines = connection.scalar(text("SELECT COUNT(*) FROM bench_touched_lines"))
        overdue = connection.scalar(text("SELECT COUNT(*) FROM loans WHERE status = 'overdue'"))
    engine.dispose()
    return loans, lines, overdue


def bare_update(url: str, step: int = 1) -> float:
    """One plain UPDATE over the same loans and lines, one transaction: the floor for COB's writes.
    A second call with `step` -1 puts the book back as the close left it (bench/system.py goes on
    using the book)."""
    engine = make_engine(url)
    with engine.connect() as connection:
        connection.execute(text("SELECT COUNT(*) FROM loans")).scalar()  # warm the connection
        connection.rollback()
        started = time.perf_counter()
        with connection.begin():
            connection.execute(
                text(
                    "UPDATE loans SET days_past_due = days_past_due + :step"
                    " WHERE id IN (SELECT id FROM bench_touched_loans)"
                ),
                {"step": step},
            )
            connection.execute(
                text(
                    "UPDATE schedule_lines SET penalty_fen = penalty_fen + :step"
                    " WHERE id IN (SELECT id FROM bench_touched_lines)"
                ),
                {"step": step},
            )
        seconds = time.perf_counter() - started
    engine.dispose()
    return seconds


def measure(database: str, url: str, loans: int, chunk_size: int) -> Figures:
    figures = Figures(database=database, loans=loans)
    print(f"[{database}] seeding {loans:,} loans …", flush=True)
    figures.seed_seconds = seed(url, loans)
    print(f"[{database}] first close after seeding, {FIRST_CLOSE} …", flush=True)
    first = close(url, FIRST_CLOSE, chunk_size)[2]
    figures.first_close_seconds = first["seconds"]
    figures.first_close_steps = first.get("step_seconds") or {}
    figures.touched_loans, figures.touched_lines, figures.overdue_loans = mark_touched(url)
    print(f"[{database}] close of business {CLOSE} …", flush=True)
    wall, rss, result = close(url, CLOSE, chunk_size)
    figures.cob_wall_seconds, figures.cob_peak_rss_mib = wall, result.pop("peak_rss_mib", rss)
    figures.cob_seconds = result.pop("seconds")
    figures.summary = result
    figures.bare_update_seconds = bare_update(url)
    return figures


def close(url: str, day: date, chunk_size: int) -> tuple[float, float, dict[str, Any]]:
    """Close `day` in a child process: its wall seconds, peak RSS (MiB) and summary."""
    if url.startswith("sqlite"):
        engine = make_engine(url)
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
    wall, rss, output = run_measured(
        [sys.executable, "-c", COB_CHILD, url, day.isoformat(), str(chunk_size)], dict(os.environ)
    )
    return wall, rss, json.loads(output.strip().splitlines()[-1])


def naive_seconds(directory: Path, loans: int, chunk_size: int) -> tuple[float, float]:
    """The naive per-loan ORM close and the set-based close on the same small SQLite book."""
    from tests.support.naive_cob import naive_close

    path = directory / "naive.db"
    url = f"sqlite:///{path}"
    print(f"[naive] seeding {loans:,} loans …", flush=True)
    seed(url, loans)
    close(url, FIRST_CLOSE, chunk_size)  # both closes below are the day after a first close
    engine = make_engine(url)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    shutil.copy(path, directory / "setbased.db")
    engine = make_engine(url)
    started = time.perf_counter()
    naive_close(session_factory(engine), CLOSE, DelinquencyRules.from_policy(get_policy()))
    naive = time.perf_counter() - started
    engine.dispose()
    _, _, output = run_measured(
        [
            sys.executable,
            "-c",
            COB_CHILD,
            f"sqlite:///{directory / 'setbased.db'}",
            CLOSE.isoformat(),
            str(chunk_size),
        ],
        dict(os.environ),
    )
    set_based = json.loads(output.strip().splitlines()[-1])["seconds"]
    for name in ("naive.db", "setbased.db"):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{directory / name}{suffix}").unlink(missing_ok=True)
    return naive, set_based


def _step_target(step: str, seconds: float, figures: Figures) -> str:
    """For a step with its own target: the target and the close's time with and without the step."""
    targets = next((t for prefix, t in STEP_TARGETS.items() if step.startswith(prefix)), None)
    if targets is None:
        return ""
    target = targets[0] if figures.database == "sqlite" else targets[1]
    without = figures.cob_seconds - seconds
    ratio = figures.cob_seconds / without if without > 0 else float("nan")
    return f"  target ≤ {target:.0f} s; close ÷ close without it {ratio:5.2f} ×"


def report(results: list[Figures], naive: tuple[float, float] | None, naive_loans: int) -> None:
    print("\n=== Close of business benchmark (bench/cob.py) ===")
    print(
        f"machine: {os.cpu_count()} cores (other processes on the machine may share them); close date {CLOSE}"
    )
    for figures in results:
        summary = figures.summary
        print(f"\n[{figures.database}] {figures.loans:,} loans, {figures.overdue_loans:,} overdue"
              f" ({figures.overdue_loans / figures.loans:.1%})")  # fmt: skip
        print(f"  seed (lenddesk seed, child process)       {figures.seed_seconds:8.1f} s")
        first = figures.first_close_seconds
        print(f"  first close after seeding, {FIRST_CLOSE}     {first:8.2f} s   (one-off)")
        for step, seconds in figures.first_close_steps.items():
            print(f"    step {step:<36} {seconds:8.2f} s")
        print(f"  COB run_cob of {CLOSE} (inside the child) {figures.cob_seconds:8.2f} s   target ≤ 10 s")
        print(f"  COB child process wall (incl. start-up)   {figures.cob_wall_seconds:8.2f} s")
        step_seconds = summary.get("step_seconds") or {}
        for step, seconds in step_seconds.items():  # type: ignore[union-attr]
            share = seconds / figures.cob_seconds if figures.cob_seconds else 0.0
            target = _step_target(step, seconds, figures)
            print(f"    step {step:<36} {seconds:8.2f} s   {share:6.1%}{target}")
        print(
            f"  COB child peak RSS                        {figures.cob_peak_rss_mib:8.0f} MiB"
            " target ≤ 512 MiB"
        )
        print(f"  loans processed / newly overdue / cured   {summary['loans_processed']:,} /"
              f" {summary['newly_overdue']:,} / {summary['cured']:,}; written off {summary['written_off']:,};"
              f" transitions {summary['transitions']:,}")  # fmt: skip
        print(f"  bare UPDATE of {figures.touched_loans:,} loans + {figures.touched_lines:,} lines"
              f"  {figures.bare_update_seconds:8.2f} s")  # fmt: skip
        ratio = (
            figures.cob_seconds / figures.bare_update_seconds if figures.bare_update_seconds else float("nan")
        )
        print(f"  COB / bare UPDATE                         {ratio:8.2f} ×   target ≤ 5 ×")
    if naive and results:
        naive_time, set_based_small = naive
        sqlite = next(f for f in results if f.database == "sqlite")
        extrapolated = naive_time * sqlite.loans / naive_loans
        print(f"\n[naive per-loan ORM, SQLite] {naive_loans:,} loans: {naive_time:.2f} s"
              f" (set-based on the same book: {set_based_small:.2f} s)")  # fmt: skip
        print(f"  extrapolated to {sqlite.loans:,} loans: {extrapolated:.0f} s;"
              f" set-based COB is {extrapolated / sqlite.cob_seconds:.0f} × faster"
              " (target ≥ 50 ×)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--naive-loans", type=int, default=20_000)
    parser.add_argument("--chunk-size", type=int, default=50_000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where the SQLite files go (default: a temp dir)"
    )
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="lenddesk-bench-", dir=args.workdir))
    results: list[Figures] = []
    naive = None
    try:
        if not args.skip_sqlite:
            naive = naive_seconds(directory, args.naive_loans, args.chunk_size)
            url = f"sqlite:///{directory / 'bench.db'}"
            results.append(measure("sqlite", url, args.loans, args.chunk_size))
            for suffix in ("", "-wal", "-shm"):
                Path(f"{directory / 'bench.db'}{suffix}").unlink(missing_ok=True)
        if not args.skip_postgres:
            from tests.support.servers import start_postgres

            server = start_postgres()
            try:
                url = server.create_database("bench_cob")
                results.append(measure("postgresql", url, args.loans, args.chunk_size))
            finally:
                server.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    report(results, naive, args.naive_loans)


if __name__ == "__main__":
    main()
