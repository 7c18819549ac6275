"""Service-desk benchmark: inbound intake over HTTP, and the agent queue with 100,000 open tickets.

    .venv/bin/python bench/desk.py [--seconds 20] [--connections 16] [--tickets 100000]

1. Intake: the real app under uvicorn with 2 workers on SQLite, driven by wrk. Ceiling: a bare
   FastAPI app with the same request shape and no database, under the same server and load,
   measured in the same run. Target ≥ 500 req/s with p99 ≤ 50 ms.

   The message mix is a chat desk's: a conversation sends several messages per ticket, so the
   senders come from a pool sized for about MESSAGES_PER_SENDER messages each over the run (the pool
   is a rate probe's req/s × seconds / 4; warm-up and probe use other senders); DUPLICATE_SHARE of the
   requests re-send the previous channel_message_id, as channels do when they retry. Senders are
   valid mobile numbers, so each new ticket also looks for a borrower with that phone. The mix
   actually served (created / joined / duplicate) is counted in the database after the run.
2. Queue: 100,000 open tickets bulk-inserted, then filtered queue pages (50 rows) in process and
   over HTTP as a team lead: the team view with a status and a category, a phone-number search,
   and the "due soon" tab (most bulk tickets are already breached, which it must skip). Target
   ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_users import ensure_role_users
from httpload import LoadResult, free_port, run_wrk, serve, stop
from lenddesk.core.db import make_engine, session_factory, upgrade_database
from lenddesk.core.models import User
from lenddesk.desk import categorise
from lenddesk.desk import jobs as desk_jobs
from lenddesk.desk import service as desk_service
from lenddesk.desk.models import Agent, Message, Team, Ticket

PASSWORD = "bench-password-1"
CHANNEL_KEY = "bench-chat-key"
MESSAGES_PER_SENDER = 4
DUPLICATE_SHARE = 0.03
WARM_UP_SECONDS = 2  # discarded
RATE_PROBE_SECONDS = 3  # its rate sizes the sender pool of the measured run

# %(prefix)s is the senders' first three digits (one prefix per phase, so the measured run starts
# with senders that have no ticket yet) and the phase's tag in channel_message_id.
INTAKE_SCRIPT = """
local counter = 0
local previous_id = nil
local texts = {"你好，我想问一下这个月的还款日是哪天？", "我已经还款了但是显示没有入账",
               "能不能申请延期还款，最近收入下降了", "请问提前结清需要多少钱", "我要投诉你们的催收人员"}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-LendDesk-Key"] = "%(key)s"
request = function()
  counter = counter + 1
  local message_id
  if previous_id ~= nil and math.random() < %(duplicate_share)f then
    message_id = previous_id
  else
    message_id = string.format("bench-%(run)s-%(prefix)s-%%d", counter)
  end
  previous_id = message_id
  local sender = string.format("%(prefix)s%%08d", math.random(1, %(senders)d))
  local body = string.format(
    '{"channel": "chat", "channel_message_id": "%%s", "sender": "%%s", "text": "%%s"}',
    message_id, sender, texts[(counter %% 5) + 1])
  return wrk.format(nil, nil, nil, body)
end
"""

# Open-ish loop for the target rate (wrk has no open-loop mode): each connection waits a random
# delay (mean `pace_ms`) before its next request, so the offered load is connections / (pace + latency).
PACING_SCRIPT = """
delay = function()
  return math.random(0, 2 * %(pace_ms)d)
end
"""
TARGET_RATE = 500
PACED_CONNECTIONS = 64


def prepare_database(directory: Path) -> str:
    url = f"sqlite:///{directory / 'desk-bench.db'}"
    upgrade_database(url)
    prepare_desk(url)
    return url


def prepare_desk(url: str) -> None:
    """The desk's users, teams, agents and SLA policies on an existing database (idempotent)."""
    engine = make_engine(url)
    with session_factory(engine)() as session:
        ensure_role_users(session, PASSWORD)
        desk_jobs.seed_demo(session, borrowers=0)
        session.commit()
    engine.dispose()


