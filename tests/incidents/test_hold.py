"""EMERGENCY_HOLD: while an incident pauses outbound contact, every reminder and collection contact in
its scope is blocked and recorded — the plan's release included — and what must still go goes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select, update

from lenddesk.collections import service as collections
from lenddesk.collections.models import Contact
from lenddesk.core.db import session_factory
from lenddesk.desk import service as desk
from lenddesk.desk.models import OutboxMessage
from lenddesk.incidents import service
from lenddesk.ledger import service as ledger
from tests.incidents.conftest import NOW, POLITE, Book, actor_of, declare


def _contact(engine: Engine, borrower_id: int, channel: str = "sms"):  # type: ignore[no-untyped-def]
    with session_factory(engine)() as session:
        result = collections.send_contact(
            session,
            actor=actor_of(session, "team_lead"),
            borrower_id=borrower_id,
            recipient="self",
            channel=channel,
            text=POLITE,
            now=NOW,
        )
        session.commit()
        return result.verdict.codes, result.contact.status


def _outbox_count(engine: Engine, kind: str | None = None) -> int:
    with session_factory(engine)() as session:
        statement = select(func.count()).select_from(OutboxMessage)
        if kind is not None:
            statement = statement.where(OutboxMessage.kind == kind)
        return session.scalar(statement) or 0


def test_an_agents_contact_is_blocked_and_recorded_while_an_incident_pauses_outbound(
    engine: Engine, book: Book
) -> None:
    assert _contact(engine, book.borrower_a) == ((), "sent")
    before = _outbox_count(engine)
    declare(engine)
    codes, status = _contact(engine, book.borrower_a, "call_script")
    assert (codes, status) == (("EMERGENCY_HOLD",), "blocked")
    assert _contact(engine, book.borrower_b)[1] == "blocked"
    assert _outbox_count(engine) == before  # nothing new queued
    with session_factory(engine)() as session:
        blocked = session.scalars(select(Contact).where(Contact.status == "blocked")).all()
        assert len(blocked) == 3  # the two refused, and the first, withdrawn from the outbox
        assert all("应急事件" in v["evidence"] for c in blocked for v in c.violations)


def test_the_plans_release_is_held_in_scope(engine: Engine, book: Book) -> None:
    with session_factory(engine)() as session:
        scheduled = session.scalar(select(func.count()).where(Contact.status == "scheduled"))
    assert scheduled, "the close scheduled the day's reminders"
    declare(engine)
    with session_factory(engine)() as session:
        counts = collections.release_due(session, now=NOW, limit=1000)
        session.commit()
        assert (counts.sent, counts.blocked) == (0, scheduled)
        codes = session.scalars(select(Contact.codes).where(Contact.source != "agent")).all()
        assert codes and all(c == ["EMERGENCY_HOLD"] for c in codes)
    assert _outbox_count(engine) == 0


def test_the_scope_by_product_holds_only_that_products_borrowers(engine: Engine, book: Book) -> None:
    declare(engine, products=[book.product_a])
    assert _contact(engine, book.borrower_a) == (("EMERGENCY_HOLD",), "blocked")
    assert _contact(engine, book.borrower_b) == ((), "sent")
    with session_factory(engine)() as session:
        collections.release_due(session, now=NOW, limit=1000)
        session.commit()
        released = session.execute(
            select(Contact.borrower_id, Contact.status, Contact.codes).where(Contact.source != "agent")
        ).all()
    held = {borrower for borrower, status, codes in released if codes == ["EMERGENCY_HOLD"]}
    assert held and held <= {book.borrower_a, book.current_a}
    assert all(
        status != "sent" for borrower, status, _ in released if borrower in (book.borrower_a, book.current_a)
    )


def test_an_incident_without_the_pause_holds_nothing(engine: Engine, book: Book) -> None:
    declare(engine, pause=False)
    assert _contact(engine, book.borrower_a) == ((), "sent")


def test_contacts_go_again_once_the_incident_is_resolved(engine: Engine, book: Book) -> None:
    incident_id = declare(engine)
    assert _contact(engine, book.borrower_a)[1] == "blocked"
    with session_factory(engine)() as session:
        lead = actor_of(session, "team_lead")
        for item in service.checklist(session, incident_id):
            service.complete_item(session, actor=lead, incident_id=incident_id, code=item.code, now=NOW)
        service.resolve(session, actor=lead, incident_id=incident_id, summary="通道恢复", now=NOW)
        session.commit()
    assert _contact(engine, book.borrower_a) == ((), "sent")


def test_one_time_codes_and_replies_to_the_borrowers_conversation_still_go(
    engine: Engine, book: Book
) -> None:
    declare(engine)
    with session_factory(engine)() as session:
        card = ledger.borrower_card(session, book.borrower_a)
        assert card is not None
        agent = actor_of(session, "agent")
        number = desk.intake(
            session,
            channel="sms",
            channel_message_id="in-1",
            sender=card.mobile,
            text="我想查询一下还款金额",
            received_at=NOW,
            now=NOW,
            actor=agent,
            borrower_id=book.borrower_a,
        ).ticket_number
        outcome = desk.send_otp(session, actor=agent, number=number, now=NOW)
        desk.reply(
            session,
            actor=agent,
            number=number,
            text="您好，已收到您的留言，稍后为您查询。",
            macro_code=None,
            now=NOW,
        )
        session.commit()
    assert outcome.reason == "sent"
    assert _outbox_count(engine, "otp") == 1
    assert _outbox_count(engine, "reply") == 1


def test_a_declaration_withdraws_reminders_still_waiting_in_the_outbox(engine: Engine, book: Book) -> None:
    assert _contact(engine, book.borrower_a) == ((), "sent")
    assert _contact(engine, book.borrower_b) == ((), "sent")
    with session_factory(engine)() as session:
        first, second = session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id).limit(2)).all()
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == first)
            .values(claimed_by="w1", claimed_until=NOW + timedelta(minutes=2))
        )
        session.commit()
    declare(engine)
    with session_factory(engine)() as session:
        statuses = dict(session.execute(select(OutboxMessage.id, OutboxMessage.status)).all())
        assert statuses[first] == "queued"  # a worker holds it: in flight, not recalled
        assert statuses[second] == "failed"
        assert list(statuses.values()).count("queued") == 1
        contacts = session.execute(
            select(Contact.outbox_id, Contact.status, Contact.codes).where(Contact.outbox_id.is_not(None))
        ).all()
        assert {(status, tuple(codes)) for outbox_id, status, codes in contacts if outbox_id != first} == {
            ("blocked", ("EMERGENCY_HOLD",))
        }
