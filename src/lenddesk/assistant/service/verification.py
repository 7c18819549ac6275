"""Verification in the chat and the account answers it unlocks.

The desk's verification on the session's ticket: the knowledge check (name, last six of the ID
number, registered phone) identifies the borrower, then a one-time code goes by SMS to the
registered phone (desk `send_otp` / `check_otp`, with their attempt and send limits). Account
answers go only to the session that passed the code, while the ticket's strong level holds.
Unverified, the bot says how to verify and nothing else: never an amount, a date, or whether a
phone number has a loan. Details that match nothing (a wrong name, an unknown phone) are answered
exactly as if a code had been sent to the phone given, and nothing is sent: the session waits for a
code in the state `decoy<n>` (n: wrong codes so far), refusing codes as a real challenge would
(policy otp_attempts). Failures count per borrower, phone and client address across sessions
(desk `verify_knowledge`); past a limit every check is refused alike, a right answer included.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from sqlalchemy.orm import Session

from lenddesk.assistant import replies
from lenddesk.assistant.service._common import sender_of
from lenddesk.assistant.store import ChatState
from lenddesk.assistant.understanding import Understanding
from lenddesk.core import audit
from lenddesk.core.calendar import business_date
from lenddesk.core.errors import Forbidden, LendDeskError
from lenddesk.core.money import format_fen
from lenddesk.core.pii import mask_mobile, normalise_mobile
from lenddesk.desk import service as desk
from lenddesk.ledger import service as ledger

ASSISTANT = audit.Actor.system("assistant")
_START = frozenset(
    {"验证", "验证身份", "身份验证", "我要验证", "开始验证", "核验身份", "核实身份", "验证码验证"}
)
_CANCEL = frozenset({"取消", "取消验证", "退出", "退出验证", "算了", "不验证了"})
_NAME = re.compile(r"[\u4e00-\u9fff·]{2,6}")
_ID6 = re.compile(r"(?<![0-9])\d{5}[0-9x](?![0-9])", re.IGNORECASE)
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_CODE = re.compile(r"\d{4,10}")
_LABELS = re.compile(r"我叫|我是|姓名|名字|身份证号?码?|后六位|后6位|注册|手机号?码?|电话|号码|是|[:：,，]")


def asks_to_verify(normalised: str) -> bool:
    return normalised in _START


def start(chat: ChatState) -> str:
    chat.state = "identity"
    return replies.VERIFY_START


def _ensure_ticket(session: Session, chat: ChatState, now: datetime) -> str:
    """The session's ticket, opened through the desk's intake when the chat has none yet."""
    if chat.ticket_number is None:
        result = desk.intake(
            session,
            channel="chat",
            channel_message_id=f"assistant:{chat.public_id}:verify:{chat.last_seq}",
            sender=sender_of(chat.public_id),
            text="【智能助手】在线客服身份验证（客户申请查询本人账户信息）",
            received_at=now,
            now=now,
            actor=ASSISTANT,
        )
        chat.ticket_id, chat.ticket_number = result.ticket_id, result.ticket_number
    return chat.ticket_number


DECOY = "decoy"


def in_progress(state: str) -> bool:
    return state in ("identity", "code") or state.startswith(DECOY)


def continue_verification(
    session: Session, chat: ChatState, u: Understanding, *, address: str, now: datetime
) -> str | None:
    """The next step of a verification in progress; None when the message is about something else."""
    if u.normalised in _CANCEL:
        chat.state = "bot"
        return replies.VERIFY_CANCELLED
    plain = unicodedata.normalize("NFKC", u.text)
    if chat.state == "identity":
        return _identity_step(session, chat, plain, address=address, now=now)
    code = plain.strip()
    if not _CODE.fullmatch(code):
        if _MOBILE.search(plain) and _ID6.search(_MOBILE.sub(" ", plain)):  # the details again
            return _identity_step(session, chat, plain, address=address, now=now)
        return None
    if chat.state.startswith(DECOY):
        return _decoy_code_step(chat)
    return _code_step(session, chat, code, now=now)


def _decoy_code_step(chat: ChatState) -> str:
    """A code for a session whose details matched nothing: refused as a real challenge refuses it."""
    wrong = int(chat.state.removeprefix(DECOY) or 0) + 1
    left = desk.desk_policy().otp_attempts - wrong
    if left > 0:
        chat.state = f"{DECOY}{wrong}"
        return replies.CODE_WRONG.format(left=left)
    chat.state = "bot"
    return replies.CODE_VOID


def _as_if_sent(chat: ChatState, mobile: str) -> str:
    chat.state = f"{DECOY}0"
    masked = mask_mobile(normalise_mobile(mobile))
    return replies.CODE_SENT.format(masked=masked, minutes=desk.desk_policy().otp_minutes)


def _identity_step(
    session: Session, chat: ChatState, plain: str, *, address: str, now: datetime
) -> str | None:
    mobile, id6 = _MOBILE.search(plain), _ID6.search(_MOBILE.sub(" ", plain))
    name = _NAME.search(_LABELS.sub(" ", plain))
    if not (mobile or id6):
        chat.state = "bot"  # a question, not the details: answer it as usual
        return None
    if not (mobile and id6 and name):
        return replies.VERIFY_START
    number = _ensure_ticket(session, chat, now)
    try:
        outcome = desk.verify_knowledge(
            session,
            actor=ASSISTANT,
            number=number,
            name=name.group(0),
            id_last6=id6.group(0),
            contract_number=None,
            phone=mobile.group(0),
            now=now,
            address=address,
        )
    except Forbidden:
        chat.state = "bot"
        return replies.VERIFY_LOCKED
    if not outcome.verified:
        return _as_if_sent(chat, mobile.group(0))
    try:
        sent = desk.send_otp(session, actor=ASSISTANT, number=number, now=now)
    except LendDeskError as refused:
        chat.state = "bot"
        return refused.message_zh
    chat.state = "code"
    return replies.CODE_SENT.format(masked=sent.sent_to, minutes=desk.desk_policy().otp_minutes)


def _code_step(session: Session, chat: ChatState, code: str, *, now: datetime) -> str:
    assert chat.ticket_number is not None
    try:
        outcome = desk.check_otp(session, actor=ASSISTANT, number=chat.ticket_number, code=code, now=now)
    except LendDeskError as refused:
        return refused.message_zh
    if outcome.verified:
        chat.state, chat.verified_at = "bot", now
        return f"{replies.VERIFIED}\n{_account_text(session, chat, intent='repay_amount', now=now)}"
    if outcome.reason == "wrong" and outcome.attempts_left:
        return replies.CODE_WRONG.format(left=outcome.attempts_left)
    chat.state = "bot"
    return replies.CODE_VOID


def is_verified(session: Session, chat: ChatState, now: datetime) -> bool:
    if chat.verified_at is None or chat.ticket_number is None:
        return False
    ticket = desk.get_ticket(session, number=chat.ticket_number)
    return desk.effective_level(session, ticket, now) == "strong"


def account_answer(session: Session, chat: ChatState, u: Understanding, *, now: datetime) -> str:
    if not is_verified(session, chat, now):
        return replies.NEEDS_VERIFICATION
    return _account_text(session, chat, intent=u.intent, now=now)


def _chinese_date(day: object) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else "—"  # type: ignore[attr-defined]


def _account_text(session: Session, chat: ChatState, *, intent: str, now: datetime) -> str:
    """Due amounts and dates, or today's settlement figure, from the ledger; noted on the ticket."""
    assert chat.ticket_number is not None
    ticket = desk.get_ticket(session, number=chat.ticket_number)
    summary = desk.account_details(session, ticket=ticket, now=now)
    open_loans = [loan for loan in summary.loans if loan.status in ("current", "overdue")]
    if not open_loans:
        text = "您名下目前没有未结清的借款。"
    else:
        lines = []
        for loan in open_loans:
            line = (
                f"合同 {loan.contract_number}：下一期 {_chinese_date(loan.next_due_on)} 应还 "
                f"{format_fen(loan.next_due_amount_fen)} 元，"
                f"剩余本金 {format_fen(loan.outstanding_principal_fen)} 元"
            )
            if loan.overdue_amount_fen:
                line += f"，已逾期 {loan.days_past_due} 天，逾期应还 {format_fen(loan.overdue_amount_fen)} 元"
            if intent == "early_repay":
                quote = ledger.settlement_quote(
                    session, contract_number=loan.contract_number, on=business_date(now)
                )
                line += f"；今天全部结清需还 {format_fen(quote.total_fen)} 元（已含应计利息和手续费）"
            lines.append(line + "。")
        text = "\n".join(lines)
    desk.add_note(
        session,
        actor=ASSISTANT,
        number=chat.ticket_number,
        text=f"智能助手已向通过短信验证的客户答复账户信息（{intent}）。",
        now=now,
    )
    return text
