"""The outbox delivery worker: claim (commit), send (no transaction), settle (commit), repeat.

Any number of workers may run at once, on one machine or several: each claims different rows
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, the write gate on SQLite) under a lease. A worker killed
mid-send leaves its rows leased; when the lease runs out another claim takes them and sends them
again with the same idempotency key. `lenddesk desk deliver` runs one batch, `--loop` runs until
stopped.
"""

from __future__ import annotations

import os
import random
import socket
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from lenddesk.channels.delivery_log import Adapter, Outgoing
from lenddesk.core.db import utcnow
from lenddesk.core.policy import ChannelsPolicy
from lenddesk.desk import service as desk


def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{threading.get_ident() % 100000}"


def retry_policy(policy: ChannelsPolicy) -> desk.RetryPolicy:
    return desk.RetryPolicy(
        max_attempts=policy.outbox_max_attempts,
        base_seconds=policy.outbox_backoff_seconds,
        cap_seconds=policy.outbox_backoff_cap_seconds,
        lease_seconds=policy.outbox_lease_seconds,
    )


def send_one(
    adapters: Mapping[str, Adapter], message: desk.ClaimedMessage, now: datetime
) -> desk.SendOutcome:
    try:
        result = adapters[message.channel].deliver(Outgoing.of(message), now=now)
    except Exception as exc:  # an adapter's bug must not stop the batch; the row retries
        return desk.SendOutcome(message.outbox_id, False, error=f"{type(exc).__name__}: {exc}"[:200])
    return result.outcome(message.outbox_id)


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
    retry = retry_policy(policy)
    with session_factory() as session:
        claimed = desk.claim_outbox(
            session,
            channels=list(adapters),
            now=clock(),
            worker=worker,
            limit=policy.outbox_batch,
            lease_seconds=retry.lease_seconds,
        )
        session.commit()
    if not claimed:
        return Counter()
    outcomes = [send_one(adapters, message, clock()) for message in claimed]
    with session_factory() as session:
        counts = desk.settle_outbox(
            session, claimed=claimed, outcomes=outcomes, worker=worker, now=clock(), policy=retry, rng=rng
        )
        session.commit()
    return counts


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
    """Deliver until the queue is empty (or, with `loop`, until `stop` is set)."""
    stop = stop or threading.Event()
    worker = worker_name()
    adapters = adapters_for()
    total: Counter[str] = Counter()
    while not stop.is_set():
        counts = deliver_batch(session_factory, adapters, policy=policy, worker=worker, clock=clock)
        total.update(counts)
        if not counts:
            if not loop:
                break
            stop.wait(idle_seconds)
            adapters = adapters_for()  # settings changed in the console apply without a restart
    return total
