"""Risk-event intake over HTTP (issue 21): logins and transfers posted by a channel.

    .venv/bin/python bench/risk_events.py [--seconds 20] [--connections 16] [--borrowers 5000] [--postgres]

The real app under uvicorn with 2 workers (SQLite by default; `--postgres` starts a throw-away
PostgreSQL server) and a book of `--borrowers` borrowers. wrk posts `POST /api/v1/risk/events` with a
channel key: 70 % logins (one in ten from another province, so NEW_REGION alerts are raised) and
30 % transfers of 100.00–6,000.00 (so LARGE_TRANSFERS and STRUCTURING are judged on real history),
each event a new (source, event_id) except REPLAY_SHARE of them, which re-send the previous id as a
channel retry does. Ceiling: the bare FastAPI app (`bench/bare_app.py`) with the same request shape
and no database, under the same server and load, in the same run.

Closed loop with `--connections` connections (throughput), then paced at about TARGET_RATE (latency
there). Target ≥ 300 events/s with p99 ≤ 100 ms. Afterwards the database must hold exactly one
event per distinct id answered: nothing lost, nothing twice.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

from httpload import LoadResult, free_port, run_wrk, serve, stop  # noqa: E402
from lenddesk.core import audit, auth  # noqa: E402
from lenddesk.core.db import make_engine, session_factory, upgrade_database  # noqa: E402
from lenddesk.core.pii import id_check_char  # noqa: E402
from lenddesk.core.roles import ROLES  # noqa: E402
from lenddesk.ledger import service as ledger  # noqa: E402
from lenddesk.risk.models import Event  # noqa: E402

PASSWORD = "bench-password-1"
CHANNEL_KEY = "bench-risk-key"
TARGET_RATE = 300
TARGET_P99_MS = 100
PACED_CONNECTIONS = 32
WARM_UP_SECONDS = 2
REPLAY_SHARE = 0.03

EVENT_SCRIPT = """
local counter = 0
local previous = nil
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-LendDesk-Key"] = "%(key)s"
request = function()
  counter = counter + 1
  if previous ~= nil and math.random() < %(replay_share)f then
    -- a channel's retry: the very same event again (answered 200, nothing new recorded)
    return wrk.format(nil, nil, nil, previous)
  end
  local event_id = string.format("%(phase)s-%%d-%%d", math.random(1, 1000000000), counter)
  local borrower = math.random(1, %(borrowers)d)
  local minute = counter %% 1440
  local at = string.format("2026-12-01T%%02d:%%02d:00+08:00", math.floor(minute / 60), minute %% 60)
  local body
  if math.random() < 0.7 then
    local region = "110105"
    if math.random() < 0.1 then region = "440106" end
    body = string.format('{"source": "bench", "event_id": "%%s", "borrower_id": %%d, "kind": "login",'
      .. ' "at": "%%s", "region": "%%s"}', event_id, borrower, at, region)
  else
    body = string.format('{"source": "bench", "event_id": "%%s", "borrower_id": %%d, "kind": "transfer",'
      .. ' "at": "%%s", "region": "110105", "amount": "%%d.00"}', event_id, borrower, at,
      math.random(100, 6000))
  end
  previous = body
  return wrk.format(nil, nil, nil, body)
end
"""
PACING_SCRIPT = """
delay = function()
  return math.random(0, 2 * %(pace_ms)d)
