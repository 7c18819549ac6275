"""Which ticket an e-mail joins: a thread (our Message-ID in In-Reply-To, or `[T…]` in the subject)
is only followed for the ticket's own correspondent; anyone else gets a ticket of their own."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from lenddesk.channels import inbox, service
from lenddesk.channels.mail import outbound_message_id
from lenddesk.core import audit
from lenddesk.core.db import session_factory
from lenddesk.core.policy import ChannelsPolicy
from lenddesk.desk import service as desk
from lenddesk.desk.models import Message, OutboxMessage, Ticket
from tests.channels.conftest import NOW
from tests.channels.test_email import DOMAIN, FROM_ADDRESS, mail
from tests.desk.conftest import BorrowerFacts

ADMIN = audit.Actor.system("tests")


@pytest.fixture
def take(session: Session, desk_data: dict[str, int], engine: Engine) -> Callable[[bytes], str | None]:
    service.save_settings(
        session,
        channel="email",
        values={"from_address": FROM_ADDRESS, "smtp_host": "127.0.0.1", "smtp_port": 9},
        actor=ADMIN,
        now=NOW,
    )
    session.commit()
    factory = session_factory(engine)
    return lambda raw: inbox.take_raw_mail(factory, raw, policy=ChannelsPolicy(), now=NOW)


def open_ticket(session: Session, sender: str, *, channel: str = "email") -> str:
    inbound = service.take_in(
        session,
        channel=channel,
        message_id=f"<first-{sender}@mail.example.com>",
        sender=sender,
        text="我想查询还款计划",
        received_at=NOW,
        now=NOW,
    )
    session.commit()
    return inbound.ticket_number


def our_reply_id(session: Session, number: str) -> str:
    desk.reply(session, actor=ADMIN, number=number, text="您好，已收到。", macro_code=None, now=NOW)
    session.commit()
    outbox_id = session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id.desc())).first()
    assert outbox_id is not None
    return outbound_message_id(outbox_id, number, DOMAIN)


def senders_of(session: Session, number: str) -> list[str]:
    session.expire_all()
    return list(
        session.scalars(
            select(Message.sender)
            .join(Ticket, Ticket.id == Message.ticket_id)
            .where(Ticket.number == number, Message.direction == "in")
            .order_by(Message.id)
        )
    )


def test_a_stranger_quoting_a_ticket_number_gets_a_ticket_of_their_own(
    session: Session, take: Callable[[bytes], str | None]
) -> None:
    number = open_ticket(session, "zhangwei@example.com")
    landed = take(bytes(mail("attacker@evil.example", f"Re: [{number}] 更换收款账户", "请把退款打到新卡")))
    assert landed != number
    assert senders_of(session, number) == ["zhangwei@example.com"]
    assert senders_of(session, landed or "") == ["attacker@evil.example"]


def test_a_stranger_replying_to_our_message_id_gets_a_ticket_of_their_own(
    session: Session, take: Callable[[bytes], str | None]
) -> None:
    number = open_ticket(session, "zhangwei@example.com")
    ours = our_reply_id(session, number)
    forged = mail(
        "attacker@evil.example", "Re: 客服回复", "我是张伟，手机换号了", In_Reply_To=ours, References=ours
    )
    landed = take(bytes(forged))
    assert landed != number and senders_of(session, number) == ["zhangwei@example.com"]


def test_our_message_id_to_the_sender_names_only_its_own_ticket(
    session: Session, take: Callable[[bytes], str | None]
) -> None:
    """A Message-ID of a mail we sent the attacker, edited to name someone else's ticket, joins nothing."""
    victim = open_ticket(session, "zhangwei@example.com")
    own = open_ticket(session, "attacker@evil.example")
    sent_to_attacker = our_reply_id(session, own)
    outbox_id = sent_to_attacker.split(".")[1]
    edited = outbound_message_id(int(outbox_id), victim, DOMAIN)
    take(bytes(mail("attacker@evil.example", "Re: 客服回复", "改一下", In_Reply_To=edited)))
    assert senders_of(session, victim) == ["zhangwei@example.com"]


def test_the_tickets_sender_joins_by_subject_and_by_our_message_id(
    session: Session, take: Callable[[bytes], str | None]
) -> None:
    number = open_ticket(session, "zhangwei@example.com")
    ours = our_reply_id(session, number)
    assert take(bytes(mail("ZhangWei@Example.com", f"[{number}] 补充", "补充一下"))) == number
    assert take(bytes(mail("zhangwei@example.com", "Re: 客服回复", "谢谢", In_Reply_To=ours))) == number
    assert senders_of(session, number) == ["zhangwei@example.com"] * 3


def test_the_borrowers_registered_address_joins_a_ticket_linked_to_the_borrower(
    session: Session, take: Callable[[bytes], str | None], borrower: BorrowerFacts
) -> None:
    """A ticket opened from a work address and linked to 张伟 by an agent: his own address may join it."""
    number = open_ticket(session, "zw@work.example.com")
    session.execute(update(Ticket).where(Ticket.number == number).values(borrower_id=borrower.id))
    session.commit()
    assert take(bytes(mail(borrower.email, f"[{number}] 补充", "用私人邮箱补充"))) == number
    other = take(bytes(mail("someone@work.example.com", f"[{number}] 补充", "同事代发")))
    assert other != number


def test_a_web_form_ticket_answered_by_e_mail_takes_the_reply(
    session: Session, take: Callable[[bytes], str | None]
) -> None:
    """The contact form left an e-mail address; our answer went by e-mail; the borrower's reply
    threads onto the web-form ticket rather than opening an e-mail ticket."""
    number = open_ticket(session, "li@example.com", channel="web_form")
    ours = our_reply_id(session, number)
    assert take(bytes(mail("li@example.com", "Re: 客服回复", "好的，谢谢", In_Reply_To=ours))) == number
    assert take(bytes(mail("li@example.com", f"[{number}] 还有问题", "再问一下"))) == number
    assert take(bytes(mail("attacker@evil.example", f"[{number}] 还有问题", "x"))) != number
