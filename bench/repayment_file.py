"""Benchmark of a bulk repayment file on a seeded book (not a test): lines per second per database.

    .venv/bin/python bench/repayment_file.py                 # 100,000 lines (target ≤ 30 s each)
    .venv/bin/python bench/repayment_file.py --lines 5000    # a smoke run

For each database: seed a book (`lenddesk seed`, one loan per two lines, not timed), write a CSV of
--lines repayments on its open loans — two lines per loan in file order, dated the book's date, so
every line goes the set-based way (`posting_rows`) — and time `import_batch` (parse, stage the
lines, apply them chunk by chunk, each chunk one transaction; on PostgreSQL in `--workers`
processes, as `lenddesk repayments import` does). Prints the wall time, this process's CPU time
(SQLite runs in it; on PostgreSQL the server and the other workers have theirs), lines per second
and the counts.
Run it alone on the machine: the figure is the lead's, measured quiet.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from lenddesk.core.db import make_engine, session_factory  # noqa: E402
from lenddesk.ledger.service.batches import import_batch  # noqa: E402
from repayment_batch import ACTOR, AS_OF, open_contracts, repayment_file, seed  # noqa: E402

TARGET_SECONDS = 30.0
WORKERS = 2  # `lenddesk repayments import`'s default: the machine's two cores


def measure(database: str, url: str, lines: int, chunk_size: int, workers: int) -> dict[str, float]:
    print(f"[{database}] seeding {lines // 2:,} loans …", flush=True)
    seed(url, lines // 2)
    return import_file(database, url, lines, chunk_size, workers=workers)


def import_file(
    database: str, url: str, lines: int, chunk_size: int, book_date: date = AS_OF, *, workers: int = WORKERS
) -> dict[str, float]:
    """Time `import_batch` of a file of `lines` repayments on the open loans of the book at `url`,
    dated `book_date` (the day after the book's last close, so every line is a regular one), in
    `workers` processes (PostgreSQL; SQLite has one writer)."""
    contracts = open_contracts(url)
    content = repayment_file(contracts, lines, "FILE", book_date)
    engine = make_engine(url)
    factory = session_factory(engine)
    print(f"[{database}] importing {lines:,} lines …", flush=True)
    wall, cpu = time.perf_counter(), time.process_time()
    outcome = import_batch(
        factory,
        actor=ACTOR,
        channel="auto_debit",
        content=content,
        today=book_date,
        chunk_size=chunk_size,
        workers=workers,
    )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    engine.dispose()
    print(f"[{database}] {lines / wall:,.0f} lines/s ({wall:.1f} s)", flush=True)
    return {"wall": wall, "cpu": cpu, **{status: float(n) for status, n in outcome.counts.items()}}


def report(results: dict[str, dict[str, float]], lines: int) -> None:
    print("\n=== Repayment file (bench/repayment_file.py) ===")
    print(f"{lines:,} lines; machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"{'database':<12}{'wall s':>9}{'cpu s':>9}{'lines/s':>10}{'at 100 k':>10}  target ≤ 30 s  counts")
    for database, figures in results.items():
        rate = lines / figures["wall"]
        at_100k = 100_000 / rate
        counts = {key: int(value) for key, value in figures.items() if key not in ("wall", "cpu")}
        verdict = "met" if at_100k <= TARGET_SECONDS else "NOT met"
        print(
            f"{database:<12}{figures['wall']:>9.1f}{figures['cpu']:>9.1f}{rate:>10,.0f}{at_100k:>9.1f}s"
            f"  {verdict:<13}  {counts}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument(
        "--workers", type=int, default=WORKERS, help="processes applying the file (PostgreSQL)"
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="lenddesk-bench-file-"))
    results: dict[str, dict[str, float]] = {}
    try:
        if not args.skip_sqlite:
            url = f"sqlite:///{directory / 'file.db'}"
            results["sqlite"] = measure("sqlite", url, args.lines, args.chunk_size, args.workers)
        if not args.skip_postgres:
            from tests.support.servers import start_postgres

            server = start_postgres()
            try:
                url = server.create_database("bench_file")
                results["postgresql"] = measure("postgresql", url, args.lines, args.chunk_size, args.workers)
            finally:
                server.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    report(results, args.lines)


if __name__ == "__main__":
    main()
