"""IMAP inbound: fetch unseen mail (IDLE where the server offers it, polling otherwise), take each
message to the desk's intake in its own transaction, then mark it seen.

A crash between the commit and the \\Seen flag fetches the message again; intake knows its
Message-ID and changes nothing. Auto-replies and bounces are marked seen without a ticket (a bounce
of one of our messages marks that outbox message failed). A mail the desk refuses (no sender) is
marked seen and counted as ignored, so it cannot stop the poller on every round.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from imapclient import IMAPClient
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from lenddesk.channels import service
from lenddesk.channels.mail import AttachmentRules, ParsedMail, parse_mail, tls_context
from lenddesk.core.db import utcnow
from lenddesk.core.errors import LendDeskError
from lenddesk.core.policy import ChannelsPolicy
from lenddesk.desk import service as desk

log = logging.getLogger(__name__)


def attachment_rules(policy: ChannelsPolicy) -> AttachmentRules:
    return AttachmentRules(policy.email_attachment_max_bytes, frozenset(policy.email_attachment_types))


def take_mail(session: Session, mail: ParsedMail, *, now: datetime) -> str | None:
    """One parsed mail into the desk; the ticket number, or None for an auto-reply or a bounce."""
    if mail.automatic:
        if mail.bounced_outbox_id is not None:
            desk.record_receipt(
                session,
                channel="email",
                outbox_id=mail.bounced_outbox_id,
                delivered=False,
                error=f"bounced ({mail.automatic})",
                at=now,
                bounce=True,
            )
        service.count_ignored(session, channel="email", now=now)
        return None
    text = mail.text or mail.subject or "（空邮件）"
    if mail.refused_attachments:
        text += "\n\n[未保存的附件] " + "；".join(mail.refused_attachments)
    number, outbox_id = mail.thread() or (None, None)
    inbound = service.take_in(
        session,
        channel="email",
        message_id=mail.message_id,
        sender=mail.sender,
        text=text,
        received_at=now,
        now=now,
        thread_number=number,
        thread_outbox_id=outbox_id,
    )
    if inbound.outcome != "duplicate":
        service.store_attachments(
            session,
            ticket_number=inbound.ticket_number,
            message_id=mail.message_id,
            attachments=mail.attachments,
            now=now,
        )
    return inbound.ticket_number


def take_raw_mail(
    session_factory: sessionmaker[Session], raw: bytes, *, policy: ChannelsPolicy, now: datetime
) -> str | None:
    mail = parse_mail(raw, attachment_rules(policy))
    for attempt in (1, 2):
        with session_factory() as session:
            try:
                number = take_mail(session, mail, now=now)
                session.commit()
                return number
            except IntegrityError:  # the same mail taken by a parallel poller: the retry sees it
                session.rollback()
                if attempt == 2:
                    raise
    return None


def _connect(settings: dict[str, Any]) -> IMAPClient:
    security = settings.get("imap_security", "ssl")
    context = tls_context(settings)
    client = IMAPClient(
        settings["imap_host"],
        port=int(settings["imap_port"]),
        ssl=security == "ssl",
        ssl_context=context,
        timeout=30,
    )
    if security == "starttls":
        client.starttls(context)
    client.login(settings["username"], settings["password"])
    client.select_folder(settings.get("folder") or "INBOX")
    return client


def fetch_unseen(
    client: IMAPClient, session_factory: sessionmaker[Session], *, policy: ChannelsPolicy
) -> int:
    taken = 0
    for uid in client.search(["UNSEEN"]):
        fetched = client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {})
        raw = fetched.get(b"BODY[]")
        if raw is None:
            continue
        try:
            take_raw_mail(session_factory, raw, policy=policy, now=utcnow())
            taken += 1
        except LendDeskError as refused:  # e.g. no sender: left seen in the mailbox for a person
            log.warning("mail %s refused by the desk: %s", uid, refused.message_en)
            with session_factory() as session:
                service.count_ignored(session, channel="email", now=utcnow())
                session.commit()
        client.add_flags([uid], [b"\\Seen"])
    return taken


def poll_mailbox(
    session_factory: sessionmaker[Session],
    *,
    policy: ChannelsPolicy,
    once: bool,
    max_rounds: int | None = None,
) -> int:
    with session_factory() as session:
        settings = service.channel_settings(session, "email")
    if not settings or not settings.get("imap_host"):
        return 0
    client = _connect(settings)
    taken, rounds = 0, 0
    try:
        idle = b"IDLE" in client.capabilities()
        while True:
            taken += fetch_unseen(client, session_factory, policy=policy)
            rounds += 1
            if once or (max_rounds is not None and rounds >= max_rounds):
                return taken
            if idle:
                client.idle()
                client.idle_check(timeout=policy.email_poll_seconds)
                client.idle_done()
            else:
                client.noop()
                _sleep(policy.email_poll_seconds)
    finally:
        client.logout()


def _sleep(seconds: float) -> None:
    import time

    time.sleep(seconds)
