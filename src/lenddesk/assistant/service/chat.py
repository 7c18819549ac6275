"""A borrower's message on the web chat: understand it, answer, warn, verify or hand off.

The write path (assistant/store.py): the message is understood before anything is locked (pure,
~1 ms) against this process's cached knowledge base; then one upsert creates or locks the session row,
counts the message for the session and reserves its two numbers, and tells the knowledge base's
version (understood again in the rare case an admin has just changed it); the address is counted
(429 past either limit, nothing kept); the borrower's line and the answer go in with one INSERT in
the caller's transaction. A handoff opens (or joins) the desk ticket through the desk's intake, so
the desk's routing, SLA and categorisation apply; after the handoff every borrower message joins
that ticket too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.assistant import dialogue, engine, replies, store
from lenddesk.assistant.intents import INTENTS
from lenddesk.assistant.knowledge import fill
from lenddesk.assistant.models import ChatMessage
from lenddesk.assistant.normalise import clean_for_storage
from lenddesk.assistant.service import official, verification
from lenddesk.assistant.service._common import (
    answer_values,
    check_public_id,
    knowledge,
    policy,
    sender_of,
)
from lenddesk.assistant.store import ChatState
from lenddesk.assistant.understanding import Understanding
from lenddesk.core import audit, throttle
from lenddesk.core.calendar import CalendarUnknownYear, to_shanghai
from lenddesk.core.errors import LendDeskError, Unprocessable
from lenddesk.core.policy import calendar_from_policy, get_policy
from lenddesk.desk import service as desk
from lenddesk.desk import sla

ASSISTANT = audit.Actor.system("assistant")
WEEKDAYS = "一二三四五六日"


class TooManyMessages(LendDeskError):
    status_code = 429
    default_code = "chat_rate_limited"


@dataclass(frozen=True)
class ChatOutcome:
    session_id: str
    reply: str
    intent: str
    confidence: float
    emotion: str
    handoff: bool
    risk_flags: list[str]
    ticket_number: str | None
    message_seq: int
    reply_seq: int | None


# --- rate limits ------------------------------------------------------------------------------------


def _too_many() -> TooManyMessages:
    return TooManyMessages(
        "消息发送过于频繁，请稍后再试", "Too many messages; try again later", code="chat_rate_limited"
    )


def _check_limits(session: Session, opened: store.Opened, *, address: str, now: datetime) -> None:
    """The session's count (on its row) and the address's count in this window, or a 429; the
    caller's rollback then undoes both counts and everything else."""
    minutes = get_policy().auth.throttle_minutes  # the shared counters' window (core/throttle.py)
    window = throttle.Window.at(now, minutes)
    if window.estimate(opened.rate_previous, opened.rate_count) > policy().session_messages_per_window:
        raise _too_many()
    key = f"chat-a:{address}"[:64]
    if store.count_address(session, key=key, window=window, minutes=minutes) > (
        policy().address_messages_per_window
    ):
        raise _too_many()


# --- the use case -----------------------------------------------------------------------------------


def post_message(session: Session, *, public_id: str, text: str, address: str, now: datetime) -> ChatOutcome:
    """A borrower's chat message and the assistant's answer (the caller commits)."""
    check_public_id(public_id)
    text = clean_for_storage(text)[: policy().message_max_chars]
    if not text:
        raise Unprocessable("消息内容不能为空", "The message must not be empty", code="empty_text")
    version, knowledge_base = engine.cached_knowledge()
    u = engine.understand_text(text, knowledge_base)  # before the lock: pure, ~1 ms
    window = throttle.Window.at(now, get_policy().auth.throttle_minutes)
    opened = store.open_for_message(
        session, public_id=public_id, address=address, window=window.number, now=now
    )
    _check_limits(session, opened, address=address, now=now)
    if opened.knowledge_version != version:  # an admin changed the FAQ since this process's index
        u = engine.understand_text(text, knowledge(session, opened.knowledge_version))
    chat = opened.chat
    before = chat.snapshot()
    message_seq = chat.last_seq - 1  # the answer's number is reserved after it
    chat.last_seq = message_seq
    borrower_line = store.line(
        chat,
        message_seq,
        author="borrower",
        text=text,
        now=now,
        intent=u.intent,
        confidence=round(u.confidence, 4),
        emotion=u.emotion.label,
        risk_flags=u.risk_flags,
        faq_code=u.entry.code if u.entry else None,
    )
    if u.scam.suspected:
        chat.risk_flags = sorted({*(chat.risk_flags or []), *u.risk_flags})
    reply, handoff = _respond(
        session, chat, u, message_seq=message_seq, pending=borrower_line, address=address, now=now
    )
    lines = [borrower_line]
    reply_seq = None
    if reply:
        reply_seq = message_seq + 1
        lines.append(store.line(chat, reply_seq, author="bot", text=reply, now=now, intent=u.intent))
    chat.last_seq = reply_seq or message_seq
    store.insert_lines(session, lines)
    store.save_state(session, chat, before, now=now)
    return ChatOutcome(
        session_id=public_id,
        reply=reply,
        intent=u.intent,
        confidence=round(u.confidence, 4),
        emotion=u.emotion.label,
        handoff=handoff,
        risk_flags=u.risk_flags,
        ticket_number=chat.ticket_number,
        message_seq=message_seq,
        reply_seq=reply_seq,
    )


