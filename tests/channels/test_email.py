"""E-mail against real servers: dovecot (IMAP, started in a temporary directory) for inbound mail
through `lenddesk channels email-poll`, aiosmtpd (SMTP) for the answers the outbox sends."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from lenddesk.channels import adapters, service, worker
from lenddesk.channels.mail import outbound_message_id
from lenddesk.channels.models import ChannelActivity, ChannelAttachment
from lenddesk.core import audit
from lenddesk.core.db import session_factory, utcnow
from lenddesk.core.policy import ChannelsPolicy
from lenddesk.desk import service as desk
from lenddesk.desk.models import Message, OutboxMessage, Ticket, TicketEvent
from tests.channels.conftest import NOW
from tests.support.servers import ImapServer, SmtpServer, start_dovecot, start_smtp

FROM_ADDRESS = "kefu@lenddesk.example"
DOMAIN = "lenddesk.example"
ADMIN = audit.Actor.system("tests")


@pytest.fixture(scope="module")
def imap() -> Iterator[ImapServer]:
    server = start_dovecot()
    yield server
    server.stop()


def configure_mail(
    session: Session,
    *,
    imap: ImapServer | None = None,
    smtp: SmtpServer | None = None,
    folder: str = "INBOX",
    smtp_security: str | None = None,
    smtp_password: str | None = None,
) -> None:
    values: dict[str, object] = {"from_address": FROM_ADDRESS, "smtp_host": "127.0.0.1", "smtp_port": 9}
    if imap is not None:
        values.update(
            imap_host="127.0.0.1",
            imap_port=imap.port,
            imap_security="starttls",
            username=imap.username,
            password=imap.password,
            folder=folder,
            tls_ca_file=str(imap.ca_file),
        )
    if smtp is not None:
        values.update(
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            smtp_security=smtp_security or smtp.security,
            smtp_username=smtp.username,
            smtp_password=smtp_password or smtp.password,
            tls_ca_file=str(smtp.ca_file),
        )
    service.save_settings(session, channel="email", values=values, actor=ADMIN, now=NOW)
    session.commit()


def mail(sender: str, subject: str, text: str = "您好", **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, FROM_ADDRESS, subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


GBK_MAIL = (
    b"From: =?GBK?B?wO7L5A==?= <Li.Si@Example.com>\r\n"
    b"To: kefu@lenddesk.example\r\n"
    b"Subject: =?GB2312?B?u9i4tLmktaU=?=\r\n"
    b"Message-ID: <gbk-1@mail.example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: text/plain; charset="gb2312"\r\n'
    b"Content-Transfer-Encoding: 8bit\r\n\r\n"
) + "请问我这个月还多少钱？镕".encode("gbk")


def bounce_of(outbox_id: int, number: str) -> bytes:
    original = outbound_message_id(outbox_id, number, DOMAIN)
    return (
        "From: MAILER-DAEMON@mx.example.com\r\n"
        "To: kefu@lenddesk.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-1@mx.example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"\r\n\r\n'
        "--dsn\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--dsn\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n\r\n"
        "Final-Recipient: rfc822; zhangwei@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "--dsn\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {original}\r\nTo: zhangwei@example.com\r\n"
        "--dsn--\r\n"
    ).encode()


def open_ticket(session: Session, sender: str, message_id: str, text: str = "我想查询还款计划") -> str:
    inbound = service.take_in(
        session, channel="email", message_id=message_id, sender=sender, text=text, received_at=NOW, now=NOW
    )
    session.commit()
    return inbound.ticket_number


def queue_reply(session: Session, number: str, text: str = "您好，已为您查询。") -> int:
    desk.reply(session, actor=ADMIN, number=number, text=text, macro_code=None, now=NOW)
    session.commit()
    return session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id.desc())).first() or 0


def inbound_texts(session: Session, number: str) -> list[str]:
    session.expire_all()
    return list(
        session.scalars(
            select(Message.text)
            .join(Ticket, Ticket.id == Message.ticket_id)
            .where(Ticket.number == number, Message.direction == "in")
            .order_by(Message.id)
        )
    )


def poll_by_cli(db_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        "[channels]\nemail_attachment_max_bytes = 1024\n\n[channels.hours.email]\nalways_open = true\n"
    )
    env = {**os.environ, "LENDDESK_DATABASE_URL": db_url, "LENDDESK_POLICY_FILE": str(policy)}
    return subprocess.run(
        [sys.executable, "-m", "lenddesk.cli", "channels", "email-poll", "--once"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_email_poll_takes_every_kind_of_mail_from_a_real_imap_server_to_the_right_place(
    imap: ImapServer,
    session: Session,
    desk_data: dict[str, int],
    borrower: object,
    db_url: str,
    tmp_path: Path,
) -> None:
    folder = "poll-all-kinds"
    configure_mail(session, imap=imap, folder=folder)
    number = open_ticket(session, "zhangwei@example.com", "<first@mail.example.com>")
    answered = queue_reply(session, number)
    bounced = queue_reply(session, number, "第二条回复")
    session.execute(update(OutboxMessage).where(OutboxMessage.id == bounced).values(status="delivered"))
    session.commit()

    html_only = EmailMessage()
    html_only["From"], html_only["Subject"] = "wang@example.com", "还款问题"
    html_only.set_content("<p>还款<b>失败</b></p><script>steal()</script>", subtype="html")
    with_attachments = mail("zhao@example.com", "回单", "附件是回单")
    with_attachments.add_attachment(
        b"%PDF-1.4 ok", maintype="application", subtype="pdf", filename="回单.pdf"
    )
    with_attachments.add_attachment(
        b"\x89PNG" + b"x" * 2048, maintype="image", subtype="png", filename="big.png"
    )
    disallowed = mail("qian@example.com", "截图", "见附件")
    disallowed.add_attachment(b"MZ" * 10, maintype="application", subtype="x-msdownload", filename="a.exe")
    our_id = outbound_message_id(answered, number, DOMAIN)
    threaded_reply = mail(
        "ZhangWei@example.com", "Re: 客服回复", "谢谢，还有一个问题", In_Reply_To=our_id, References=our_id
    )
    by_subject = mail("zhangwei@example.com", f"[{number}] 补充", "补充一下：我上月已还")
    auto_reply = mail(
        "zhangwei@example.com", f"[{number}] 自动回复：休假中", "我正在休假", Auto_Submitted="auto-replied"
    )
    for raw in (
        GBK_MAIL,
        bytes(html_only),
        bytes(with_attachments),
        bytes(disallowed),
        bytes(threaded_reply),
        bytes(by_subject),
        bytes(auto_reply),
        bounce_of(bounced, number),
    ):
        imap.append(raw, folder)

    result = poll_by_cli(db_url, tmp_path)

    assert result.returncode == 0, result.stderr
    assert "mail taken in: 8" in result.stdout
    assert imap.unseen(folder) == []  # each mail is marked seen once it is committed
    assert inbound_texts(session, number) == [
        "我想查询还款计划",
        "谢谢，还有一个问题",
        "补充一下：我上月已还",
    ]
    tickets = dict(session.execute(select(Ticket.sender, Ticket.number)).all())
    assert set(tickets) == {
        "zhangwei@example.com",
        "li.si@example.com",
        "wang@example.com",
        "zhao@example.com",
        "qian@example.com",
    }
    assert inbound_texts(session, tickets["li.si@example.com"]) == ["请问我这个月还多少钱？镕"]
    assert inbound_texts(session, tickets["wang@example.com"]) == ["还款失败"]
    [zhao_text] = inbound_texts(session, tickets["zhao@example.com"])
    assert zhao_text.startswith("附件是回单") and "big.png" in zhao_text and "超过 1024 字节" in zhao_text
    kept = session.execute(select(ChannelAttachment.ticket_number, ChannelAttachment.filename)).all()
    assert kept == [(tickets["zhao@example.com"], "回单.pdf")]
    [qian_text] = inbound_texts(session, tickets["qian@example.com"])
    assert "a.exe" in qian_text and "application/x-msdownload" in qian_text
    bounced_row = session.get(OutboxMessage, bounced)
    assert (
        bounced_row is not None
        and bounced_row.status == "failed"
        and "bounced" in (bounced_row.last_error or "")
    )
    activity = session.get(ChannelActivity, "email")
    assert activity is not None and activity.ignored_count == 2  # the auto-reply and the bounce

    again = poll_by_cli(db_url, tmp_path)  # nothing new: nothing changes
    assert again.returncode == 0 and "mail taken in: 0" in again.stdout
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in")) == 7


def test_a_mail_fetched_twice_is_taken_once(
    imap: ImapServer, session: Session, desk_data: dict[str, int], engine: Engine
) -> None:
    """A crash between the commit and the \\Seen flag fetches the mail again: it changes nothing."""
    from lenddesk.channels.inbox import poll_mailbox

    folder = "fetched-twice"
    configure_mail(session, imap=imap, folder=folder)
    raw = bytes(mail("sun@example.com", "你好", "第一封", Message_ID="<twice@mail.example.com>"))
    imap.append(raw, folder)
    imap.append(raw, folder)
    factory = session_factory(engine)
    assert poll_mailbox(factory, policy=ChannelsPolicy(), once=True) == 2
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in")) == 1


@pytest.mark.parametrize("security", ["starttls", "ssl", "none"])
def test_an_answer_goes_out_through_a_real_smtp_server_threaded_under_the_borrowers_last_mail(
    security: str, session: Session, desk_data: dict[str, int], engine: Engine
) -> None:
    smtp = start_smtp(security)
    try:
        configure_mail(session, smtp=smtp)
        number = open_ticket(session, "zhangwei@example.com", "<m1@mail.example.com>")
        open_ticket(session, "zhangwei@example.com", "<m2@mail.example.com>", text="还有一个问题")
        outbox_id = queue_reply(session, number, "您好，还款方式请见附件说明。")

        counts = deliver(engine)

        assert counts == {"delivered": 1}
        [sent] = smtp.messages()
        our_id = outbound_message_id(outbox_id, number, DOMAIN)
        assert sent["Message-ID"] == our_id
        assert sent["In-Reply-To"] == "<m2@mail.example.com>"
        assert "<m2@mail.example.com>" in sent["References"].split()
        assert sent["To"] == "zhangwei@example.com" and sent["From"] == FROM_ADDRESS
        assert f"[{number}]" in sent["Subject"] and sent["Auto-Submitted"] is None
        assert sent.get_content().strip() == "您好，还款方式请见附件说明。"
        assert smtp.received[0].rcpt_tos == ["zhangwei@example.com"]
        session.expire_all()
        row = session.get(OutboxMessage, outbox_id)
        assert row is not None and row.status == "delivered" and row.provider_message_id == our_id
        timeline = session.scalars(
            select(TicketEvent.body).where(TicketEvent.kind == "delivery").order_by(TicketEvent.id)
        ).all()
        assert timeline == ["已送达"]
    finally:
        smtp.stop()


def test_the_delivery_command_sends_a_resolved_tickets_survey_as_a_link_not_a_reference(
    session: Session, desk_data: dict[str, int], db_url: str, tmp_path: Path
) -> None:
    """`lenddesk desk deliver` in a process of its own draws the survey's link, as the server does."""
    from lenddesk.feedback import service as feedback  # this process: the survey on resolution
    from lenddesk.feedback.models import Survey

    smtp = start_smtp("starttls")
    try:
        configure_mail(session, smtp=smtp)
        number = open_ticket(session, "zhangwei@example.com", "<survey@mail.example.com>")
        resolved_at = utcnow()  # the process below reads the real clock: the survey must be current
        desk.change_status(
            session, actor=ADMIN, number=number, status="resolved", reason="已解答", now=resolved_at
        )
        session.commit()
        queued = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "survey"))
        assert queued is not None and queued.body.startswith("survey:")

        env = {**os.environ, "LENDDESK_DATABASE_URL": db_url}
        command = [sys.executable, "-m", "lenddesk.cli", "desk", "deliver", "--log-dir", str(tmp_path)]
        run = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)

        assert run.returncode == 0, run.stderr
        assert "delivered: 1" in run.stdout
        [sent] = smtp.messages()
        body = sent.get_content()
        assert "survey:" not in body
        link = re.search(r"/survey/([A-Za-z0-9_-]{40,})", body)
        assert link is not None and sent["To"] == "zhangwei@example.com"
        session.expire_all()
        survey = session.scalar(select(Survey).where(Survey.status == "sent"))
        assert survey is not None and survey.token_hash == feedback.token_hash(link.group(1))
    finally:
        smtp.stop()


