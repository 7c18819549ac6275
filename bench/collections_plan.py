"""Collections benchmark: the daily plan on a large book, the guard in process, the check over HTTP.

    .venv/bin/python bench/collections_plan.py [--loans 1000000] [--skip-postgres] [--seconds 15]

1. Daily plan: a book of --loans loans seeded like bench/cob.py (`lenddesk seed --simulate-days 0`,
   about 8 % overdue), then `plan_day` — the close of business's collections step — timed alone on
   SQLite and on PostgreSQL. Baseline in the same run: one plain aggregate over the same overdue
   loans and their schedule lines (the floor any plan must read). Target ≤ 30 s for 1,000,000 loans.
2. Guard: `check_contact` in process over a mix of compliant reminders and banned texts with
   evasions (separators, Traditional, full-width, pinyin); p50/p99 per check. Baseline: NFKC of the
   same texts alone. Target p99 ≤ 1 ms.
3. HTTP: `POST /api/v1/collections/check` as compliance on the real app (uvicorn, 2 workers, SQLite)
   driven by wrk, against a bare FastAPI app with the same request shape (bench/bare_collections_app.py)
   in the same run; the check rate as a share of that ceiling.
"""

# ruff: noqa: E402 - the path is fixed before the imports (see below)
from __future__ import annotations

import os
import sys

# This file is named like the standard library's `collections`: take its folder off the path
# before anything imports that module, and put it back at the end (for httpload).
_HERE = os.path.dirname(os.path.realpath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.realpath(entry or ".") != _HERE]

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
import unicodedata
from datetime import date
from datetime import time as clock
from pathlib import Path

import httpx
from sqlalchemy import text

sys.path.append(_HERE)
sys.path.append(os.path.dirname(_HERE))  # for tests.support.servers

from httpload import free_port, run_wrk, serve, stop
from lenddesk.collections import guard
from lenddesk.core import audit, auth
from lenddesk.core.db import make_engine, session_factory, upgrade_database
from lenddesk.core.roles import ROLES

AS_OF = date(2026, 11, 26)
PASSWORD = "bench-password-1"
TEXTS = [
    "张先生您好，您在我司的借款（合同号HT2026113000000123）本期应还金额1,234.56元，还款日为2026年12月1日。"
    "您可通过银行转账、手机银行、微信支付或支付宝还款，转账时请备注合同号。如有困难请联系我们，客服电话400-000-0000。",
    "您好，您的借款已逾期3天，逾期将按合同收取罚息和滞纳金，并可能影响您的个人征信记录。如仍未还款，我司可能依法提起诉讼。",
    "經查，您本期賬單尚未結清，請於12月1日前還款。",
    "再 不 还 钱 就 等 着 做 牢 吧",
    "我們是工安，馬上上門抓你",
    "ｎ ｍ ｓ ｌ，老赖",
    "你的案件已经移交法院，通知你单位领导",
    "卡号6222 0212 3456 7890 128，联系人13812345678",
]
PLAN_CHILD = """
import json, sys, time
from datetime import date
from lenddesk.collections.service.plan import plan_day
from lenddesk.core.db import make_engine
engine = make_engine(sys.argv[1])
with engine.connect() as connection:
    started = time.perf_counter()
    counts = plan_day(connection, date.fromisoformat(sys.argv[2]))
    counts["seconds"] = time.perf_counter() - started
print(json.dumps(counts))
"""
CHECK_SCRIPT = """
local counter = 0
local texts = {%(texts)s}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
request = function()
  counter = counter + 1
  local body = string.format(
    '{"borrower_id": 1, "channel": "sms", "at": "2026-11-27T10:00:00+08:00", "text": "%%s"}',
    texts[(counter %% #texts) + 1])
  return wrk.format(nil, nil, nil, body)
end
"""