def _respond(
    session: Session,
    chat: ChatState,
    u: Understanding,
    *,
    message_seq: int,
    pending: dict[str, Any],
    address: str,
    now: datetime,
) -> tuple[str, bool]:
    """The reply text and whether the chat is (now) with a person. `pending`: the borrower's line,
    written with the answer after this."""
    if chat.state == "handed_off":
        return _after_handoff(session, chat, u, message_seq=message_seq, now=now)
    if verification.in_progress(chat.state) and not u.scam.suspected:
        handled = verification.continue_verification(session, chat, u, address=address, now=now)
        if handled is not None:
            return handled, False
    if verification.asks_to_verify(u.normalised) and not u.scam.suspected:
        return verification.start(chat), False
    assistant = policy()
    decision = dialogue.decide(
        u,
        misses=chat.misses,
        min_confidence=assistant.min_confidence,
        misses_before_handoff=assistant.misses_before_handoff,
    )
    chat.misses = chat.misses + 1 if decision.miss else 0
    if decision.handoff:
        reason = decision.handoff_reason or "asked"
        return _hand_off(session, chat, u, reason, message_seq=message_seq, pending=pending, now=now)
    if decision.ticket_reason is not None:
        return _fraud_ticket(
            session, chat, u, decision.ticket_reason, message_seq=message_seq, pending=pending, now=now
        )
    if decision.action == "rephrase":
        return replies.rephrase(_suggestions(u)), False
    if decision.action == "verify_official":
        return official.answer_in_chat(session, numbers=u.numbers, agent_ids=u.agent_ids), False
    if decision.action == "account":
        return verification.account_answer(session, chat, u, now=now), False
    return _faq_answer(session, u), False


def _faq_answer(session: Session, u: Understanding) -> str:
    if u.entry is None:
        return replies.rephrase([])
    return fill(u.entry.answer, answer_values(session))


def _suggestions(u: Understanding) -> list[str]:
    return [INTENTS[intent] for intent, _ in u.top if intent not in ("other", "chitchat")][:3]


# --- handoff ----------------------------------------------------------------------------------------


def _transcript(session: Session, chat: ChatState, pending: dict[str, Any]) -> str:
    """The last lines of the chat: those written, then the borrower's line not written yet."""
    rows = session.execute(
        select(ChatMessage.author, ChatMessage.text, ChatMessage.created_at)
        .where(ChatMessage.session_id == chat.id)
        .order_by(ChatMessage.seq.desc())
        .limit(policy().transcript_lines - 1)
    ).all()
    names = {"borrower": "客户", "bot": "智能助手", "agent": "客服", "system": "系统"}
    lines = [
        *reversed([(r.author, r.text, r.created_at) for r in rows]),
        (pending["author"], pending["text"], pending["created_at"]),
    ]
    return "\n".join(
        f"{to_shanghai(at):%H:%M} {names.get(author, author)}：{text}" for author, text, at in lines
    )


def _open_ticket(
    session: Session,
    chat: ChatState,
    u: Understanding,
    reason: str,
    *,
    message_seq: int,
    pending: dict[str, Any],
    now: datetime,
    handoff: bool,
) -> str:
    """A desk ticket with the transcript, intent and emotion (the desk's rules route it); its number."""
    flags = " ".join(chat.risk_flags or [])
    title = "【智能助手转人工】" if handoff else "【智能助手·反欺诈工单（机器人继续应答）】"
    header = (
        f"{title}原因：{dialogue.HANDOFF_REASONS[reason]}；意图：{u.intent}（{INTENTS[u.intent]}）；"
        f"情绪：{u.emotion.label}"
        + (f"（依据：{'、'.join(u.emotion.cues)}）" if u.emotion.label == "angry" and u.emotion.cues else "")
        + (f"；风险标记：{flags}（疑似诈骗，请优先处理）" if flags else "")
        + (f"（依据：{'、'.join(u.scam.evidence or u.scam.scripts)}）" if u.scam.suspected else "")
    )
    result = desk.intake(
        session,
        channel="chat",
        channel_message_id=f"assistant:{chat.public_id}:{message_seq}",
        sender=sender_of(chat.public_id),
        text=f"{header}\n—— 对话记录 ——\n{_transcript(session, chat, pending)}",
        received_at=now,
        now=now,
        actor=ASSISTANT,
    )
    chat.ticket_id, chat.ticket_number = result.ticket_id, result.ticket_number
    return result.ticket_number


