"""Whole-system benchmark (issue 20): one seeded book per database, every figure against its target.

    .venv/bin/python bench/system.py                          # 1,000,000 loans, SQLite then PostgreSQL
    .venv/bin/python bench/system.py --loans 20000 --seconds 5 --lines 10000 --conversations 5000
                                                              # a quick check of the whole run
    .venv/bin/python bench/system.py --markdown bench/out/system.md   # the table as markdown too

For each database (`--db`; PostgreSQL on a throw-away server), on ONE database, one phase after the
other, each through the functions of the benchmark that measures it alone:
1. book and close (bench/cob.py): `lenddesk seed` of `--loans` loans (timed), the close of the month
   end in a child process (seconds per step, peak RSS), the bare UPDATE of the rows the close changed
   (the close's ceiling); the bare UPDATE is then undone, so the later phases see the closed book;
2. intake over HTTP (bench/desk.py): closed loop against the bare FastAPI ceiling, then paced;
3. repayments over HTTP (bench/repayments.py): its loans are added to the book and the whole book is
   closed up to yesterday (set-up, timed, since postings are dated today); closed loop against the
   bare ceiling, then paced at 300 req/s;
4. the assistant over HTTP against its bare endpoint of the same shape (bench/assistant.py);
5. QA of `--conversations` stored conversations against reading them only (bench/quality.py);
6. a repayment file of `--lines` lines dated today on the book's open loans (bench/repayment_file.py).
Then one table: figure, database, value, target, the same-run ceiling or baseline, met or not.
Targets that depend on the book's size (seed, close, its RSS) are judged only at 1,000,000 loans; a
file shorter than 100,000 lines is extrapolated linearly. The machine may be shared: compare the
ratios within one run. Databases and files are deleted afterwards.
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
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import assistant  # noqa: E402
import cob  # noqa: E402
import desk  # noqa: E402
import quality  # noqa: E402
import repayment_file  # noqa: E402
import repayments  # noqa: E402

FULL_BOOK = 1_000_000
SEED_TARGET_SECONDS = 90.0
CLOSE_TARGET_SECONDS = 10.0
CLOSE_TARGET_RATIO = 5.0
CLOSE_TARGET_RSS_MIB = 512.0
QA_TARGET_RATE = 2000.0
ASSISTANT_TARGET_SHARE = 1 / 3
FILE_TARGET_LINES = 100_000


@dataclass(frozen=True)
class Row:
    figure: str
    database: str
    value: str
    target: str
    baseline: str
    met: str


def verdict(ok: bool) -> str:
    return "yes" if ok else "**NO**"


class Run:
    """One database's phases and the rows they produce; a failing phase becomes a row, not an abort."""

    def __init__(self, database: str, url: str, directory: Path, args: argparse.Namespace) -> None:
        self.database, self.url, self.directory, self.args = database, url, directory, args
        self.rows: list[Row] = []
        self.raw: dict[str, object] = {"database": database}

    def row(self, figure: str, value: str, target: str, baseline: str, met: str) -> None:
        self.rows.append(Row(figure, self.database, value, target, baseline, met))

    def phase(self, name: str, measure: Callable[[], None]) -> bool:
        """Run one phase; False when it failed."""
        print(f"\n[{self.database}] === {name} ({datetime.now(UTC):%H:%M:%S} UTC) ===", flush=True)
        started = time.perf_counter()
        try:
            measure()
            return True
        except (Exception, SystemExit) as error:  # one phase must not lose the others
            traceback.print_exc()
            message = " ".join(str(error).replace("|", "/").split())[:120]
            self.row(name, f"failed: {message}", "", "", verdict(False))
            return False
        finally:
            print(f"[{self.database}] {name}: {time.perf_counter() - started:.0f} s in all", flush=True)

    def at_full_size(self, ok: bool) -> str:
        return verdict(ok) if self.args.loans >= FULL_BOOK else f"n/a ({self.args.loans:,} loans)"

    # --- phases ---------------------------------------------------------------------------------

    def measure_book_and_close(self) -> None:
        figures = cob.measure(self.database, self.url, self.args.loans, self.args.chunk_size)
        cob.report([figures], None, 0)
        cob.bare_update(self.url, step=-1)  # the later phases see the book as the close left it
        self.raw["cob"] = asdict(figures)
        loans = self.args.loans
        self.row(
            f"seed {loans:,} loans",
            f"{figures.seed_seconds:.1f} s",
            f"≤ {SEED_TARGET_SECONDS:.0f} s at {FULL_BOOK:,}",
            f"{loans / figures.seed_seconds:,.0f} loans/s",
            self.at_full_size(figures.seed_seconds <= SEED_TARGET_SECONDS),
        )
        self.row(
            f"first close after seeding ({cob.FIRST_CLOSE}, one-off)",
            f"{figures.first_close_seconds:.2f} s",
            "—",
            "opens every account, first score of every borrower",
            "—",
        )
        bare = figures.bare_update_seconds
        ratio = figures.cob_seconds / bare if bare else float("inf")
        ceiling = f"bare UPDATE {bare:.2f} s"
        self.row(
            f"close of business, {cob.CLOSE} (run_cob)",
            f"{figures.cob_seconds:.2f} s",
            f"≤ {CLOSE_TARGET_SECONDS:.0f} s",
            ceiling,
            self.at_full_size(figures.cob_seconds <= CLOSE_TARGET_SECONDS),
        )
        self.row(
            "close ÷ bare UPDATE",
            f"{ratio:.2f} ×",
            f"≤ {CLOSE_TARGET_RATIO:.0f} ×",
            ceiling,
            self.at_full_size(ratio <= CLOSE_TARGET_RATIO),
        )
        self.row(
            "close peak RSS (child process)",
            f"{figures.cob_peak_rss_mib:.0f} MiB",
            f"≤ {CLOSE_TARGET_RSS_MIB:.0f} MiB",
            "",
            self.at_full_size(figures.cob_peak_rss_mib <= CLOSE_TARGET_RSS_MIB),
        )
        self._step_rows(figures)

    def _step_rows(self, figures: cob.Figures) -> None:
        """The steps with targets of their own (cob.STEP_TARGETS), against the close without them."""
        steps: dict[str, float] = figures.summary.get("step_seconds") or {}  # type: ignore[assignment]
        for step, seconds in steps.items():
            targets = next((t for prefix, t in cob.STEP_TARGETS.items() if step.startswith(prefix)), None)
            if targets is None:
                continue
            target = targets[0] if self.database == "sqlite" else targets[1]
            self.row(
                f"close step {step}",
                f"{seconds:.2f} s",
                f"≤ {target:.0f} s at {FULL_BOOK:,}",
                f"close without it {figures.cob_seconds - seconds:.2f} s"
                if self.database == "sqlite"
                else f"runs beside other steps; whole close {figures.cob_seconds:.2f} s",
                self.at_full_size(seconds <= target),
            )

    def measure_intake(self) -> None:
        desk.prepare_desk(self.url)
        figures = desk.measure_intake(
            self.url, self.directory, seconds=self.args.seconds, connections=self.args.connections
        )
        self.raw["intake"] = figures
        self._http_rows("intake", figures, desk.TARGET_RATE, target_p99_ms=50.0)

    def measure_repayments(self) -> None:
        started = time.perf_counter()
        contracts = repayments.prepare_database(self.url, self.args.repayment_loans)
        print(
            f"[{self.database}] set-up: {len(contracts):,} loans added and the book closed up to yesterday"
            f" in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        figures = repayments.measure_distinct_loans(
            self.url, self.directory, contracts, seconds=self.args.seconds, connections=self.args.connections
        )
        self.raw["repayments"] = figures
        self._http_rows(
            "repayments", figures, repayments.TARGET_RATE, target_p99_ms=float(repayments.TARGET_P99_MS)
        )

    def _http_rows(self, name: str, figures: dict[str, float], rate: float, *, target_p99_ms: float) -> None:
        ceiling = figures["ceiling_rate"]
        share = figures["lenddesk_rate"] / ceiling if ceiling else 0.0
        self.row(
            f"{name} over HTTP, closed loop ({self.args.connections} connections)",
            f"{figures['lenddesk_rate']:,.0f} req/s",
            f"≥ {rate:,.0f} req/s",
            f"bare FastAPI {ceiling:,.0f} req/s (reached {share:.0%})",
            verdict(figures["lenddesk_rate"] >= rate),
        )
        self.row(
            f"{name} p99 at {rate:,.0f} req/s offered",
            f"{figures['paced_p99_ms']:.1f} ms",
            f"≤ {target_p99_ms:.0f} ms",
            f"achieved {figures['paced_rate']:,.0f} req/s",
            verdict(figures["paced_p99_ms"] <= target_p99_ms),
        )

    def measure_assistant(self) -> None:
        assistant.add_team(self.url)
        figures = assistant.measure_http(self.url, self.directory, self.args.seconds, self.args.connections)
        self.raw["assistant"] = figures
        rate, bare = figures["LendDesk assistant rate"], figures["bare FastAPI rate"]
        share = rate / bare if bare else 0.0
        self.row(
            "assistant over HTTP",
            f"{rate:,.0f} req/s ({share:.0%} of bare)",
            "≥ 1/3 of bare",
            f"bare endpoint {bare:,.0f} req/s",
            verdict(share >= ASSISTANT_TARGET_SHARE),
        )

    def measure_quality(self) -> None:
        figures = quality.measure_stored(
            self.url, self.args.conversations, self.args.turns, self.args.qa_workers
        )
        self.raw["quality"] = figures
        self.row(
            f"QA of {self.args.conversations:,} stored conversations",
            f"{figures['qa_rate']:,.0f} /s",
            f"≥ {QA_TARGET_RATE:,.0f} /s",
            f"read only {figures['read_rate']:,.0f} /s",
            verdict(figures["qa_rate"] >= QA_TARGET_RATE),
        )

    def measure_repayment_file(self) -> None:
        lines = self.args.lines
        figures = repayment_file.import_file(
            self.database, self.url, lines, self.args.file_chunk_size, repayments.TODAY
        )
        self.raw["repayment_file"] = figures
        at_target = figures["wall"] * FILE_TARGET_LINES / lines
        applied = int(figures.get("applied", 0))
        value = f"{at_target:.1f} s"
        if lines != FILE_TARGET_LINES:
            value += f" (extrapolated from {lines:,} lines in {figures['wall']:.1f} s)"
        if applied != lines:
            value += f"; only {applied:,} of {lines:,} applied"
        self.row(
            f"repayment file, {FILE_TARGET_LINES:,} lines",
            value,
            "≤ 30 s",
            f"{lines / figures['wall']:,.0f} lines/s; process CPU {figures['cpu']:.1f} s",
            verdict(at_target <= repayment_file.TARGET_SECONDS and applied == lines),
        )

    def all_phases(self) -> None:
        # Without the book the other figures would be an empty database's.
        if self.phase("book and close of business", self.measure_book_and_close):
            self.phase("intake over HTTP", self.measure_intake)
            self.phase("repayments over HTTP", self.measure_repayments)
            self.phase("assistant over HTTP", self.measure_assistant)
            self.phase("QA throughput", self.measure_quality)
            self.phase("repayment file", self.measure_repayment_file)
        print(json.dumps(self.raw, default=str), flush=True)  # raw figures: a later slip must not lose them


