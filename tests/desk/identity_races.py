"""Simultaneous wrong knowledge answers about one borrower on many tickets, shared by the SQLite and
PostgreSQL tests: the failures counted per borrower and phone never pass the policy's limit."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, func, select

from lenddesk.core import audit
from lenddesk.core.db import session_factory
from lenddesk.core.errors import LendDeskError
from lenddesk.core.models import AuditEntry
from lenddesk.desk import service
from lenddesk.ledger.models import Borrower

ACTOR = audit.Actor.system("test")
MOBILE = "13812345678"


def _tickets(engine: Engine, count: int, now: Any) -> list[str]:
    with session_factory(engine)() as session:
        if session.scalar(select(Borrower.id).where(Borrower.mobile == MOBILE)) is None:
            session.add(Borrower(name="张伟", id_number="110105199001011232", mobile=MOBILE))
        numbers = [
            service.intake(
                session,
                channel="chat",
                channel_message_id=f"race-{n}",
                sender=f"chat:race-session-{n}",
                text="我想查询账户",
                received_at=now,
                now=now,
                actor=ACTOR,
            ).ticket_number
            for n in range(count)
        ]
        session.commit()
    return numbers


def _answer(engine: Engine, numbers: list[str], name: str, barrier: threading.Barrier, now: Any) -> list[str]:
    results: list[str] = []
    lock = threading.Lock()

    def one(number: str) -> None:
        with session_factory(engine)() as session:
            barrier.wait()
            try:
                outcome = service.verify_knowledge(
                    session,
                    actor=ACTOR,
                    number=number,
                    name=name,
                    id_last6="011232",
                    contract_number=None,
                    phone=MOBILE,
                    now=now,
                    address="198.51.100.200",
                )
                session.commit()
                result = "verified" if outcome.verified else outcome.reason
            except LendDeskError as exc:
                session.rollback()
                result = exc.code
            with lock:
                results.append(result)

    threads = [threading.Thread(target=one, args=(number,)) for number in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def wrong_answers_at_once_stop_at_the_limit(engine: Engine, now: Any, callers: int = 8) -> None:
    limit = service.desk_policy().identity_failures_per_phone
    assert callers > limit
    numbers = _tickets(engine, callers + 1, now)
    results = _answer(engine, numbers[:callers], "李四", threading.Barrier(callers), now)
    assert sorted(results) == ["mismatch"] * limit + ["verification_locked"] * (callers - limit)
    with session_factory(engine)() as session:
        failed = session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "ticket.verify_failed")
        )
        assert failed == limit
    # The right answer on a fresh ticket is refused while the lock holds.
    assert _answer(engine, numbers[callers:], "张伟", threading.Barrier(1), now) == ["verification_locked"]
