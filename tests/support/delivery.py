"""Delivering the desk's outbox in a test: the channels room's worker, with the test's adapters."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from lenddesk.channels import worker
from lenddesk.core.db import session_factory
from lenddesk.core.policy import ChannelsPolicy
from lenddesk.desk.delivery import Adapter


def deliver_outbox(
    session: Session, *, adapters: Mapping[str, Adapter], now: datetime, policy: ChannelsPolicy | None = None
) -> Counter[str]:
    """Commit the test's session, then run the worker until nothing on `adapters`' channels is due.

    Counts by status; "failed" also counts retries and dead letters.
    """
    session.commit()
    factory = session_factory(session.get_bind())
    counts = worker.run(
        factory, lambda: adapters, policy=policy or ChannelsPolicy(), loop=False, clock=lambda: now
    )
    session.expire_all()
    counts["failed"] += counts["retry"] + counts["dead"]
    return counts
