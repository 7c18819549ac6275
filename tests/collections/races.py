"""The collections write paths under simultaneous callers, for SQLite and PostgreSQL alike
(tests/collections/test_races.py and tests/integration/test_collections_races_postgres.py).

Each scenario gets a migrated database URL with one user per role (named after the role)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.collections import service
from lenddesk.collections.models import Account, Contact, Outcome
from lenddesk.core import audit
from lenddesk.core.db import make_engine, session_factory
from lenddesk.core.models import User
from lenddesk.desk.models import OutboxMessage
from tests.collections.conftest import CONTACT_DAY, NOW, make_book
from tests.desk.races import run_together

POLITE = "您好，您的借款已逾期，请尽快通过银行转账或支付宝还款。如有困难请联系我们。"


def _prepare(url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    book = make_book(engine)
    factory = session_factory(engine)
    with factory() as session:
        lead = audit.Actor.of(session.scalar(select(User).where(User.username == "team_lead")))
    return factory, book, lead


def racing_contacts_respect_the_daily_cap(url: str) -> None:
    """Six contacts to one borrower at once: exactly three go out, three are blocked and recorded."""
    factory, book, lead = _prepare(url)

    def send(session: Session) -> bool:
        result = service.send_contact(
            session,
            actor=lead,
            borrower_id=book.overdue_borrower,
            recipient="self",
            channel="sms",
            text=POLITE,
            now=NOW,
        )
        return result.verdict.allowed

    outcome = run_together(factory, [send] * 6)
    assert not outcome.errors, outcome.errors
    assert sorted(outcome.results) == [False] * 3 + [True] * 3
    with factory() as session:
        statuses = session.execute(
            select(Contact.status, Contact.codes).where(Contact.source == "agent")
        ).all()
        assert sorted(status for status, _ in statuses) == ["blocked"] * 3 + ["sent"] * 3
        assert all(codes == ["FREQUENCY_CAP"] for status, codes in statuses if status == "blocked")
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 3


def first_contacts_open_one_account(url: str) -> None:
    """A borrower without a collections account contacted by several callers at once gets one."""
    factory, book, lead = _prepare(url)

    def send(session: Session) -> bool:
        return service.send_contact(
            session, actor=lead, borrower_id=book.current_borrower, recipient="self", channel="call_script",
            text=POLITE, now=NOW,
        ).verdict.allowed  # fmt: skip

    outcome = run_together(factory, [send] * 4)
    assert not outcome.errors, outcome.errors
    with factory() as session:
        assert session.scalar(select(func.count()).where(Account.borrower_id == book.current_borrower)) == 1
        assert (
            session.scalar(select(func.count()).where(Contact.status == "sent", Contact.source == "agent"))
            == 3
        )


def racing_promises_are_all_recorded(url: str) -> None:
    """Promises and a wrong-number outcome recorded at once: none lost, each with its amount."""
    factory, book, lead = _prepare(url)

    def promise(amount: int):  # type: ignore[no-untyped-def]
        def call(session: Session) -> int:
            return service.record_outcome(
                session, actor=lead, borrower_id=book.overdue_borrower, kind="promise_to_pay", now=NOW,
                promise_amount_fen=amount, promise_date=CONTACT_DAY + timedelta(days=2),
            ).id  # fmt: skip

        return call

    def wrong_number(session: Session) -> int:
        return service.record_outcome(
            session, actor=lead, borrower_id=book.overdue_borrower, kind="wrong_number", now=NOW
        ).id

    outcome = run_together(factory, [promise(100 * n) for n in range(1, 5)] + [wrong_number])
    assert not outcome.errors, outcome.errors
    with factory() as session:
        amounts = session.scalars(
            select(Outcome.promise_amount_fen).where(Outcome.kind == "promise_to_pay")
        ).all()
        assert sorted(amounts) == [100, 200, 300, 400]
        assert session.scalar(select(func.count()).select_from(Outcome)) == 5


def release_and_agents_together_keep_the_cap(url: str) -> None:
    """The plan's scheduled messages released while agents call the same borrowers: no borrower
    gets more than the daily cap of sent contacts."""
    factory, book, lead = _prepare(url)
    with factory() as session:
        scheduled = session.scalar(select(func.count()).where(Contact.status == "scheduled"))
    assert scheduled, "the plan scheduled the day's messages"

    def release(session: Session) -> int:
        return service.release_due(session, now=NOW, limit=1000).sent

    def call(session: Session) -> bool:
        return service.send_contact(
            session, actor=lead, borrower_id=book.overdue_borrower, recipient="self", channel="call_script",
            text=POLITE, now=NOW,
        ).verdict.allowed  # fmt: skip

    outcome = run_together(factory, [release, call, call, call, call])
    assert not outcome.errors, outcome.errors
    with factory() as session:
        per_borrower = session.execute(
            select(Contact.borrower_id, func.count())
            .where(Contact.status == "sent")
            .group_by(Contact.borrower_id)
        ).all()
        assert per_borrower and all(count <= 3 for _, count in per_borrower)


SCENARIOS = [
    racing_contacts_respect_the_daily_cap,
    first_contacts_open_one_account,
    racing_promises_are_all_recorded,
    release_and_agents_together_keep_the_cap,
]
