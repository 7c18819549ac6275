"""The delivery worker: retries then dead letters, kill -9 (concurrent workers: tests/channels/races.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lenddesk.channels import adapters, worker
from lenddesk.core.db import session_factory
from lenddesk.core.policy import ChannelsPolicy
from lenddesk.desk.models import OutboxMessage, TicketEvent
from tests.channels.conftest import ALIYUN_SECRET, NOW, StandIn, configure


def queue_sms(session: Session, count: int) -> None:
    session.add_all(
        OutboxMessage(channel="sms", recipient=f"139{n:08d}", kind="notice", body=f"通知 {n}", created_at=NOW)
        for n in range(count)
    )
    session.commit()


def statuses(session: Session) -> Counter[str]:
    session.expire_all()
    return Counter(
        dict(session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    )


def test_failures_retry_with_backoff_then_park_as_dead_letters(engine: Engine, session: Session) -> None:
    failing = StandIn(fail_first=10**6)
    try:
        configure(session, failing.url)
        queue_sms(session, 1)
        policy = ChannelsPolicy(outbox_max_attempts=3)
        factory = session_factory(engine)
        with factory() as s:
            built = adapters.build_adapters(s, log_dir=Path("/nonexistent"))
        moments = iter([NOW + __import__("datetime").timedelta(hours=h) for h in range(0, 30)])
        for _ in range(3):
            now = next(moments)
            worker.deliver_batch(factory, built, policy=policy, worker="w", clock=lambda now=now: now)
        assert statuses(session) == {"dead": 1}
        row = session.scalar(select(OutboxMessage))
        assert row is not None and row.attempts == 3 and "isp.SYSTEM_ERROR" in (row.last_error or "")
    finally:
        failing.stop()


def test_a_retry_waits_for_its_backoff(engine: Engine, session: Session) -> None:
    failing = StandIn(fail_first=1)
    try:
        configure(session, failing.url)
        queue_sms(session, 1)
        factory = session_factory(engine)
        with factory() as s:
            built = adapters.build_adapters(s, log_dir=Path("/nonexistent"))
        policy = ChannelsPolicy(outbox_backoff_seconds=60)
        first = worker.deliver_batch(factory, built, policy=policy, worker="w", clock=lambda: NOW)
        assert first == {"retry": 1}
        too_soon = worker.deliver_batch(factory, built, policy=policy, worker="w", clock=lambda: NOW)
        assert not too_soon  # the row waits at least half a step (30 s)
        later = NOW + __import__("datetime").timedelta(seconds=61)
        assert worker.deliver_batch(factory, built, policy=policy, worker="w", clock=lambda: later) == {
            "sent": 1
        }
    finally:
        failing.stop()


def test_kill_9_mid_send_loses_nothing_and_sends_nothing_twice(
    db_url: str, session: Session, tmp_path: Path
) -> None:
    """A worker process killed mid-batch: its leased rows go again after the lease, with the same keys."""
    port = __import__("tests.support.servers", fromlist=["free_port"]).free_port()
    provider = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lenddesk.channels.standins",
            "--port",
            str(port),
            "--secret",
            ALIYUN_SECRET,
            "--delay",
            "0.01",
        ]
    )
    try:
        configure(session, f"http://127.0.0.1:{port}")
        queue_sms(session, 200)
        policy = tmp_path / "policy.toml"
        policy.write_text("[channels]\noutbox_lease_seconds = 5\noutbox_batch = 50\n")
        env = {**os.environ, "LENDDESK_DATABASE_URL": db_url, "LENDDESK_POLICY_FILE": str(policy)}
        command = [sys.executable, "-m", "lenddesk.cli", "desk", "deliver", "--loop"]
        first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for(lambda: _stats(port)["requests"] >= 20, 60)
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_at = _stats(port)["delivered"]
        assert killed_at < 200  # it died mid-way
        second = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_for(lambda: statuses(session).get("sent", 0) == 200, 90)
        finally:
            second.terminate()
            second.wait(timeout=20)
        stats = _stats(port)
        assert stats["delivered"] == 200  # every message reached the provider once
        assert stats["repeated_keys"] >= 1  # the killed batch was sent again, under the same keys
        assert statuses(session) == {"sent": 200}
        lines = session.scalar(select(func.count()).select_from(TicketEvent)) or 0
        assert lines == 0  # notices without a ticket leave no timeline lines
    finally:
        provider.kill()
        provider.wait()


def _stats(port: int) -> dict:
    import json
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=5) as answer:
        return json.loads(answer.read())


def _wait_for(condition, seconds: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_one_worker_keeps_many_messages_in_flight(engine: Engine, session: Session) -> None:
    """A provider answering in 200 ms: 64 messages one at a time would take 12.8 s."""
    slow = StandIn(delay=0.2)
    try:
        configure(session, slow.url)
        queue_sms(session, 64)
        factory = session_factory(engine)
        with factory() as s:
            built = adapters.build_adapters(s, log_dir=Path("/nonexistent"))
        started = time.monotonic()
        policy = ChannelsPolicy(outbox_batch=32, outbox_concurrency=16)
        assert worker.run(factory, lambda: built, policy=policy, loop=False) == {"sent": 64}
        assert time.monotonic() - started < 6.4  # at least twice as fast as one at a time
        assert statuses(session) == {"sent": 64} and slow.state.stats()["repeated_keys"] == 0
    finally:
        slow.stop()