def intake_script(run: str, prefix: str, senders: int, pace_ms: int = 0) -> str:
    script = INTAKE_SCRIPT % {
        "key": CHANNEL_KEY,
        "run": run,
        "prefix": prefix,
        "senders": senders,
        "duplicate_share": DUPLICATE_SHARE,
    }
    return script + (PACING_SCRIPT % {"pace_ms": pace_ms} if pace_ms else "")


def measure_at_target_rate(target: str, run: str, *, seconds: int) -> LoadResult:
    """Latency when the desk is offered about the target rate, not saturated.

    Each of the paced connections waits a random delay (mean connections / target rate) between its
    requests, so the offered load is a little under the target; the achieved rate is reported.
    """
    pace_ms = round(1000 * PACED_CONNECTIONS / TARGET_RATE)
    senders = max(1, round(TARGET_RATE * seconds / MESSAGES_PER_SENDER))
    script = intake_script(run, "136", senders, pace_ms)
    return run_wrk(target, script, connections=PACED_CONNECTIONS, seconds=seconds)


@dataclass(frozen=True)
class IntakeMix:
    requests: int
    tickets: int  # created
    messages: int  # created + joined
    senders_in_pool: int

    @property
    def joined(self) -> int:
        return self.messages - self.tickets

    @property
    def duplicates(self) -> int:
        return self.requests - self.messages

    def describe(self) -> str:
        share = lambda part: f"{part / self.requests:.0%}" if self.requests else "-"  # noqa: E731
        return (
            f"created {self.tickets} ({share(self.tickets)}), joined {self.joined} ({share(self.joined)}),"
            f" duplicate {self.duplicates} ({share(self.duplicates)});"
            f" {self.messages / max(self.tickets, 1):.1f} messages per ticket;"
            f" pool of {self.senders_in_pool} senders"
        )


def count_mix(url: str, run: str, prefix: str, result: LoadResult, senders: int) -> IntakeMix:
    """What the run did, from the database: its tickets and stored messages; the rest were duplicates."""
    engine = make_engine(url)
    with session_factory(engine)() as session:
        tickets = session.scalar(
            select(func.count(Ticket.id)).where(Ticket.channel == "chat", Ticket.sender.like(f"{prefix}%"))
        )
        messages = session.scalar(
            select(func.count(Message.id)).where(Message.channel_message_id.like(f"bench-{run}-{prefix}-%"))
        )
    engine.dispose()
    return IntakeMix(result.requests - result.non_2xx, tickets or 0, messages or 0, senders)


def report(label: str, result: LoadResult) -> None:
    print(
        f"intake {label:<9} {result.rate:8.0f} req/s  p50 {result.p50_ms:6.1f} ms"
        f"  p99 {result.p99_ms:6.1f} ms  errors {result.errors}"
        f"  ({result.requests} requests in {result.seconds:.1f} s)"
    )


