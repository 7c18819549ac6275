"""The outbox delivery worker: claim (commit), send (no transaction, many at once), settle (commit).

Any number of workers may run at once, on one machine or several: each claims different rows
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, the write gate on SQLite) under a lease. A worker killed
mid-send leaves its rows leased; when the lease runs out another claim takes them and sends them
again with the same idempotency key.

The channels room owns every driver of the desk's outbox: this worker, run by `lenddesk desk
deliver` (also `lenddesk channels deliver`; `--loop` runs until stopped) and by the desk's "deliver
now" route (channels/outbox_api.py), both through `deliver`. There is no other way a message leaves.
"""

from __future__ import annotations

import os
import random
import socket
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from lenddesk.channels import adapters as channel_adapters
from lenddesk.core.db import utcnow
from lenddesk.core.policy import ChannelsPolicy
from lenddesk.desk import service as desk
from lenddesk.desk.delivery import Adapter, ClaimedMessage, Outgoing, SendOutcome


def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{threading.get_ident() % 100000}"


def retry_policy(policy: ChannelsPolicy) -> desk.RetryPolicy:
    return desk.RetryPolicy(
        max_attempts=policy.outbox_max_attempts,
        base_seconds=policy.outbox_backoff_seconds,
        cap_seconds=policy.outbox_backoff_cap_seconds,
        lease_seconds=policy.outbox_lease_seconds,
    )


def send_one(adapters: Mapping[str, Adapter], message: ClaimedMessage, now: datetime) -> SendOutcome:
    try:
        result = adapters[message.channel].deliver(Outgoing.of(message), now=now)
    except Exception as exc:  # an adapter's bug must not stop the batch; the row retries
        return SendOutcome(message.outbox_id, False, error=f"{type(exc).__name__}: {exc}"[:200])
    return result.outcome(message.outbox_id)


class Sender:
    """Sends claimed messages with at most `concurrency` in flight: a pool of threads, each keeping
    its own keep-alive connection to a provider (the adapters are thread-safe)."""

    def __init__(self, adapters: Mapping[str, Adapter], concurrency: int) -> None:
        self.adapters = adapters
        self.pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="outbox-send")

    def submit(self, messages: list[ClaimedMessage], now: datetime) -> list[Future[SendOutcome]]:
        return [self.pool.submit(send_one, self.adapters, message, now) for message in messages]

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def _claim(
    session_factory: sessionmaker[Session],
    adapters: Mapping[str, Adapter],
    *,
    policy: ChannelsPolicy,
    worker: str,
    now: datetime,
) -> list[ClaimedMessage]:
    with session_factory() as session:
        claimed = desk.claim_outbox(
            session,
            channels=list(adapters),
            now=now,
            worker=worker,
            limit=policy.outbox_batch,
            lease_seconds=policy.outbox_lease_seconds,
        )
        session.commit()
    return claimed


def _settle(
    session_factory: sessionmaker[Session],
    claimed: list[ClaimedMessage],
    sending: list[Future[SendOutcome]],
    *,
    policy: ChannelsPolicy,
    worker: str,
    now: datetime,
    rng: random.Random | None,
) -> Counter[str]:
    """Wait for a batch's answers, then record them all in one transaction."""
    outcomes = [future.result() for future in sending]
    with session_factory() as session:
        counts = desk.settle_outbox(
            session,
            claimed=claimed,
            outcomes=outcomes,
            worker=worker,
            now=now,
            policy=retry_policy(policy),
            rng=rng,
        )
        session.commit()
    return counts


def deliver_batch(
    session_factory: sessionmaker[Session],
    adapters: Mapping[str, Adapter],
    *,
    policy: ChannelsPolicy,
    worker: str,
    clock: Callable[[], datetime] = utcnow,
    rng: random.Random | None = None,
) -> Counter[str]:
    """One batch in three steps; counts by outcome (delivered, sent, retry, dead, failed)."""
    claimed = _claim(session_factory, adapters, policy=policy, worker=worker, now=clock())
    if not claimed:
        return Counter()
    sender = Sender(adapters, policy.outbox_concurrency)
    try:
        sending = sender.submit(claimed, clock())
        return _settle(session_factory, claimed, sending, policy=policy, worker=worker, now=clock(), rng=rng)
    finally:
        sender.close()


def run(
    session_factory: sessionmaker[Session],
    adapters_for: Callable[[], Mapping[str, Adapter]],
    *,
    policy: ChannelsPolicy,
    loop: bool,
    idle_seconds: float = 1.0,
    stop: threading.Event | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Counter[str]:
    """Deliver until the queue is empty (or, with `loop`, until `stop` is set).

    Batches overlap: the next batch is claimed (and its sending begun) while the previous one's
    answers come in; then the previous one is settled. So the database work of one batch runs
    during the other's network round trips, and at most two batches are leased at a time.
    """
    stop = stop or threading.Event()
    worker = worker_name()
    adapters = adapters_for()
    sender = Sender(adapters, policy.outbox_concurrency)
    total: Counter[str] = Counter()
    in_flight: tuple[list[ClaimedMessage], list[Future[SendOutcome]]] | None = None
    try:
        while True:
            claimed = (
                []
                if stop.is_set()
                else _claim(session_factory, adapters, policy=policy, worker=worker, now=clock())
            )
            sending = sender.submit(claimed, clock()) if claimed else []
            if in_flight is not None:
                total.update(
                    _settle(session_factory, *in_flight, policy=policy, worker=worker, now=clock(), rng=None)
                )
            in_flight = (claimed, sending) if claimed else None
            if in_flight is not None:
                continue
            if not loop or stop.is_set():
                break
            stop.wait(idle_seconds)
            if not stop.is_set():  # settings changed in the console apply without a restart
                sender.close()
                adapters = adapters_for()
                sender = Sender(adapters, policy.outbox_concurrency)
    finally:
        sender.close()
    return total


def deliver(
    session_factory: sessionmaker[Session],
    *,
    log_dir: Path,
    policy: ChannelsPolicy,
    loop: bool = False,
    stop: threading.Event | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Counter[str]:
    """Deliver the outbox through the configured channels (the delivery log for the others)."""

    def adapters_for() -> dict[str, Adapter]:
        with session_factory() as session:
            return channel_adapters.build_adapters(session, log_dir=log_dir)

    return run(session_factory, adapters_for, policy=policy, loop=loop, stop=stop, clock=clock)
