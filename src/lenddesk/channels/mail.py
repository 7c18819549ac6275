"""E-mail protocol: MIME parsing, threading, loop protection, SMTP sending (no business rules).

* Charsets: GB2312 and GBK are read as GB18030 (their superset: mail labelled GB2312 often holds
  GBK characters); undecodable bytes become U+FFFD rather than failing the message.
* Text: the plain part when there is one, else the HTML part with its tags removed.
* Attachments: kept only below the size limit and of an allowed content type; the others are named
  in the text as not kept.
* Loops: auto-replies (Auto-Submitted other than "no", Precedence bulk/junk/list/auto_reply,
  X-Autoreply, X-Autorespond), bounces (multipart/report delivery-status, mailer-daemon senders,
  an empty Return-Path) never become tickets and are never answered.
* Threading: our Message-IDs carry the ticket number (`<lenddesk.<outbox id>.<ticket>@<domain>>`), so
  In-Reply-To / References find the ticket; otherwise the subject's `[T20261130-000123]`.
"""

from __future__ import annotations

import contextlib
import email
import email.header
import email.policy
import hashlib
import re
import smtplib
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import formatdate, getaddresses, parseaddr
from html.parser import HTMLParser

TICKET_NUMBER = re.compile(r"\[?(T\d{8}-\d{6})\]?", re.IGNORECASE)
OUR_MESSAGE_ID = re.compile(r"<lenddesk\.(\d{1,18})\.(T\d{8}-\d{6})@[^>]+>", re.IGNORECASE)
_GB_FAMILY = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
}
_AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_DAEMON = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|no-?reply)@", re.IGNORECASE)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    sender: str
    subject: str
    text: str
    in_reply_to: str
    references: tuple[str, ...]
    attachments: tuple[Attachment, ...] = ()
    refused_attachments: tuple[str, ...] = ()
    automatic: str | None = None  # why this is an auto-reply or a bounce; None for a person's mail
    bounced_outbox_id: int | None = None  # the outbound message a bounce reports on

    def thread(self) -> tuple[str, int | None] | None:
        """The ticket this mail says it answers, with the outbox id of our message it answers: our
        Message-ID in its In-Reply-To/References, else the subject's number (no message of ours).
        A claim only: the desk's intake follows it for the ticket's own correspondent alone."""
        for reference in (self.in_reply_to, *reversed(self.references)):
            found = OUR_MESSAGE_ID.search(reference or "")
            if found:
                return found.group(2).upper(), int(found.group(1))
        found = TICKET_NUMBER.search(self.subject)
        return (found.group(1).upper(), None) if found else None

    def ticket_number(self) -> str | None:
        thread = self.thread()
        return thread[0] if thread else None


@dataclass(frozen=True)
class AttachmentRules:
    max_bytes: int = 10 * 1024 * 1024
    allowed_types: frozenset[str] = field(
        default_factory=lambda: frozenset(
            {"image/jpeg", "image/png", "image/gif", "application/pdf", "text/plain"}
        )
    )


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "li", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    return re.sub(r"\n\s*\n+", "\n\n", "".join(parser.parts)).strip()


def _decode(part: Message) -> str:
    payload = part.get_payload(decode=True) or b""
    charset = (part.get_content_charset() or "utf-8").lower()
    charset = _GB_FAMILY.get(charset, charset)
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return payload.decode("utf-8", errors="replace")


def _header(message: Message, name: str) -> str:
    value = message.get(name)
    if value is None:
        return ""
    try:
        return str(value).strip()
    except Exception:  # a header the policy could not parse: keep its raw text
        return str(message.get_all(name, [""])[0]).strip()


