"""Verification limits on PostgreSQL under simultaneous requests: one code a minute, exact attempts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select

from lenddesk.core import audit
from lenddesk.core.db import make_engine, session_factory, upgrade_database
from lenddesk.desk import service
from lenddesk.desk.models import OtpAllowance, OtpChallenge, OutboxMessage, Ticket
from lenddesk.ledger.models import Borrower
from tests.desk.test_verification_rules import NOW, code_of, deliver_sms, run_together

ACTOR = audit.Actor.system("test")


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    upgrade_database(pg_url)
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


@pytest.fixture
def known(pg_engine: Engine) -> str:
    """A ticket from the registered phone of a borrower."""
    with session_factory(pg_engine)() as session:
        session.add(Borrower(name="张伟", id_number="110105199001011232", mobile="13812345678"))
        session.flush()
        number = service.intake(
            session,
            channel="chat",
            channel_message_id="m-1",
            sender="13812345678",
            text="请问我这个月还多少钱？",
            received_at=NOW,
            now=NOW,
            actor=ACTOR,
        ).ticket_number
        session.commit()
    return number


def test_simultaneous_code_requests_send_one_code_on_postgres(pg_engine: Engine, known: str) -> None:
    results = run_together(
        pg_engine, 8, lambda s: service.send_otp(s, actor=ACTOR, number=known, now=NOW).reason
    )
    assert sorted(results) == ["otp_too_soon"] * 7 + ["sent"]
    with session_factory(pg_engine)() as session:
        assert session.scalar(select(func.count(OtpChallenge.id))) == 1
        assert session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "otp")) == 1
        assert sorted(session.scalars(select(OtpAllowance.sent))) == [1, 1]


def test_simultaneous_wrong_codes_use_up_exactly_the_attempts_on_postgres(
    pg_engine: Engine, known: str
) -> None:
    with session_factory(pg_engine)() as session:
        service.send_otp(session, actor=ACTOR, number=known, now=NOW)
        session.commit()
        code = code_of(deliver_sms(session, NOW))
    wrong = "000000" if code != "000000" else "111111"
    results = run_together(
        pg_engine, 9, lambda s: service.check_otp(s, actor=ACTOR, number=known, code=wrong, now=NOW).reason
    )
    assert sorted(results) == ["locked"] + ["otp_none"] * 4 + ["wrong"] * 4
    with session_factory(pg_engine)() as session:
        challenge = session.scalar(select(OtpChallenge))
        assert challenge is not None and challenge.attempts == 5 and challenge.status == "locked"


def test_simultaneous_wrong_knowledge_answers_count_every_failure_on_postgres(
    pg_engine: Engine, known: str
) -> None:
    def wrong(s):  # type: ignore[no-untyped-def]
        return service.verify_knowledge(
            s,
            actor=ACTOR,
            number=known,
            name="张伟",
            id_last6="999999",
            contract_number=None,
            phone="13812345678",
            now=NOW,
        ).reason

    results = run_together(pg_engine, 6, wrong)
    assert sorted(results) == ["mismatch"] * 3 + ["verification_locked"] * 3
    with session_factory(pg_engine)() as session:
        assert session.scalar(select(Ticket.knowledge_failures).where(Ticket.number == known)) == 3
