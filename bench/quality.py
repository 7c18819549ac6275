"""Quality benchmark: automatic QA of stored conversations, and one transcript in process.

    .venv/bin/python bench/quality.py [--conversations 100000] [--turns 8] [--samples 2000] [--workers 1]

1. Stored: `--conversations` resolved chat tickets (each `--turns` messages, borrower and agent in
   turn, drawn from a pool of real-sounding lines: greetings, amounts, hardship, complaints, a few
   banned phrases) bulk-inserted into a fresh SQLite file. Baseline: reading every conversation
   the way QA reads it (quality.conversations.load, chunks of 1,000), measured in the same run.
   Then the nightly job (`quality.jobs.score_changed`, chunks of 1,000, committed per chunk):
   read, score, upsert, review sampling — in `--workers` processes over disjoint id ranges when
   above 1 (`lenddesk quality score-changed --workers N`). Target ≥ 2,000 conversations/s. A
   second run must write nothing (idempotent) and is timed too.
2. In process: one 30-turn transcript scored `--samples` times (p50, p99); baseline: reading it
   (sentences cut and normalised, rubric.read), the part every check needs. Target p99 ≤ 5 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy import text as sql_text

from lenddesk.core import audit, auth
from lenddesk.core.db import make_engine, session_factory, upgrade_database
from lenddesk.core.models import User
from lenddesk.desk.models import Message, Team, Ticket, TicketEvent
from lenddesk.quality import conversations, jobs, rubric, service
from lenddesk.quality.models import QaReview, QaScore

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
BORROWER_LINES = (
    "你好，我想问一下这个月的还款日是哪天？",
    "我已经还款了但是显示没有入账，怎么回事",
    "我最近失业了，这个月还不上，能不能延期？",
    "你们的催收太过分了，我要投诉！",
    "请问提前结清需要多少钱",
    "好的，谢谢",
    "我住院了，家里压力很大，真的没钱",
    "能不能减免一点罚息",
)
# Agent lines are templates filled per conversation (names, amounts, dates, ticket numbers), so the
# rubric's caches of recent sentences help only where real desks repeat themselves (fixed phrases).
AGENT_LINES = (
    "您好，我是客服{name}，很高兴为您服务。",
    "您本期应还{amount}元，还款日为{month}月{day}日。",
    "非常理解您的难处，我们可以为您申请延期还款方案，一个工作日内回复您。",
    "已为您登记投诉，工单号{number}，会在24小时内联系您，感谢您的耐心。",
    "请您先完成身份核验，我再为您查询。",
    "感谢您的来电，祝您生活愉快！",
    "逾期会产生罚息，并可能影响您的个人征信记录，建议您按时还款。",
    "好的，已为您核实，{amount}元预计{hours}小时内入账。",
)
NAMES = ("小李", "小王", "小陈", "小张", "小刘", "小杨", "小赵", "小黄", "小周", "小吴")
SEVERE_LINES = ("再不还钱就等着坐牢吧", "你这个废物", "您的身份证号是110105199001011232")
SEVERE_SHARE = 0.01


def _bench_users(session) -> list[int]:  # type: ignore[no-untyped-def]
    """Twenty agents and the general team, where the database does not have them yet."""
    ids = []
    for index in range(20):
        username = f"agent{index:02d}"
        user = session.scalar(select(User).where(User.username == username)) or auth.create_user(
            session,
            actor=audit.Actor.system("bench"),
            username=username,
            password="bench-password-1",
            role="agent",
        )
        ids.append(user.id)
    if session.scalar(select(Team.id).where(Team.code == "general")) is None:
        session.add(Team(code="general", name="综合服务组", skills=["*"]))
    session.commit()
    return ids


def seed(factory, count: int, turns: int) -> int:  # type: ignore[no-untyped-def]
    """Resolved chat tickets with their messages, bulk-inserted in chunks, after any tickets the
    database holds (bench/system.py); the id before the first."""
    rng = random.Random(13)
    with factory() as session:
        agents = _bench_users(session)
        team_id = session.scalar(select(Team.id).where(Team.code == "general"))
        before = session.scalar(select(func.max(Ticket.id))) or 0
        agent_names = dict(session.execute(select(User.id, User.username).where(User.id.in_(agents))).all())
        started = time.perf_counter()
        chunk = 5_000
        for first in range(0, count, chunk):
            tickets, messages, events = [], [], []
            for k in range(first, min(first + chunk, count)):
                n = before + k
                owner = rng.choice(agents)
                opened = NOW - timedelta(days=rng.randint(0, 27), minutes=rng.randint(0, 600))
                tickets.append(
                    {
                        "id": n + 1,
                        "number": f"T20261124-{n + 1:06d}"[:20],
                        "channel": "chat",
                        "sender": f"139{n:08d}",
                        "subject": "咨询",
                        "category": rng.choice(("repayment_question", "hardship", "complaint", "other")),
                        "severity": "P4",
                        "status": "resolved",
                        "active": False,
                        "owner_id": owner,
                        "team_id": team_id,
                        "tags": [],
                        "flags": [],
                        "sla_started_at": opened,
                        "first_response_minutes": 60,
                        "resolution_minutes": 480,
                        "first_response_at": opened + timedelta(minutes=5),
                        "first_response_due": opened + timedelta(minutes=60),
                        "resolution_due": opened + timedelta(minutes=480),
                        "due_at": opened + timedelta(minutes=480),
                        "at_risk_at": opened + timedelta(minutes=400),
                        "created_at": opened,
                        "updated_at": opened + timedelta(minutes=30),
                        "resolved_at": opened + timedelta(minutes=30),
                    }
                )
                severe = rng.random() < SEVERE_SHARE
                fill = {
                    "name": rng.choice(NAMES),
                    "amount": f"{rng.randint(300, 5000):,}.{rng.randint(0, 99):02d}",
                    "month": rng.randint(1, 12),
                    "day": rng.randint(1, 28),
                    "number": f"T20261124-{n + 1:06d}",
                    "hours": rng.randint(2, 24),
                }
                if rng.random() < 0.9:  # most conversations verify the caller before account talk
                    events.append(
                        {
                            "ticket_id": n + 1,
                            "at": opened + timedelta(minutes=1),
                            "kind": "verification",
                            "actor_name": "agent",
                            "body": "身份核验通过（基础验证）",
                            "data": {"method": "knowledge", "level": "basic"},
                        }
                    )
                for turn in range(turns):
                    borrower = turn % 2 == 0
                    if borrower:
                        text = rng.choice(BORROWER_LINES)
                    else:
                        text = AGENT_LINES[0 if turn == 1 else rng.randrange(1, len(AGENT_LINES))].format(
                            **fill
                        )
                    if severe and turn == turns - 1:
                        text = rng.choice(SEVERE_LINES)
                    messages.append(
                        {
                            "ticket_id": n + 1,
                            "direction": "in" if borrower else "out",
                            "channel": "chat",
                            "channel_message_id": f"b-{n}-{turn}",
                            "sender": f"139{n:08d}" if borrower else agent_names[owner],
                            "text": text,
                            "text_simplified": text,
                            "received_at": opened + timedelta(minutes=2 * turn),
                            "created_at": opened + timedelta(minutes=2 * turn),
                        }
                    )
            session.execute(insert(Ticket), tickets)
            session.execute(insert(Message), messages)
            session.execute(insert(TicketEvent), events)
            session.commit()
        if session.get_bind().dialect.name == "postgresql":  # the ids were given: move the sequence on
            table = Ticket.__tablename__
            session.execute(
                sql_text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM {table}")
            )
            session.commit()
        print(
            f"stored: {count:,} resolved conversations of {turns} turns "
            f"({count * turns:,} messages) in {time.perf_counter() - started:.1f} s"
        )
    return before


def read_all(factory, chunk: int = 1000, after: int = 0) -> int:  # type: ignore[no-untyped-def]
    """The baseline: every conversation after id `after` read as QA reads it, nothing scored."""
    read = 0
    with factory() as session:
        ids = list(session.scalars(select(Ticket.id).where(Ticket.id > after).order_by(Ticket.id)))
        for start in range(0, len(ids), chunk):
            read += len(conversations.load(session, ids[start : start + chunk]))
            session.rollback()
    return read


def stored_phase(count: int, turns: int, directory: Path, workers: int) -> None:
    url = f"sqlite:///{directory / 'quality-bench.db'}"
    upgrade_database(url)
    measure_stored(url, count, turns, workers)


def measure_stored(url: str, count: int, turns: int, workers: int) -> dict[str, float]:
    """Store `count` conversations in the database at `url` and score them: QA's rate and the
    read-only rate (conversations per second)."""
    engine = make_engine(url)
    factory = session_factory(engine)
    before = seed(factory, count, turns)
    # Load once what every process loads at its first conversation (the guard's phrase tables and
    # model, the pinyin and OpenCC dictionaries): start-up, not throughput.
    rubric.score(
        rubric.Conversation("chat", (rubric.Turn("agent", "您好，請問有什麼可以幫您"),)),
        service.rubric_weights(),
    )

    started = time.perf_counter()
    read = read_all(factory, after=before)
    baseline = time.perf_counter() - started
    print(f"baseline, read only: {read:,} conversations in {baseline:.1f} s = {read / baseline:,.0f}/s")

    started = time.perf_counter()
    with factory() as session:
        run = jobs.score_changed(session, now=NOW, workers=workers)
        session.commit()
    scored = time.perf_counter() - started
    with factory() as session:
        scores = session.scalar(select(func.count(QaScore.id)))
        reviews = dict(
            session.execute(select(QaReview.reason, func.count(QaReview.id)).group_by(QaReview.reason)).all()
        )
    print(
        f"QA (read, score, upsert, sample; {workers} process(es)): "
        f"{run.written:,} scored in {scored:.1f} s = "
        f"**{run.written / scored:,.0f}/s** ({100 * baseline / scored:.0f} % of the read-only rate); "
        f"{scores:,} rows, {run.severe:,} severe, reviews {reviews}"
    )
    started = time.perf_counter()
    with factory() as session:
        again = jobs.score_changed(session, now=NOW)
    print(
        f"second run: read {again.read:,}, wrote {again.written:,} in {time.perf_counter() - started:.2f} s"
    )
    engine.dispose()
    return {"qa_rate": run.written / scored, "read_rate": read / baseline, "scored": run.written}


def thirty_turns() -> rubric.Conversation:
    rng = random.Random(7)
    turns = []
    for index in range(30):
        borrower = index % 2 == 0
        fill = {
            "name": "小李",
            "amount": "1,050.00",
            "month": 12,
            "day": 5,
            "number": "T20261124-000001",
            "hours": 2,
        }
        text = rng.choice(BORROWER_LINES) if borrower else rng.choice(AGENT_LINES).format(**fill)
        turns.append(rubric.Turn("borrower" if borrower else "agent", text, NOW + timedelta(minutes=index)))
    return rubric.Conversation(
        "chat",
        tuple(turns),
        verified_at=NOW + timedelta(minutes=3),
        ledger=rubric.LedgerFacts(frozenset({105000}), frozenset({NOW.date() + timedelta(days=11)})),
        first_response_minutes=60,
        contract_numbers=("HT20260105001",),
        public=("400-000-0000",),
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


def in_process_phase(samples: int) -> None:
    conversation = thirty_turns()
    weights = service.rubric_weights()
    for _ in range(50):
        rubric.score(conversation, weights)
    timings: dict[str, list[float]] = {"read": [], "score": []}
    for _ in range(samples):
        started = time.perf_counter()
        rubric.read(conversation)
        timings["read"].append(1000 * (time.perf_counter() - started))
        started = time.perf_counter()
        rubric.score(conversation, weights)
        timings["score"].append(1000 * (time.perf_counter() - started))
    for name, label in (("read", "baseline, read only"), ("score", "rubric, 9 items")):
        values = timings[name]
        print(
            f"30 turns, {label}: p50 {statistics.median(values):.2f} ms  "
            f"p99 {percentile(values, 0.99):.2f} ms  max {max(values):.2f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=1)
    arguments = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average {load:.2f} (other processes on the machine)")
    in_process_phase(arguments.samples)
    with tempfile.TemporaryDirectory() as directory:
        stored_phase(arguments.conversations, arguments.turns, Path(directory), arguments.workers)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