def seed(url: str, loans: int) -> float:
    upgrade_database(url)
    engine = make_engine(url)
    with session_factory(engine)() as session:
        for role in ROLES:
            auth.create_user(
                session, actor=audit.Actor.system("bench"), username=role, password=PASSWORD, role=role
            )
        for index in range(20):
            auth.create_user(
                session, actor=audit.Actor.system("bench"), username=f"collector{index}", password=PASSWORD,
                role="collector",
            )  # fmt: skip
        session.commit()
    engine.dispose()
    command = [
        str(Path(sys.executable).parent / "lenddesk"), "seed", "--borrowers", str(loans // 2),
        "--loans-per-borrower", "2", "--simulate-days", "0", "--date", AS_OF.isoformat(), "--batch", "10000",
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, env={**os.environ, "LENDDESK_DATABASE_URL": url}, check=True, capture_output=True)
    return time.perf_counter() - started


def baseline_scan(url: str) -> tuple[float, int]:
    """One plain aggregate over the overdue loans and their due lines: the floor of the plan's reads."""
    engine = make_engine(url)
    with engine.connect() as connection:
        started = time.perf_counter()
        overdue = connection.execute(
            text(
                "SELECT COUNT(DISTINCT l.id), SUM(s.principal_fen - s.paid_principal_fen) FROM loans l"
                " JOIN schedule_lines s ON s.loan_id = l.id AND s.due_on <= :d WHERE l.status = 'overdue'"
            ),
            {"d": AS_OF.isoformat() if url.startswith("sqlite") else AS_OF},
        ).first()
        seconds = time.perf_counter() - started
    engine.dispose()
    return seconds, int(overdue[0] or 0)


def forget_plans(url: str) -> None:
    """Empty the collections tables of an already seeded book, so that it is planned afresh."""
    engine = make_engine(url)
    with engine.begin() as connection:
        for table in (
            "collections_worklist",
            "collections_contacts",
            "collections_accounts",
            "collections_plan_runs",
        ):
            connection.execute(text(f"DELETE FROM {table}"))
    engine.dispose()


def measure_plan(database: str, url: str, loans: int, *, seeded: bool = False) -> dict[str, float]:
    if seeded:
        forget_plans(url)
        seed_seconds = 0.0
    else:
        print(f"[{database}] seeding {loans:,} loans …", flush=True)
        seed_seconds = seed(url, loans)
    baseline, overdue = baseline_scan(url)
    print(f"[{database}] daily plan for the contact day after {AS_OF} …", flush=True)
    output = subprocess.run(
        [sys.executable, "-c", PLAN_CHILD, url, AS_OF.isoformat()], capture_output=True, text=True, check=True
    ).stdout
    counts = json.loads(output.strip().splitlines()[-1])
    seconds = counts.pop("seconds")
    print(
        f"[{database}] {loans:,} loans, {overdue:,} overdue (seeded in {seed_seconds:.0f} s):"
        f" plan {seconds:.2f} s (target ≤ 30 s at 1,000,000 loans);"
        f" baseline scan of the overdue lines {baseline:.2f} s; counts {counts}"
    )
    return {"loans": loans, "overdue": overdue, "plan_seconds": seconds, "baseline_seconds": baseline}


def measure_guard(rounds: int = 3000) -> dict[str, float]:
    situation = guard.ContactSituation(
        recipient="self", channel="sms", local_time=clock(10, 0), contacts_today=1
    )
    for sample in TEXTS:  # warm the caches (phrase tables, pinyin readings)
        guard.check_contact(sample, situation)
    checks: list[float] = []
    cpu: list[float] = []
    floor: list[float] = []
    for _ in range(rounds):
        for sample in TEXTS:
            started, started_cpu = time.perf_counter(), time.thread_time()
            guard.check_contact(sample, situation)
            checks.append(time.perf_counter() - started)
            cpu.append(time.thread_time() - started_cpu)
            started = time.perf_counter()
            unicodedata.normalize("NFKC", sample)
            floor.append(time.perf_counter() - started)
    for series in (checks, cpu, floor):
        series.sort()
    figures = {
        "checks": len(checks),
        "p50_ms": statistics.median(checks) * 1000,
        "p99_ms": checks[int(len(checks) * 0.99)] * 1000,
        "cpu_p99_ms": cpu[int(len(cpu) * 0.99)] * 1000,
        "nfkc_p99_ms": floor[int(len(floor) * 0.99)] * 1000,
    }
    # On a shared machine a wall-clock p99 includes the times the process was descheduled; the
    # thread's CPU time per check is the code's own cost.
    print(
        f"guard: {figures['checks']:,} checks in process, wall p50 {figures['p50_ms']:.3f} ms,"
        f" wall p99 {figures['p99_ms']:.3f} ms,"
        f" CPU-time p99 {figures['cpu_p99_ms']:.3f} ms (target ≤ 1 ms);"
        f" NFKC alone p99 {figures['nfkc_p99_ms']:.4f} ms"
    )
    return figures


def measure_http(directory: Path, *, seconds: int, connections: int) -> dict[str, float]:
    url = f"sqlite:///{directory / 'http.db'}"
    seed(url, 200)
    env = {"LENDDESK_DATABASE_URL": url}
    texts = ", ".join(json.dumps(json.dumps(t, ensure_ascii=False)[1:-1], ensure_ascii=False) for t in TEXTS)
    figures: dict[str, float] = {}
    for label, app in (("ceiling", "bare_collections_app:app"), ("lenddesk", "lenddesk.asgi:app")):
        port = free_port()
        # Not the bench folder as cwd: this file would shadow the standard library's collections.
        shutil.copy(Path(__file__).resolve().parent / "bare_collections_app.py", directory)
        process = serve(app, port=port, workers=2, env=env, cwd=directory)
        try:
            token = "bench"
            if label == "lenddesk":
                answer = httpx.post(
                    f"http://127.0.0.1:{port}/api/v1/auth/token",
                    data={"username": "compliance", "password": PASSWORD},
                )
                token = answer.json()["access_token"]
            script = CHECK_SCRIPT % {"texts": texts, "token": token}
            target = f"http://127.0.0.1:{port}/api/v1/collections/check"
            run_wrk(target, script, connections=connections, seconds=2)
            result = run_wrk(target, script, connections=connections, seconds=seconds)
        finally:
            stop(process)
        figures |= {
            f"{label}_rate": result.rate,
            f"{label}_p99_ms": result.p99_ms,
            f"{label}_errors": result.errors,
        }
        print(
            f"{label}: {result.rate:.0f} req/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms,"
            f" errors {result.errors}"
        )
    share = figures["lenddesk_rate"] / figures["ceiling_rate"]
    print(f"check over HTTP: {share:.1%} of the bare-FastAPI ceiling")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument(
        "--plan-only", type=Path, default=None, help="time only the plan on this already seeded SQLite file"
    )
    args = parser.parse_args()
    if args.plan_only is not None:
        with make_engine(f"sqlite:///{args.plan_only}").connect() as connection:
            loans = int(connection.execute(text("SELECT COUNT(*) FROM loans")).scalar() or 0)
        measure_plan("sqlite", f"sqlite:///{args.plan_only}", loans, seeded=True)
        return
    directory = Path(tempfile.mkdtemp(prefix="lenddesk-bench-collections-"))
    try:
        measure_guard()
        if not args.skip_http:
            measure_http(directory, seconds=args.seconds, connections=args.connections)
        if not args.skip_sqlite:
            measure_plan("sqlite", f"sqlite:///{directory / 'plan.db'}", args.loans)
        if not args.skip_postgres:
            from tests.support.servers import start_postgres

            server = start_postgres()
            try:
                measure_plan("postgresql", server.create_database("bench_collections"), args.loans)
            finally:
                server.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