def automatic_reason(message: Message, sender: str) -> str | None:
    auto_submitted = _header(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    if _header(message, "Precedence").lower() in _AUTO_PRECEDENCE:
        return f"Precedence: {_header(message, 'Precedence').lower()}"
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return "X-Autoreply"
    if message.get_content_type() == "multipart/report":
        return "delivery status report"
    if _DAEMON.match(sender):
        return f"sender {sender}"
    if _header(message, "Return-Path") == "<>":
        return "empty Return-Path"
    return None


def _bounced_outbox_id(message: Message) -> int | None:
    """The outbox id of our message a bounce reports on (its original headers carry our Message-ID)."""
    for part in message.walk():
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers", "message/delivery-status"):
            raw = part.as_string() if part.is_multipart() else str(part.get_payload())
            found = OUR_MESSAGE_ID.search(raw)
            if found:
                return int(found.group(1))
    found = OUR_MESSAGE_ID.search(_header(message, "In-Reply-To") + _header(message, "References"))
    return int(found.group(1)) if found else None


def parse_mail(raw: bytes, rules: AttachmentRules = AttachmentRules()) -> ParsedMail:
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    sender = parseaddr(_decoded_header(message, "From"))[1].strip().lower()
    subject = _decoded_header(message, "Subject")
    message_id = _bounded_message_id(_header(message, "Message-ID"), raw)
    plain, html, attachments, refused = [], [], [], []
    for part in message.walk():
        if part.is_multipart():
            continue
        disposition = (part.get("Content-Disposition") or "").lower()
        content_type = part.get_content_type()
        filename = part.get_filename()
        if filename or disposition.startswith("attachment"):
            _keep_attachment(part, filename or "attachment", content_type, rules, attachments, refused)
        elif content_type == "text/plain":
            plain.append(_decode(part))
        elif content_type == "text/html":
            html.append(html_to_text(_decode(part)))
    text = "\n".join(plain).strip() or "\n".join(html).strip()
    automatic = automatic_reason(message, sender)
    return ParsedMail(
        message_id=message_id,
        sender=sender,
        subject=subject,
        text=text,
        in_reply_to=_header(message, "In-Reply-To"),
        references=tuple(_header(message, "References").split()),
        attachments=tuple(attachments),
        refused_attachments=tuple(refused),
        automatic=automatic,
        bounced_outbox_id=_bounced_outbox_id(message) if automatic else None,
    )


def _bounded_message_id(header: str, raw: bytes) -> str:
    """The Message-ID as the desk keeps it (128 characters at most); a mail without one (or with
    an overlong one) is named by its content's hash, so a fetch repeated finds the same id."""
    found = re.search(r"<[^<>\s]{1,126}>", header)
    if found:
        return found.group(0)
    return "<sha256." + hashlib.sha256(header.encode() if header else raw).hexdigest() + "@local>"


def _decoded_header(message: Message, name: str) -> str:
    raw = message.get(name)
    if raw is None:
        return ""
    pieces = []
    for value, charset in email.header.decode_header(str(raw)):
        if isinstance(value, bytes):
            codec = _GB_FAMILY.get((charset or "utf-8").lower(), charset or "utf-8")
            try:
                pieces.append(value.decode(codec, errors="replace"))
            except LookupError:
                pieces.append(value.decode("utf-8", errors="replace"))
        else:
            pieces.append(value)
    return "".join(pieces).strip()


def _keep_attachment(
    part: Message,
    filename: str,
    content_type: str,
    rules: AttachmentRules,
    kept: list[Attachment],
    refused: list[str],
) -> None:
    data = part.get_payload(decode=True) or b""
    name = _decoded_filename(filename)
    if content_type not in rules.allowed_types:
        refused.append(f"{name}（类型 {content_type} 不接收）")
    elif len(data) > rules.max_bytes:
        refused.append(f"{name}（{len(data)} 字节，超过 {rules.max_bytes} 字节上限）")
    else:
        kept.append(Attachment(name, content_type, data))


def _decoded_filename(filename: str) -> str:
    pieces = email.header.decode_header(filename)
    text = "".join(
        value.decode(_GB_FAMILY.get((charset or "utf-8").lower(), charset or "utf-8"), errors="replace")
        if isinstance(value, bytes)
        else value
        for value, charset in pieces
    )
    return re.sub(r"[\\/\x00-\x1f]", "_", text)[:200] or "attachment"


def thread_ids(references: str) -> list[str]:
    return [address for _name, address in getaddresses([references]) if address]


# --- SMTP -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str  # ssl, starttls, none
    username: str
    password: str
    from_address: str
    timeout: float = 20.0

    @property
    def domain(self) -> str:
        return self.from_address.rsplit("@", 1)[-1] or "lenddesk.local"


def tls_context(settings: dict[str, object]) -> ssl.SSLContext:
    """Certificates checked against the system's CAs, or only the mail server's own CA when
    `tls_ca_file` names one (a private CA)."""
    return ssl.create_default_context(cafile=str(settings.get("tls_ca_file") or "") or None)


def outbound_message_id(outbox_id: int, ticket_number: str | None, domain: str) -> str:
    return f"<lenddesk.{outbox_id}.{ticket_number or 'T00000000-000000'}@{domain}>"


def build_reply(
    config: SmtpConfig,
    *,
    outbox_id: int,
    recipient: str,
    body: str,
    ticket_number: str | None,
    in_reply_to: str | None,
    automatic: bool,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config.from_address
    message["To"] = recipient
    message["Subject"] = f"[{ticket_number}] 客服回复" if ticket_number else "客服回复"
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = outbound_message_id(outbox_id, ticket_number, config.domain)
    if in_reply_to:  # the borrower's mail client threads the answer under their last mail
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    if automatic:  # RFC 3834: an automatic reply, so the borrower's own auto-responder stays quiet
        message["Auto-Submitted"] = "auto-replied"
    message.set_content(body, charset="utf-8")
    return message


class SmtpSender:
    """One SMTP connection, opened on first use and again after a failure (STARTTLS/SSL, AUTH)."""

    def __init__(self, config: SmtpConfig, *, tls_context: ssl.SSLContext | None = None) -> None:
        self.config = config
        self.tls_context = tls_context or ssl.create_default_context()
        self._connection: smtplib.SMTP | None = None
        self._lock = threading.Lock()

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        if config.security == "ssl":
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                config.host, config.port, timeout=config.timeout, context=self.tls_context
            )
        else:
            connection = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
            if config.security == "starttls":
                connection.starttls(context=self.tls_context)
        if config.username:
            connection.login(config.username, config.password)
        return connection

    def send(self, message: EmailMessage) -> None:
        """Raises smtplib.SMTPException or OSError; SMTPRecipientsRefused means a bad address."""
        with self._lock:
            for attempt in (1, 2):
                if self._connection is None:
                    self._connection = self._connect()
                try:
                    self._connection.send_message(message)
                    return
                except smtplib.SMTPServerDisconnected:
                    self._connection = None
                    if attempt == 2:
                        raise

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    self._connection.quit()
                self._connection = None
