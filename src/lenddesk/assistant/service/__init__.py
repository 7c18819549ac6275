"""Use cases of the assistant room. Keyword-only functions taking a Session; they never commit."""

from __future__ import annotations

from lenddesk.assistant.service._common import find_session, knowledge
from lenddesk.assistant.service.agents import (
    WebChatAdapter,
    agent_reply,
    handed_off_sessions,
    messages_after,
    session_of_ticket,
)
from lenddesk.assistant.service.chat import ChatOutcome, TooManyMessages, post_message
from lenddesk.assistant.service.faq import FaqRow, list_entries, save_entry
from lenddesk.assistant.service.official import OfficialCheck, check_badge, check_phone, official_numbers

__all__ = [
    "ChatOutcome",
    "FaqRow",
    "OfficialCheck",
    "TooManyMessages",
    "WebChatAdapter",
    "agent_reply",
    "check_badge",
    "check_phone",
    "find_session",
    "handed_off_sessions",
    "knowledge",
    "list_entries",
    "messages_after",
    "official_numbers",
    "post_message",
    "save_entry",
    "session_of_ticket",
]
