"""Service-desk benchmark: inbound intake over HTTP, and the agent queue with 100,000 open tickets.

    .venv/bin/python bench/desk.py [--seconds 20] [--connections 16] [--tickets 100000]

1. Intake: the real app under uvicorn with 2 workers on SQLite, driven by wrk with unique
   (channel, channel_message_id) per request from a pool of senders (so messages both open new
   tickets and join open ones). Ceiling: a bare FastAPI app with the same request shape and no
   database, under the same server and load, measured in the same run. Target ≥ 500 req/s with
   p99 ≤ 50 ms.
2. Queue: 100,000 open tickets bulk-inserted, then a filtered queue page (team view, a status and a
   category, 50 rows) over HTTP as a team lead, and the same query in process. Target ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lenddesk.desk.models import Agent, Team, Ticket

from httpload import free_port, run_wrk, serve, stop
from lenddesk.core import audit, auth
from lenddesk.core.db import make_engine, session_factory, upgrade_database
from lenddesk.core.models import ROLES, User
from lenddesk.desk import jobs as desk_jobs
from lenddesk.desk import service as desk_service

PASSWORD = "bench-password-1"
CHANNEL_KEY = "bench-chat-key"

INTAKE_SCRIPT = """
local counter = 0
local texts = {"你好，我想问一下这个月的还款日是哪天？", "我已经还款了但是显示没有入账",
               "能不能申请延期还款，最近收入下降了", "请问提前结清需要多少钱", "我要投诉你们的催收人员"}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-LendDesk-Key"] = "%(key)s"
request = function()
  counter = counter + 1
  local sender = string.format("1%%010d", math.random(1, %(senders)d))
  local body = string.format(
    '{"channel": "chat", "channel_message_id": "bench-%%s-%%d-%%d", "sender": "%%s", "text": "%%s"}',
    "%(run)s", math.random(1, 1000000000), counter, sender, texts[(counter %% 5) + 1])
  return wrk.format(nil, nil, nil, body)
