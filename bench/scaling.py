"""The close of business at growing book sizes (not a test): does it grow linearly with the book?

    .venv/bin/python bench/scaling.py                          # PostgreSQL, 250 k, 500 k, 1 M, 2 M loans
    .venv/bin/python bench/scaling.py --database sqlite --sizes 250000 500000

For each size: a fresh database, seeded and closed as `bench/cob.py` does (the book's first close,
then the day after it, a month end with every after-close step, in a child process), and the bare
UPDATE of the rows that close changed, measured in the same run as the floor. Prints one row per
size: the close, its steps, the loans it touched, seconds per 100,000 touched loans and the ratio
of each figure to the smallest book's, scaled by size (1.00 = linear).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import cob  # noqa: E402

SIZES = (250_000, 500_000, 1_000_000, 2_000_000)
STEPS = ("ledger.aging", "collections", "risk", "reports")


def measure_size(database: str, loans: int, chunk_size: int, directory: Path) -> cob.Figures:
    if database == "sqlite":
        path = directory / f"scaling_{loans}.db"
        try:
            return cob.measure(database, f"sqlite:///{path}", loans, chunk_size)
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    from tests.support.servers import start_postgres

    server = start_postgres()
    try:
        return cob.measure(database, server.create_database(f"scaling_{loans}"), loans, chunk_size)
    finally:
        server.stop()


def report(rows: list[cob.Figures]) -> None:
    smallest = rows[0]
    header = ["loans", "touched", "close s", *(f"{step} s" for step in STEPS), "bare UPDATE s",
              "close ÷ bare", "s per 100 k touched", "close ÷ linear"]  # fmt: skip
    print("\n| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for figures in rows:
        steps = figures.summary.get("step_seconds") or {}
        linear = smallest.cob_seconds * figures.loans / smallest.loans
        cells = [
            f"{figures.loans:,}",
            f"{figures.touched_loans:,}",
            f"{figures.cob_seconds:.2f}",
            *(f"{steps.get(step, 0.0):.2f}" for step in STEPS),  # type: ignore[union-attr]
            f"{figures.bare_update_seconds:.2f}",
            f"{figures.cob_seconds / figures.bare_update_seconds:.2f} ×",
            f"{figures.cob_seconds / figures.touched_loans * 100_000:.2f}",
            f"{figures.cob_seconds / linear:.2f}",
        ]
        print("| " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--chunk-size", type=int, default=50_000)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="lenddesk-scaling-"))
    rows = []
    try:
        for loans in sorted(args.sizes):
            rows.append(measure_size(args.database, loans, args.chunk_size, directory))
            report(rows)  # so far, in case a later size does not finish
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