def measure_intake(url: str, directory: Path, *, seconds: int, connections: int) -> dict[str, float]:
    env = {"LENDDESK_DATABASE_URL": url, "LENDDESK_CHANNEL_KEYS": json.dumps({"chat": CHANNEL_KEY})}
    run = str(int(time.time()))
    figures: dict[str, float] = {}
    for label, app in (("ceiling", "bare_app:app"), ("lenddesk", "lenddesk.asgi:app")):
        port = free_port()
        cwd = Path(__file__).resolve().parent if label == "ceiling" else directory
        process = serve(app, port=port, workers=2, env=env, cwd=cwd)
        try:
            target = f"http://127.0.0.1:{port}/api/v1/desk/inbound"
            warm_up = intake_script(run, "139", 10**6)
            run_wrk(target, warm_up, connections=connections, seconds=WARM_UP_SECONDS)
            probe = run_wrk(target, warm_up, connections=connections, seconds=RATE_PROBE_SECONDS)
            senders = max(1, round(probe.rate * seconds / MESSAGES_PER_SENDER))
            script = intake_script(run, "138", senders)
            result = run_wrk(target, script, connections=connections, seconds=seconds)
            paced = measure_at_target_rate(target, run, seconds=seconds) if label == "lenddesk" else None
        finally:
            stop(process)
        figures |= {
            f"{label}_rate": result.rate,
            f"{label}_p50_ms": result.p50_ms,
            f"{label}_p99_ms": result.p99_ms,
            f"{label}_errors": result.errors,
        }
        report(label, result)
        if paced is not None:
            report(f"lenddesk at {TARGET_RATE} req/s offered", paced)
            figures |= {"paced_rate": paced.rate, "paced_p50_ms": paced.p50_ms, "paced_p99_ms": paced.p99_ms}
        if label == "lenddesk":
            mix = count_mix(url, run, "138", result, senders)
            print(f"intake mix: {mix.describe()}")
            figures |= {"created": mix.tickets, "joined": mix.joined, "duplicates": mix.duplicates}
    print(
        f"intake: LendDesk reaches {figures['lenddesk_rate'] / figures['ceiling_rate']:.1%}"
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
        categories = list(categorise.CATEGORIES)
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


@dataclass(frozen=True)
class QueueCase:
    label: str
    filters: desk_service.TicketFilters

    def params(self) -> dict[str, str]:
        fields = ("view", "status", "category", "severity", "channel", "q")
        return {name: getattr(self.filters, name) for name in fields if getattr(self.filters, name)}


def queue_cases(session, team_id: int) -> list[QueueCase]:  # type: ignore[no-untyped-def]
    category = session.scalar(select(Ticket.category).where(Ticket.team_id == team_id).limit(1))
    phone = session.scalar(select(Ticket.sender).where(Ticket.number.like("B%")).limit(1))
    return [
        QueueCase(
            f"team, status=open, category={category}", desk_service.TicketFilters("team", "open", category)
        ),
        QueueCase("search by phone number", desk_service.TicketFilters("all", q=phone)),
        QueueCase("due soon", desk_service.TicketFilters("due_soon")),
    ]


def time_in_process(url: str, cases: list[QueueCase], lead_id: int) -> dict[str, float]:
    engine = make_engine(url)
    timings = {}
    with session_factory(engine)() as session:
        lead = session.get(User, lead_id)
        for case in cases:
            samples = []
            for _ in range(50):
                began = time.perf_counter()
                desk_service.list_tickets(
                    session, viewer=lead, filters=case.filters, now=datetime.now(UTC), limit=50
                )
                samples.append((time.perf_counter() - began) * 1000)
            timings[case.label] = statistics.median(samples)
    engine.dispose()
    return timings


def time_over_http(url: str, directory: Path, cases: list[QueueCase]) -> dict[str, list[float]]:
    port = free_port()
    process = serve(
        "lenddesk.asgi:app", port=port, workers=1, env={"LENDDESK_DATABASE_URL": url}, cwd=directory
    )
    timings = {}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            token = client.post("/api/v1/auth/token", data={"username": "team_lead", "password": PASSWORD})
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            for case in cases:
                samples = []
                for _ in range(100):
                    began = time.perf_counter()
                    response = client.get(
                        "/api/v1/desk/tickets", params={**case.params(), "limit": 50}, headers=headers
                    )
                    samples.append((time.perf_counter() - began) * 1000)
                    assert response.status_code == 200 and response.json()["items"], response.text
                timings[case.label] = samples
    finally:
        stop(process)
    return timings


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
        cases = queue_cases(session, team_id)
        active = session.scalar(select(func.count(Ticket.id)).where(Ticket.active.is_(True)))
        breached = session.scalar(
            select(func.count(Ticket.id)).where(Ticket.active.is_(True), Ticket.sla_state == "breached")
        )
    engine.dispose()
    print(f"queue: {active:,} active tickets, {breached:,} of them breached; pages of 50 rows")
    in_process = time_in_process(url, cases, lead.id)
    over_http = time_over_http(url, directory, cases)
    figures = {}
    for case in cases:
        samples = over_http[case.label]
        p50, p95 = statistics.median(samples), statistics.quantiles(samples, n=20)[18]
        print(
            f"queue page ({case.label}): in process p50 {in_process[case.label]:.1f} ms;"
            f" over HTTP p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(samples):.1f} ms"
        )
        figures |= {f"{case.label} in process p50": in_process[case.label], f"{case.label} http p50": p50}
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
