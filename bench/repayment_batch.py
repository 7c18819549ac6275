"""Benchmark of bulk repayment files (not a test): lines per second, on SQLite and PostgreSQL.

    .venv/bin/python bench/repayment_batch.py                  # 100,000 lines (target ≤ 30 s)
    .venv/bin/python bench/repayment_batch.py --lines 10000    # a quick check

For each database: seed a book (`lenddesk seed`, one loan per two lines, not timed), write a CSV of
--lines regular repayments on its open loans (unique references, value date the book's date, so
none is back-dated), then time `import_batch` in this process (parse, stage the lines, apply them
chunk by chunk) and read back the counts. Baseline in the same run: `post_repayment` one line per
transaction for --single lines of the same kind, extrapolated to --lines. Databases are deleted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from lenddesk.core import audit  # noqa: E402
from lenddesk.core.db import make_engine, session_factory, upgrade_database  # noqa: E402
from lenddesk.ledger.models import Loan  # noqa: E402
from lenddesk.ledger.service import post_repayment  # noqa: E402
from lenddesk.ledger.service.batches import import_batch  # noqa: E402

AS_OF = date(2026, 11, 26)
ACTOR = audit.Actor.system("bench:repayment-batch")


def seed(url: str, loans: int) -> None:
    upgrade_database(url)
    env = {**os.environ, "LENDDESK_DATABASE_URL": url}
    command = [
        str(Path(sys.executable).parent / "lenddesk"), "seed", "--borrowers", str(max(loans // 2, 1)),
        "--loans-per-borrower", "2", "--simulate-days", "0", "--date", AS_OF.isoformat(),
    ]  # fmt: skip
    subprocess.run(command, env=env, check=True, capture_output=True)


def open_contracts(url: str) -> list[str]:
    engine = make_engine(url)
    with Session(engine) as session:
        contracts = list(
            session.scalars(
                select(Loan.contract_number).where(Loan.status.in_(("current", "overdue"))).order_by(Loan.id)
            )
        )
    engine.dispose()
    return contracts


def repayment_file(contracts: list[str], lines: int, prefix: str, value_date: date = AS_OF) -> bytes:
    rows = ["reference,contract_number,amount,value_date"]
    rows += [
        f"{prefix}{index:08d},{contracts[index % len(contracts)]},100.00,{value_date.isoformat()}"
        for index in range(lines)
    ]
    return ("\n".join(rows) + "\n").encode()


def measure(database: str, url: str, lines: int, singles: int, chunk_size: int) -> dict[str, float]:
    print(f"[{database}] seeding {lines // 2:,} loans …", flush=True)
    seed(url, lines // 2)
    contracts = open_contracts(url)
    engine = make_engine(url)
    factory = session_factory(engine)
    content = repayment_file(contracts, lines, "BATCH")
    print(f"[{database}] importing {lines:,} lines …", flush=True)
    started = time.perf_counter()
    outcome = import_batch(
        factory, actor=ACTOR, channel="auto_debit", content=content, today=AS_OF, chunk_size=chunk_size
    )
    batch_seconds = time.perf_counter() - started
    print(f"[{database}] {singles:,} single postings …", flush=True)
    started = time.perf_counter()
    for index in range(singles):
        with factory() as session:
            post_repayment(
                session,
                actor=ACTOR,
                contract_number=contracts[(index * 7) % len(contracts)],
                channel="bank_transfer",
                external_reference=f"SINGLE{index:08d}",
                amount_fen=10000,
                value_date=AS_OF,
                today=AS_OF,
            )
            session.commit()
    single_seconds = time.perf_counter() - started
    engine.dispose()
    return {
        "batch_seconds": batch_seconds,
        "applied": outcome.counts.get("applied", 0),
        "single_per_line": single_seconds / max(singles, 1),
    }


def report(results: dict[str, dict[str, float]], lines: int) -> None:
    print("\n=== Bulk repayment files (bench/repayment_batch.py) ===")
    print(f"machine: {os.cpu_count()} cores (other processes on the machine may share them)")
    for database, figures in results.items():
        rate = lines / figures["batch_seconds"]
        at_100k = 100_000 / rate
        single = figures["single_per_line"] * lines
        print(f"\n[{database}] {lines:,} lines, {int(figures['applied']):,} applied")
        print(f"  import_batch                      {figures['batch_seconds']:8.2f} s   {rate:8.0f} lines/s")
        print(f"  extrapolated to 100,000 lines     {at_100k:8.1f} s   target ≤ 30 s")
        print(
            f"  single postings (extrapolated)    {single:8.1f} s"
            f"   batch is {single / figures['batch_seconds']:.1f} ×"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--single", type=int, default=500, help="single postings for the baseline")
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="lenddesk-bench-batch-"))
    results: dict[str, dict[str, float]] = {}
    try:
        if not args.skip_sqlite:
            url = f"sqlite:///{directory / 'batch.db'}"
            results["sqlite"] = measure("sqlite", url, args.lines, args.single, args.chunk_size)
        if not args.skip_postgres:
            from tests.support.servers import start_postgres

            server = start_postgres()
            try:
                url = server.create_database("bench_batch")
                results["postgresql"] = measure("postgresql", url, args.lines, args.single, args.chunk_size)
            finally:
                server.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    report(results, args.lines)


if __name__ == "__main__":
    main()