end
"""


def prepare_database(directory: Path) -> str:
    url = f"sqlite:///{directory / 'desk-bench.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    with session_factory(engine)() as session:
        for role in ROLES:
            auth.create_user(
                session, actor=audit.Actor.system("bench"), username=role, password=PASSWORD, role=role
            )
        session.flush()
        desk_jobs.seed_demo(session, borrowers=0)
        session.commit()
    engine.dispose()
    return url


def measure_intake(url: str, directory: Path, *, seconds: int, connections: int) -> dict[str, float]:
    env = {"LENDDESK_DATABASE_URL": url, "LENDDESK_CHANNEL_KEYS": json.dumps({"chat": CHANNEL_KEY})}
    script = INTAKE_SCRIPT % {"key": CHANNEL_KEY, "senders": 20000, "run": int(time.time())}
    figures = {}
    for label, app in (("ceiling", "bare_app:app"), ("lenddesk", "lenddesk.asgi:app")):
        port = free_port()
        cwd = Path(__file__).resolve().parent if label == "ceiling" else directory
        process = serve(app, port=port, workers=2, env=env, cwd=cwd)
        try:
            target = f"http://127.0.0.1:{port}/api/v1/desk/inbound"
            run_wrk(target, script, connections=connections, seconds=3)  # warm-up
            result = run_wrk(target, script, connections=connections, seconds=seconds)
        finally:
            stop(process)
        figures[f"{label}_rate"] = result.rate
        figures[f"{label}_p50_ms"] = result.p50_ms
        figures[f"{label}_p99_ms"] = result.p99_ms
        figures[f"{label}_errors"] = result.errors
        print(
            f"intake {label:<9} {result.rate:8.0f} req/s  p50 {result.p50_ms:6.1f} ms"
            f"  p99 {result.p99_ms:6.1f} ms  errors {result.errors}"
            f"  ({result.requests} requests in {result.seconds:.1f} s)"
        )
    print(
        f"intake: LendDesk reaches {figures['lenddesk_rate'] / figures['ceiling_rate']:.0%}"
        " of the bare-FastAPI ceiling"
    )
    return figures


def bulk_open_tickets(url: str, count: int) -> None:
    engine = make_engine(url)
    rng = random.Random(7)
    now = datetime.now(UTC)
    with session_factory(engine)() as session:
        teams = session.scalars(select(Team.id)).all()
        agents = session.scalars(select(Agent.user_id)).all() or [None]
        start = session.scalar(select(Ticket.id).order_by(Ticket.id.desc()).limit(1)) or 0
        categories = list(desk_service.CATEGORIES) if hasattr(desk_service, "CATEGORIES") else ["other"]
        rows = []
        for offset in range(1, count + 1):
            created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 20))
            due = created + timedelta(hours=rng.randint(1, 72))
            rows.append(
                {
                    "number": f"B{start + offset:015d}",
                    "channel": rng.choice(["chat", "email", "wechat", "sms", "phone"]),
                    "sender": f"1{rng.randint(3000000000, 9999999999)}",
                    "subject": "批量工单：还款咨询",
                    "category": rng.choice(categories),
                    "severity": rng.choice(["P2", "P3", "P3", "P4"]),
                    "status": rng.choice(["new", "open", "open", "pending_customer", "pending_internal"]),
                    "active": True,
                    "team_id": rng.choice(teams),
                    "owner_id": rng.choice(agents),
                    "tags": [],
                    "flags": [],
                    "sla_started_at": created,
                    "first_response_minutes": 120,
                    "resolution_minutes": 1440,
                    "first_response_due": due,
                    "resolution_due": due + timedelta(days=1),
                    "due_at": due,
                    "at_risk_at": due - timedelta(minutes=30),
                    "sla_state": "breached" if due < now else "ok",
                    "created_at": created,
                    "updated_at": created,
                }
            )
            if len(rows) == 10000:
                session.execute(insert(Ticket), rows)
                rows = []
        if rows:
            session.execute(insert(Ticket), rows)
        session.commit()
    engine.dispose()


def measure_queue(url: str, directory: Path, *, tickets: int) -> dict[str, float]:
    started = time.perf_counter()
    bulk_open_tickets(url, tickets)
    print(f"queue: inserted {tickets:,} open tickets in {time.perf_counter() - started:.1f} s")
    engine = make_engine(url)
    with session_factory(engine)() as session:
        lead = session.scalar(select(User).where(User.username == "team_lead"))
        team_id = session.scalar(select(Team.id).order_by(Team.id).limit(1))
        session.merge(Agent(user_id=lead.id, team_id=team_id, status="online"))
        session.commit()
        category = session.scalar(select(Ticket.category).where(Ticket.team_id == team_id).limit(1))
        filters = desk_service.TicketFilters("team", "open", category, None, None, None)
        in_process = []
        for _ in range(50):
            began = time.perf_counter()
            desk_service.list_tickets(session, viewer=lead, filters=filters, now=datetime.now(UTC), limit=50)
            in_process.append((time.perf_counter() - began) * 1000)
    engine.dispose()
    port = free_port()
    process = serve(
        "lenddesk.asgi:app", port=port, workers=1, env={"LENDDESK_DATABASE_URL": url}, cwd=directory
    )
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            token = client.post("/api/v1/auth/token", data={"username": "team_lead", "password": PASSWORD})
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            params = {"view": "team", "status": "open", "category": category, "limit": 50}
            over_http = []
            for _ in range(100):
                began = time.perf_counter()
                response = client.get("/api/v1/desk/tickets", params=params, headers=headers)
                over_http.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200 and response.json()["items"], response.text
    finally:
        stop(process)
    figures = {
        "queue_in_process_p50_ms": statistics.median(in_process),
        "queue_http_p50_ms": statistics.median(over_http),
        "queue_http_p95_ms": statistics.quantiles(over_http, n=20)[18],
        "queue_http_max_ms": max(over_http),
    }
    print(
        f"queue page (team, status=open, category={category}, 50 rows of {tickets:,} open): "
        f"in process p50 {figures['queue_in_process_p50_ms']:.1f} ms; over HTTP p50 "
        f"{figures['queue_http_p50_ms']:.1f} ms, p95 {figures['queue_http_p95_ms']:.1f} ms, "
        f"max {figures['queue_http_max_ms']:.1f} ms"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--tickets", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lenddesk-bench-") as scratch:
        directory = Path(scratch)
        url = prepare_database(directory)
        measure_intake(url, directory, seconds=args.seconds, connections=args.connections)
        measure_queue(url, directory, tickets=args.tickets)


if __name__ == "__main__":
    main()