def table(rows: list[Row]) -> str:
    header = "| figure | database | value | target | same-run ceiling / baseline | met? |"
    lines = [header, "| --- | --- | --- | --- | --- | --- |"]
    lines += [
        f"| {r.figure} | {r.database} | {r.value} | {r.target} | {r.baseline} | {r.met} |" for r in rows
    ]
    return "\n".join(lines)


def commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} (1 / 5 min) on {os.cpu_count()} cores"


def measure_database(database: str, url: str, directory: Path, args: argparse.Namespace) -> list[Row]:
    run = Run(database, url, directory, args)
    run.all_phases()
    print(f"\n{table(run.rows)}\n", flush=True)  # as soon as measured: a later database may not finish
    return run.rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--loans", type=int, default=FULL_BOOK, help="loans in the seeded book")
    parser.add_argument("--chunk-size", type=int, default=50_000, help="the close's chunk of loans")
    parser.add_argument("--seconds", type=int, default=20, help="seconds of each measured HTTP load")
    parser.add_argument("--connections", type=int, default=16, help="closed-loop HTTP connections")
    parser.add_argument("--repayment-loans", type=int, default=2000, help="loans posted to over HTTP")
    parser.add_argument("--conversations", type=int, default=100_000, help="conversations QA scores")
    parser.add_argument("--turns", type=int, default=8, help="messages per stored conversation")
    parser.add_argument("--qa-workers", type=int, default=1, help="QA processes")
    parser.add_argument("--lines", type=int, default=FILE_TARGET_LINES, help="lines of the repayment file")
    parser.add_argument("--file-chunk-size", type=int, default=2000, help="lines per transaction of the file")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the table to this file")
    parser.add_argument("--workdir", type=Path, default=None, help="where the SQLite file goes")
    args = parser.parse_args()

    started = datetime.now(UTC)
    heading = f"started {started:%Y-%m-%d %H:%M:%S} UTC at commit {commit()}; {load()}"
    print(heading, flush=True)
    directory = Path(tempfile.mkdtemp(prefix="lenddesk-bench-system-", dir=args.workdir))
    rows: list[Row] = []
    try:
        assistant.prepare_http(directory)  # the model the assistant's servers load, trained once
        if args.db in ("sqlite", "both"):
            rows += measure_database("sqlite", f"sqlite:///{directory / 'system.db'}", directory, args)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{directory / 'system.db'}{suffix}").unlink(missing_ok=True)
        if args.db in ("postgres", "both"):
            from tests.support.servers import start_postgres

            server = start_postgres()
            try:
                rows += measure_database(
                    "postgresql", server.create_database("bench_system"), directory, args
                )
            finally:
                server.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    finished = datetime.now(UTC)
    summary = (
        f"bench/system.py, {args.loans:,} loans; {heading}; finished {finished:%H:%M:%S} UTC"
        f" ({(finished - started).total_seconds() / 60:.1f} min); {load()} at the end"
    )
    print(f"\n=== Whole system (bench/system.py) ===\n{summary}\n\n{table(rows)}")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(f"{summary}\n\n{table(rows)}\n")
        print(f"\ntable written to {args.markdown}")


if __name__ == "__main__":
    main()
