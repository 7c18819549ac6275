"""Benchmark of the chat assistant (issue 12).

1. Training: time to train the intent model from the shipped examples, and the model file's size.
2. In process: `assistant.service.post_message` + COMMIT per message on SQLite (one thread), p50/p99
   over a mix of FAQ questions across many sessions. Target p99 ≤ 20 ms. Baseline in the same run:
   the understanding alone (normalise, model, FAQ retrieval, emotion, scam rules; no database).
3. Over HTTP: `POST /api/v1/assistant/messages` under uvicorn (2 workers, SQLite) driven by wrk,
   as a share of a bare FastAPI endpoint of the same shape (defined below) in the same run. Target
   ≥ 1/3.

    .venv/bin/python bench/assistant.py            # 20 s per HTTP phase, 2,000 in-process messages
    .venv/bin/python bench/assistant.py --quick    # 5 s, 300 messages
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Header
from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parent))

QUESTIONS = (
    "怎么还款",
    "还款日是几号",
    "提前还款有手续费吗",
    "罚息怎么算",
    "会上征信吗",
    "额度怎么提",
    "结清证明怎么开",
    "逾期了会怎么样",
    "利息怎么算的",
    "怎么换绑银行卡",
    "放款要多久",
    "你好",
)
POLICY = """
[assistant]
session_messages_per_window = 100000
address_messages_per_window = 1000000
"""
WRK_SCRIPT = """
local texts = {%(texts)s}
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  -- the chat's session is named by its token (X-Chat-Token), never by the body
  wrk.headers["X-Chat-Token"] = string.format("bench%(run)s%%032d", math.random(1, %(sessions)d))
  local body = string.format('{"text": "%%s"}', texts[(counter %% #texts) + 1])
  return wrk.format(nil, nil, nil, body)
end
"""

# --- the bare endpoint: same request and response shape, no work --------------------------------
bare = FastAPI()


class _In(BaseModel):
    text: str


class _Out(BaseModel):
    session_id: str
    reply: str
    intent: str
    confidence: float
    emotion: str
    handoff: bool
    risk_flags: list[str]
    ticket_number: str | None
    message_seq: int
    reply_seq: int | None


@bare.post("/api/v1/assistant/messages")
def _bare_message(body: _In, x_chat_token: Annotated[str, Header()]) -> _Out:
    return _Out(
        session_id=x_chat_token[:32],
        reply="您好",
        intent="chitchat",
        confidence=0.9,
        emotion="calm",
        handoff=False,
        risk_flags=[],
        ticket_number=None,
        message_seq=1,
        reply_seq=2,
    )


def machine_load() -> str:
    one, five, fifteen = os.getloadavg()
    return (
        f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} cores "
        "(other processes on the machine)"
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure_training(directory: Path) -> None:
    from lenddesk.assistant import classifier

    trained = classifier.train()
    size = classifier.save(trained, directory / "model.pkl")
    print(
        f"training: {trained.examples} examples (+ augmentation) in {trained.training_seconds:.1f} s; "
        f"model file {size / 1024:.0f} KiB"
    )


def prepare_database(directory: Path) -> str:
    from lenddesk.core.db import upgrade_database

    url = f"sqlite:///{directory / 'assistant-bench.db'}"
    upgrade_database(url)
    add_team(url)
    return url


def add_team(url: str) -> None:
    """The team a handed-off chat goes to, unless the database has it already (bench/system.py)."""
    from sqlalchemy import select

    from lenddesk.core.db import make_engine, session_factory
    from lenddesk.desk.models import Team

    engine = make_engine(url)
    with session_factory(engine)() as session:
        if session.scalar(select(Team.id).where(Team.code == "general")) is None:
            session.add(Team(code="general", name="综合服务组", skills=["*"], always_open=True))
            session.commit()
    engine.dispose()


def prepare_http(directory: Path) -> None:
    """What measure_http's servers read from `directory`: the policy file and the trained model."""
    from lenddesk.assistant import classifier

    (directory / "policy.toml").write_text(POLICY)
    model_dir = directory / "model"
    classifier.save(
        classifier.current(model_dir), classifier.model_path(model_dir, classifier.data_fingerprint())
    )


def measure_in_process(url: str, messages: int) -> None:
    from sqlalchemy import event

    from lenddesk.assistant import engine, service
    from lenddesk.core.db import make_engine, session_factory, utcnow
    from lenddesk.core.policy import get_policy

    assert get_policy().assistant.session_messages_per_window > 1000  # the bench's policy file
    database = make_engine(url)
    factory = session_factory(database)
    engine.understand_text("你好")  # load the model and jieba first
    statements = 0

    def count_statement(*_args: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(database, "before_cursor_execute", count_statement)
    understanding, full = [], []
    sessions = [secrets.token_urlsafe(18) for _ in range(max(1, messages // 8))]
    for i in range(messages):
        text = QUESTIONS[i % len(QUESTIONS)]
        started = time.perf_counter()
        engine.understand_text(text + str(i % 7))
        understanding.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        with factory() as session:
            service.post_message(
                session, public_id=sessions[i % len(sessions)], text=text, address="bench", now=utcnow()
            )
            session.commit()
        full.append((time.perf_counter() - started) * 1000)
    for label, values in (("understanding only (baseline)", understanding), ("post_message + commit", full)):
        print(
            f"in process, {label}: p50 {statistics.median(values):.2f} ms, "
            f"p99 {percentile(values, 0.99):.2f} ms, max {max(values):.2f} ms over {len(values)} messages"
        )
    print(f"in process: {statements / messages:.2f} SQL statements per message (BEGIN/COMMIT not counted)")


def measure_http(url: str, directory: Path, seconds: int, connections: int) -> dict[str, float]:
    """Requests per second of the bare endpoint and of LendDesk's (after prepare_http(directory))."""
    from httpload import free_port, run_wrk, serve, stop

    texts = ", ".join(f'"{q}"' for q in QUESTIONS)
    run = secrets.token_hex(4)
    env = {
        "LENDDESK_DATABASE_URL": url,
        "LENDDESK_POLICY_FILE": str(directory / "policy.toml"),
        "LENDDESK_ASSISTANT_MODEL_DIR": str(directory / "model"),
    }
    rates: dict[str, float] = {}
    figures: dict[str, float] = {}
    for label, app, cwd in (
        ("bare FastAPI", "assistant:bare", Path(__file__).resolve().parent),
        ("LendDesk assistant", "lenddesk.asgi:app", directory),
    ):
        port = free_port()
        process = serve(app, port=port, workers=2, env=env, cwd=cwd)
        try:
            target = f"http://127.0.0.1:{port}/api/v1/assistant/messages"
            script = WRK_SCRIPT % {"texts": texts, "run": run + label[0], "sessions": 2000}
            run_wrk(
                target, script, connections=connections, seconds=10
            )  # warm-up: each worker loads the model
            result = run_wrk(target, script, connections=connections, seconds=seconds)
        finally:
            stop(process)
        rates[label] = result.rate
        figures |= {f"{label} rate": result.rate, f"{label} p99_ms": result.p99_ms}
        print(
            f"HTTP, {label}: {result.rate:,.0f} req/s, p50 {result.p50_ms:.1f} ms, "
            f"p99 {result.p99_ms:.1f} ms, errors {result.errors}, non-2xx {result.non_2xx}"
        )
        if result.non_2xx or result.errors:
            # A rate of refusals is no figure (the request shape drifted from the API once).
            raise SystemExit(f"{label}: {result.non_2xx} non-2xx answers and {result.errors} errors")
    share = rates["LendDesk assistant"] / rates["bare FastAPI"]
    print(f"HTTP: the message endpoint reaches {share:.1%} of the bare endpoint (target ≥ 33.3%)")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    seconds, messages = (5, 300) if args.quick else (args.seconds, args.messages)
    print(f"started {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC; {machine_load()}")
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        (directory / "policy.toml").write_text(POLICY)
        os.environ["LENDDESK_POLICY_FILE"] = str(directory / "policy.toml")
        os.environ["LENDDESK_ASSISTANT_MODEL_DIR"] = str(directory / "model")
        measure_training(directory)
        url = prepare_database(directory)
        measure_in_process(url, messages)
        prepare_http(directory)
        measure_http(url, directory, seconds, args.connections)
    print(f"finished {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC; {machine_load()}")


if __name__ == "__main__":
    main()