@pytest.mark.parametrize(
    ("server_security", "configured_security", "password"),
    [("starttls", "starttls", "wrong-password"), ("starttls", "none", None)],
)
def test_a_refused_login_or_a_missing_starttls_sends_nothing_and_retries(
    server_security: str,
    configured_security: str,
    password: str | None,
    session: Session,
    desk_data: dict[str, int],
    engine: Engine,
) -> None:
    smtp = start_smtp(server_security)
    try:
        configure_mail(session, smtp=smtp, smtp_security=configured_security, smtp_password=password)
        number = open_ticket(session, "zhangwei@example.com", "<m1@mail.example.com>")
        outbox_id = queue_reply(session, number)
        assert deliver(engine) == {"retry": 1}
        assert smtp.received == []
        session.expire_all()
        row = session.get(OutboxMessage, outbox_id)
        assert row is not None and row.status == "queued" and "SMTP" in (row.last_error or "")
    finally:
        smtp.stop()


def deliver(engine: Engine) -> dict[str, int]:
    factory = session_factory(engine)
    with factory() as session:
        built = adapters.build_adapters(session, log_dir=Path("/nonexistent"))
    return dict(worker.run(factory, lambda: built, policy=ChannelsPolicy(), loop=False, clock=lambda: NOW))


def test_idle_wakes_the_poller_when_mail_arrives(
    imap: ImapServer, session: Session, desk_data: dict[str, int], engine: Engine
) -> None:
    """Dovecot offers IDLE: a mail arriving while the poller waits is taken at once, not a poll later."""
    import threading
    import time

    from lenddesk.channels.inbox import poll_mailbox

    folder = "idle"
    configure_mail(session, imap=imap, folder=folder)
    imap.append(bytes(mail("zhou@example.com", "第一封", "在吗")), folder)
    taken: list[int] = []
    policy = ChannelsPolicy(email_poll_seconds=60)
    poller = threading.Thread(
        target=lambda: taken.append(
            poll_mailbox(session_factory(engine), policy=policy, once=False, max_rounds=2)
        )
    )
    started = time.monotonic()
    poller.start()
    while not inbound_count(session) and time.monotonic() - started < 30:
        time.sleep(0.1)
    assert inbound_count(session) == 1
    time.sleep(0.5)  # the poller is now waiting in IDLE
    imap.append(bytes(mail("wu@example.com", "第二封", "还款失败了")), folder)
    poller.join(timeout=45)
    assert taken == [2] and time.monotonic() - started < 40  # woken by IDLE, not the 60 s poll
    assert inbound_count(session) == 2


def inbound_count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in")) or 0


def test_a_mail_the_desk_refuses_is_set_aside_and_the_rest_still_land(
    imap: ImapServer, session: Session, desk_data: dict[str, int], engine: Engine
) -> None:
    """A mail without a sender cannot become a ticket; it must not stop the poller on every round."""
    from lenddesk.channels.inbox import poll_mailbox

    folder = "refused"
    configure_mail(session, imap=imap, folder=folder)
    imap.append(b"Subject: no sender\r\nMessage-ID: <nofrom@x>\r\n\r\nhello", folder)
    huge = "<lenddesk." + "9" * 40 + ".T20261124-000001@lenddesk.example>"
    imap.append(bytes(mail("zheng@example.com", "Re: 客服回复", "在吗", In_Reply_To=huge)), folder)
    assert poll_mailbox(session_factory(engine), policy=ChannelsPolicy(), once=True) == 1
    assert imap.unseen(folder) == []
    session.expire_all()
    assert session.scalars(select(Message.sender).where(Message.direction == "in")).all() == [
        "zheng@example.com"
    ]
    activity = session.get(ChannelActivity, "email")
    assert activity is not None and activity.ignored_count == 1
