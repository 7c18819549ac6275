"""Benchmark of the negotiation room (not a test): figures and their baselines in one run.

    .venv/bin/python bench/negotiation.py --quick          # options only, and COB on 20,000 loans
    .venv/bin/python bench/negotiation.py --loans 200000   # COB on SQLite and PostgreSQL


1. All plan options for a 36-instalment overdue loan, in process (`plans.plan_options`, pure): p50,
   p99 over many runs; baseline in the same run: the ledger's settlement quote of the same loan
   (`settlement.quote_settlement`), the cheapest thing a desk asks the ledger.
2. The close of business with 10,000 active agreements against the same book without them: the
   book is seeded once (`lenddesk seed`), copied, the copy gets 10,000 agreements (a 30th of
   them with a condition falling due on the close date, a fifth of those unpaid: broken), then each
   copy closes the same date in a child process (`run_cob`, which runs the negotiation step).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402

from lenddesk.core import audit  # noqa: E402
from lenddesk.core.db import make_engine, session_factory, upgrade_database  # noqa: E402
from lenddesk.core.policy import NegotiationPolicy  # noqa: E402
from lenddesk.ledger import costcap  # noqa: E402
from lenddesk.ledger.allocation import Due  # noqa: E402
from lenddesk.ledger.models import CobRun  # noqa: E402
from lenddesk.ledger.schedule import add_months, generate_schedule  # noqa: E402
from lenddesk.ledger.settlement import quote_settlement  # noqa: E402
from lenddesk.negotiation import plans  # noqa: E402

AS_OF = date(2026, 11, 26)
CLOSE = AS_OF + timedelta(days=1)
AGREEMENTS = 10_000

COB_CHILD = """
import json, sys, time
from datetime import date
from lenddesk.core.db import make_engine
from lenddesk.ledger.cob import run_cob
import lenddesk.desk.service, lenddesk.ledger.service, lenddesk.negotiation.jobs  # imported before the clock
engine = make_engine(sys.argv[1])
started = time.perf_counter()
summary = run_cob(engine, date.fromisoformat(sys.argv[2]))
print(json.dumps({"seconds": time.perf_counter() - started, **summary.as_dict()}))
"""


# --- 1. options in process ---------------------------------------------------------------------------


def overdue_loan(on: date) -> plans.LoanState:
    """36 instalments of 36,000.00 at 18 %, nine paid, three overdue with penalties and late fees."""
    disbursed = add_months(date(on.year, on.month, 5), -12)
    schedule = generate_schedule(
        principal_fen=3_600_000,
        annual_rate=Decimal("0.18"),
        term=36,
        method="equal_instalment",
        start_date=disbursed,
        rounding="half_up",
    )
    lines, repaid = [], 0
    for index, line in enumerate(schedule):
        paid, overdue = index < 9, 9 <= index < 12
        repaid += line.principal_fen * (line.due_on - disbursed).days if paid else 0
        lines.append(
            plans.LineState(
                period=line.period,
                due_on=line.due_on,
                principal=0 if paid else line.principal_fen,
                interest=0 if paid else line.interest_fen,
                penalty=4_000 if overdue else 0,
                late_fee=1_500 if overdue else 0,
                charged_interest=line.interest_fen,
                charged_penalty=4_000 if overdue else 0,
                charged_late_fee=1_500 if overdue else 0,
                touched=paid,
            )
        )
    return plans.LoanState(
        contract_number="HTBENCH",
        annual_rate=Decimal("0.18"),
        disbursed_on=disbursed,
        cap_ppm=costcap.cap_ppm_of(Decimal("0.24"), Decimal("0.24")),
        principal_days_repaid=repaid,
        early_repayment_fees_fen=0,
        lines=tuple(lines),
    )


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def time_options(runs: int) -> dict[str, float]:
    on = AS_OF
    state = overdue_loan(on)
    terms = plans.Terms(policy=NegotiationPolicy(), rounding="half_up", waiver_single_approval_fen=10_000)
    dues = [
        Due(line.period, line.due_on, line.penalty, line.late_fee, line.interest, line.principal)
        for line in state.lines
    ]
    options_ms, quote_ms = [], []
    count = len(plans.plan_options(state, on=on, capacity_fen=150_000, terms=terms).options)
    for _ in range(runs):
        started = time.perf_counter()
        plans.plan_options(state, on=on, capacity_fen=150_000, terms=terms)
        options_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        quote_settlement(
            dues, annual_rate=Decimal("0.18"), disbursed_on=state.disbursed_on, on=on, rounding="half_up"
        )
        quote_ms.append((time.perf_counter() - started) * 1000)
    options_p50, options_p99 = percentiles(options_ms)
    quote_p50, quote_p99 = percentiles(quote_ms)
    return {
        "options": count,
        "options_p50": options_p50,
        "options_p99": options_p99,
        "quote_p50": quote_p50,
        "quote_p99": quote_p99,
    }


# --- 2. the close of business with and without agreements -------------------------------------------


def run_child(url: str) -> dict[str, object]:
    import subprocess

    output = subprocess.run(
        [sys.executable, "-c", COB_CHILD, url, CLOSE.isoformat()], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def seed(url: str, loans: int) -> None:
    import subprocess

    upgrade_database(url)
    env = {**os.environ, "LENDDESK_DATABASE_URL": url}
    subprocess.run(
        [
            str(Path(sys.executable).parent / "lenddesk"),
            "seed",
            "--borrowers",
            str(loans // 2),
            "--loans-per-borrower",
            "2",
            "--simulate-days",
            "0",
            "--date",
            AS_OF.isoformat(),
            "--batch",
            "10000",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    from lenddesk.ledger.cob import run_cob

    engine = make_engine(url)
    run_cob(engine, AS_OF)  # the book as production would have it: closed up to AS_OF
    engine.dispose()


def add_agreements(url: str, count: int) -> int:
    """`count` active agreements on open loans (rows written directly: the service's per-agreement
    rendering is not what the close of business pays for)."""
    from lenddesk.desk import service as desk
    from lenddesk.desk.models import Ticket
    from lenddesk.ledger.models import Loan
    from lenddesk.negotiation.models import Agreement, HardshipCase, Proposal

    engine = make_engine(url)
    factory = session_factory(engine)
    now = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    with factory() as session:
        owner = session.execute(text("SELECT id FROM users ORDER BY id LIMIT 1")).scalar()
        if owner is None:
            from lenddesk.core import auth

            owner = auth.create_user(
                session,
                actor=audit.Actor.system("bench"),
                username="agent",
                password="bench-password-1",
                role="agent",
            ).id
        result = desk.intake(
            session,
            channel="sms",
            channel_message_id="bench-negotiation",
            sender="13900000000",
            text="困难协商",
            received_at=now,
            now=now,
            actor=audit.Actor.system("bench"),
        )
        ticket = session.get(Ticket, result.ticket_id)
        assert ticket is not None
        loans = session.execute(
            select(Loan.id, Loan.contract_number, Loan.borrower_id)
            .where(Loan.status.in_(("current", "overdue")))
            .order_by(Loan.id)
            .limit(count)
        ).all()
        session.execute(
            insert(HardshipCase),
            [
                {
                    "id": index + 1,
                    "ticket_id": ticket.id,
                    "ticket_number": ticket.number,
                    "loan_id": loan.id,
                    "contract_number": loan.contract_number,
                    "borrower_id": loan.borrower_id,
                    "cause": "income_drop",
                    "notes": "",
                    "evidence": "",
                    "monthly_capacity_fen": 100_000,
                    "status": "agreed",
                    "owner_id": owner,
                    "opened_by": "bench",
                    "opened_at": now,
                }
                for index, loan in enumerate(loans)
            ],
        )
        session.execute(
            insert(Proposal),
            [
                {
                    "id": index + 1,
                    "case_id": index + 1,
                    "option_id": f"N{index + 1}-RI12",
                    "kind": "reinstalment",
                    "title_zh": "分12期还款",
                    "effective_on": AS_OF,
                    "option": {},
                    "approval_level": "team_lead",
                    "status": "accepted",
                    "proposed_by": "bench",
                    "proposed_by_role": "agent",
                    "proposed_at": now,
                }
                for index in range(len(loans))
            ],
        )
        rows = []
        for index, loan in enumerate(loans):
            due_today = index % 30 == 0
            broken = due_today and index % 150 == 0  # a fifth of those due today: nothing paid
            rows.append(
                {
                    "seq": index + 1,
                    "number": f"XY{index + 1:010d}",
                    "case_id": index + 1,
                    "proposal_id": index + 1,
                    "loan_id": loan.id,
                    "kind": "reinstalment",
                    "content": "{}",
                    "text_zh": "",
                    "previous_sha256": f"{index:064x}",
                    "sha256": f"{index + 1:064x}",
                    "status": "active",
                    "condition_amount_fen": 100_000 if broken else 0,
                    "condition_due_on": CLOSE - timedelta(days=1)
                    if due_today
                    else CLOSE + timedelta(days=1 + index % 60),
                    "accepted_on": AS_OF - timedelta(days=20),
                    "conditional_waiver_ids": [],
                    "owner_id": owner,
                    "ticket_id": ticket.id,
                }
            )
        session.execute(insert(Agreement), rows)
        session.commit()
    engine.dispose()
    return len(loans)


def copy_database(url: str, directory: Path, name: str) -> str:
    if url.startswith("sqlite"):
        source = Path(url.removeprefix("sqlite:///"))
        engine = make_engine(url)
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        target = directory / f"{name}.db"
        shutil.copy(source, target)
        return f"sqlite:///{target}"
    base, source_name = url.rsplit("/", 1)
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name} TEMPLATE {source_name}")
    admin.dispose()
    return f"{base}/{name}"


def measure_cob(database: str, url: str, directory: Path, loans: int) -> dict[str, object]:
    print(f"[{database}] seeding {loans:,} loans and closing {AS_OF} …", flush=True)
    started = time.perf_counter()
    seed(url, loans)
    seeded = time.perf_counter() - started
    without = copy_database(url, directory, f"{database}_without")
    with_agreements = copy_database(url, directory, f"{database}_with")
    added = add_agreements(with_agreements, AGREEMENTS)
    print(f"[{database}] close of {CLOSE} without and with {added:,} agreements …", flush=True)
    baseline = run_child(without)
    loaded = run_child(with_agreements)
    engine = make_engine(with_agreements)
    with engine.connect() as connection:
        summary = connection.execute(select(CobRun.summary).where(CobRun.business_date == CLOSE)).scalar()
        loaded["steps"] = {k: v for k, v in (summary or {}).items() if k.startswith("negotiation.")}
    engine.dispose()
    return {"database": database, "loans": loans, "seed_seconds": seeded, "agreements": added,
            "without": baseline, "with": loaded}  # fmt: skip


def report(options: dict[str, float], cob: list[dict[str, object]]) -> None:
    print("\n=== Negotiation benchmark (bench/negotiation.py) ===")
    print(f"machine: {os.cpu_count()} cores (other processes on the machine may share them)")
    report_options(options)
    for row in cob:
        report_cob(row)


def report_options(options: dict[str, float]) -> None:
    print(f"\nAll {options['options']:.0f} options for a 36-instalment overdue loan, in process:")
    p50, p99 = options["options_p50"], options["options_p99"]
    print(f"  plan_options                p50 {p50:7.3f} ms   p99 {p99:7.3f} ms   target p99 ≤ 10 ms")
    q50, q99 = options["quote_p50"], options["quote_p99"]
    print(
        f"  baseline: settlement quote  p50 {q50:7.3f} ms   p99 {q99:7.3f} ms"
        f"   (options / quote: {p50 / q50:.0f} ×)"
    )


def report_cob(row: dict[str, object]) -> None:
    without, loaded = row["without"], row["with"]
    assert isinstance(without, dict) and isinstance(loaded, dict)
    ratio = loaded["seconds"] / without["seconds"]
    steps = loaded.get("steps")
    print(f"\n[{row['database']}] close of {CLOSE} on {row['loans']:,} loans", end="")
    print(f" (seeded in {row['seed_seconds']:.0f} s)")
    print(f"  without agreements                  {without['seconds']:8.2f} s")
    print(f"  with {row['agreements']:,} active agreements        {loaded['seconds']:8.2f} s"
          f"   ratio {ratio:.3f}   target ≤ 1.10")  # fmt: skip
    print(f"  negotiation step counts: {steps}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--loans", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=2_000)
    parser.add_argument("--quick", action="store_true", help="20,000 loans, SQLite only, 300 runs")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.loans, args.runs, args.skip_postgres = 20_000, 300, True
    options = time_options(args.runs)
    directory = Path(tempfile.mkdtemp(prefix="lenddesk-bench-negotiation-"))
    results = []
    try:
        if not args.skip_sqlite:
            results.append(
                measure_cob("sqlite", f"sqlite:///{directory / 'bench.db'}", directory, args.loans)
            )
        if not args.skip_postgres:
            from tests.support.servers import start_postgres

            server = start_postgres()
            try:
                results.append(
                    measure_cob("postgresql", server.create_database("bench_neg"), directory, args.loans)
                )
            finally:
                server.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    report(options, results)


if __name__ == "__main__":
    main()