end
"""


def prepare_database(url: str, borrowers: int) -> None:
    """Users and `borrowers` borrowers with valid ID numbers (home province 11, Beijing). No loans:
    events are judged on the borrower and their history."""
    upgrade_database(url)
    engine = make_engine(url)
    admin = audit.Actor.system("bench")
    with session_factory(engine)() as session:
        for role in ROLES:
            auth.create_user(session, actor=admin, username=role, password=PASSWORD, role=role)
        for number in range(borrowers):
            born = date(1980, 1, 1) + timedelta(days=number // 1000)
            first17 = f"110105{born:%Y%m%d}{number % 1000:03d}"
            ledger.create_borrower(
                session,
                actor=admin,
                name=f"测试客户{number}",
                id_number=first17 + id_check_char(first17),
                mobile=f"139{number:08d}",
            )
        session.commit()
    engine.dispose()


def event_script(phase: str, borrowers: int, pace_ms: int = 0) -> str:
    script = EVENT_SCRIPT % {
        "key": CHANNEL_KEY,
        "phase": phase,
        "borrowers": borrowers,
        "replay_share": REPLAY_SHARE,
    }
    return script + (PACING_SCRIPT % {"pace_ms": pace_ms} if pace_ms else "")


def report(label: str, result: LoadResult) -> None:
    print(
        f"risk events {label:<28} {result.rate:8.0f} req/s  p50 {result.p50_ms:6.1f} ms"
        f"  p99 {result.p99_ms:6.1f} ms  errors {result.errors} (non-2xx {result.non_2xx})"
        f"  ({result.requests} requests in {result.seconds:.1f} s)"
    )


def stored_events(url: str, phase: str) -> int:
    engine = make_engine(url)
    with session_factory(engine)() as session:
        stored = session.scalar(select(func.count(Event.id)).where(Event.event_id.like(f"{phase}-%")))
    engine.dispose()
    return int(stored or 0)


def measure(url: str, directory: Path, borrowers: int, *, seconds: int, connections: int) -> dict[str, float]:
    env = {"LENDDESK_DATABASE_URL": url, "LENDDESK_CHANNEL_KEYS": json.dumps({"bench": CHANNEL_KEY})}
    run = str(int(time.time()))
    figures: dict[str, float] = {}
    for label, app in (("ceiling", "bare_app:app"), ("lenddesk", "lenddesk.asgi:app")):
        port = free_port()
        cwd = Path(__file__).resolve().parent if label == "ceiling" else directory
        process = serve(app, port=port, workers=2, env=env, cwd=cwd)
        target = f"http://127.0.0.1:{port}/api/v1/risk/events"
        try:
            run_wrk(
                target, event_script(f"{run}w", borrowers), connections=connections, seconds=WARM_UP_SECONDS
            )
            phase = f"{run}{label[0]}"
            result = run_wrk(target, event_script(phase, borrowers), connections=connections, seconds=seconds)
            paced = None
            if label == "lenddesk":
                pace_ms = round(1000 * PACED_CONNECTIONS / TARGET_RATE)
                script = event_script(f"{run}p", borrowers, pace_ms)
                paced = run_wrk(target, script, connections=PACED_CONNECTIONS, seconds=seconds)
        finally:
            stop(process)
        report(f"{label} (closed loop)", result)
        figures |= {f"{label}_rate": result.rate, f"{label}_p99_ms": result.p99_ms}
        if paced is not None:
            report(f"lenddesk at {TARGET_RATE}/s offered", paced)
            figures |= {"paced_rate": paced.rate, "paced_p99_ms": paced.p99_ms}
            answered = result.requests - result.non_2xx - result.errors
            stored = stored_events(url, phase)
            # Replays answer 200 without a new row: about 97 % of the answers are new rows. Requests
            # still in flight when wrk stops are stored but not counted as answered: at most one a
            # connection more.
            ok = answered * (1 - 3 * REPLAY_SHARE) <= stored <= answered + connections
            print(f"risk events: {stored} stored for {answered} answered ({'ok' if ok else 'MISMATCH'})")
    ratio = figures["lenddesk_rate"] / figures["ceiling_rate"]
    print(f"risk events: LendDesk reaches {ratio:.1%} of the bare-FastAPI ceiling")
    met = figures["lenddesk_rate"] >= TARGET_RATE and figures["paced_p99_ms"] <= TARGET_P99_MS
    print(
        f"risk events: target ≥ {TARGET_RATE}/s and p99 ≤ {TARGET_P99_MS} ms at that rate:"
        f" {'met' if met else 'NOT met'}"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--borrowers", type=int, default=5000)
    parser.add_argument("--postgres", action="store_true", help="run on a throw-away PostgreSQL server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lenddesk-bench-") as scratch:
        directory = Path(scratch)
        server = None
        if args.postgres:
            from tests.support.servers import start_postgres

            server = start_postgres()
            url = server.create_database("bench_risk_events")
        else:
            url = f"sqlite:///{directory / 'risk-events-bench.db'}"
        try:
            started = time.perf_counter()
            prepare_database(url, args.borrowers)
            print(f"book: {args.borrowers:,} borrowers in {time.perf_counter() - started:.1f} s")
            measure(url, directory, args.borrowers, seconds=args.seconds, connections=args.connections)
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