def _hand_off(
    session: Session,
    chat: ChatState,
    u: Understanding,
    reason: str,
    *,
    message_seq: int,
    pending: dict[str, Any],
    now: datetime,
) -> tuple[str, bool]:
    """A desk ticket with the transcript, intent and emotion; the chat now waits for a person."""
    number = _open_ticket(
        session, chat, u, reason, message_seq=message_seq, pending=pending, now=now, handoff=True
    )
    chat.state, chat.handed_off_at, chat.misses = "handed_off", now, 0
    when = _when_a_person_replies(session, number, now)
    if reason == "scam":
        return replies.scam_warning(answer_values(session), number, when), True
    opening = replies.handoff_opening(reason)
    if reason in ("complaint", "fraud") and u.entry is not None:
        opening = fill(u.entry.answer, answer_values(session))
    return f"{opening}\n{replies.handoff_closing(number, when)}", True


def _fraud_ticket(
    session: Session,
    chat: ChatState,
    u: Understanding,
    reason: str,
    *,
    message_seq: int,
    pending: dict[str, Any],
    now: datetime,
) -> tuple[str, bool]:
    """A scam story or a fraud report: the anti-fraud guidance at once and an urgent ticket for the
    fraud team, the chat staying with the bot (not a handoff: docs/ASSISTANT.md "Fraud and handoff")."""
    number = _open_ticket(
        session, chat, u, reason, message_seq=message_seq, pending=pending, now=now, handoff=False
    )
    if reason == "scam":
        return replies.scam_warning(answer_values(session), number, None, handed_off=False), False
    guidance = fill(u.entry.answer, answer_values(session)) if u.entry is not None else ""
    return replies.fraud_ticket_note(guidance, number), False


def _after_handoff(
    session: Session, chat: ChatState, u: Understanding, *, message_seq: int, now: datetime
) -> tuple[str, bool]:
    """The message joins the ticket; the bot speaks only to warn of a scam, or before a person has
    written, to answer a clear FAQ question."""
    result = desk.intake(
        session,
        channel="chat",
        channel_message_id=f"assistant:{chat.public_id}:{message_seq}",
        sender=sender_of(chat.public_id),
        text=u.text,
        received_at=now,
        now=now,
        actor=ASSISTANT,
    )
    chat.ticket_id, chat.ticket_number = result.ticket_id, result.ticket_number
    if u.scam.suspected:
        return replies.scam_warning(answer_values(session), result.ticket_number, None), True
    agent_wrote = session.scalar(
        select(ChatMessage.id)
        .where(ChatMessage.session_id == chat.id, ChatMessage.author == "agent")
        .limit(1)
    )
    clear_question = (
        u.confidence >= policy().min_confidence
        and u.intent
        not in ("human", "chitchat", "other", "complaint", "collection_complaint", "fraud_report")
        and u.emotion.label != "angry"
    )
    if agent_wrote is None and clear_question:
        return f"{_faq_answer(session, u)}\n（人工客服稍后会继续为您处理。）", True
    return "", True


def _when_a_person_replies(session: Session, number: str, now: datetime) -> str | None:
    """None within the ticket's team's service hours; else when a person will reply (R2.7)."""
    ticket = desk.get_ticket(session, number=number)
    team = next((t for t in desk.list_teams(session) if t.id == ticket.team_id), None)
    hours = (
        sla.TeamHours.parse(team.opens, team.closes, always_open=team.always_open)
        if team
        else sla.TeamHours()
    )
    calendar = calendar_from_policy()
    try:
        open_now = sla.within_service_hours(now, hours, calendar)
    except CalendarUnknownYear:
        calendar = sla.with_guessed_years(calendar, now)
        open_now = sla.within_service_hours(now, hours, calendar)
    if open_now:
        return None
    opens = sla.add_service_minutes(now, 1, hours, calendar).at - timedelta(minutes=1)
    return _chinese_moment(opens)


def _chinese_moment(moment: datetime) -> str:
    local = to_shanghai(moment)
    return f"{local.month}月{local.day}日（周{WEEKDAYS[local.weekday()]}）{local:%H:%M}"
