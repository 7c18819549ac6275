"""A borrower's profile: channel and contact window (kept on the ledger's borrower row, which
collections reads too), topics and whether offers may be personalised (kept here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.care.models import Profile
from lenddesk.care.service._common import lock_profile, require_borrower
from lenddesk.core import audit
from lenddesk.core.errors import Unprocessable
from lenddesk.ledger import service as ledger

TOPICS = (
    "repayment_tips",
    "financial_education",
    "anti_fraud",
    "product_news",
    "festival_greetings",
    "offers",
)
TOPIC_LABELS_ZH = {
    "repayment_tips": "还款提示",
    "financial_education": "金融知识",
    "anti_fraud": "反诈提醒",
    "product_news": "产品动态",
    "festival_greetings": "节日问候",
    "offers": "优惠活动",
}


@dataclass(frozen=True)
class Preferences:
    borrower_id: int
    channel: str | None
    window_start: str | None  # HH:MM
    window_end: str | None
    topics: tuple[str, ...]
    personalised: bool


def _window_texts(window: ledger.ContactWindow | None) -> tuple[str | None, str | None]:
    if window is None:
        return None, None
    start, end = window.text().split("-")
    return start, end


def get_preferences(session: Session, *, borrower_id: int) -> Preferences:
    contact = ledger.contact_preferences(session, borrower_id)
    if contact is None:
        require_borrower(session, borrower_id)  # raises
    assert contact is not None
    profile = session.scalar(select(Profile).where(Profile.borrower_id == borrower_id))
    start, end = _window_texts(contact.window)
    return Preferences(
        borrower_id,
        contact.channel,
        start,
        end,
        tuple(profile.topics) if profile else (),
        bool(profile.personalised) if profile else False,
    )


def _check_channel(channel: str | None) -> str | None:
    if channel is not None and channel not in ledger.PREFERRED_CHANNELS:
        raise Unprocessable(
            f"渠道须为 {'、'.join(ledger.PREFERRED_CHANNELS)} 之一",
            f"channel must be one of {', '.join(ledger.PREFERRED_CHANNELS)}",
            code="unknown_channel",
        )
    return channel


def _check_window(start: str | None, end: str | None) -> ledger.ContactWindow | None:
    if start is None and end is None:
        return None
    window = ledger.parse_window(f"{start}-{end}") if start and end else None
    if window is None:
        raise Unprocessable(
            "联系时段须为同一天内的 HH:MM 起止时间，且开始早于结束（如 09:00–18:00）",
            "contact_window needs HH:MM start and end on one day, start before end (e.g. 09:00–18:00)",
            code="bad_contact_window",
        )
    return window


def _check_topics(topics: list[str]) -> list[str]:
    unknown = sorted(set(topics) - set(TOPICS))
    if unknown:
        raise Unprocessable(
            f"未知的关注主题：{'、'.join(unknown)}",
            f"Unknown topics: {', '.join(unknown)}; topics are {', '.join(TOPICS)}",
            code="unknown_topic",
        )
    return list(dict.fromkeys(topics))


def set_preferences(
    session: Session,
    *,
    actor: audit.Actor,
    borrower_id: int,
    channel: str | None,
    window_start: str | None,
    window_end: str | None,
    topics: list[str],
    personalised: bool,
    now: datetime,
) -> Preferences:
    """Replace the borrower's preferences (audited, before and after)."""
    channel = _check_channel(channel)
    window = _check_window(window_start, window_end)
    topics = _check_topics(topics)
    profile = lock_profile(session, borrower_id)
    before = get_preferences(session, borrower_id=borrower_id)
    ledger.set_contact_preferences(session, borrower_id=borrower_id, channel=channel, window=window)
    profile.topics, profile.personalised, profile.updated_at = topics, personalised, now
    session.flush()
    after = get_preferences(session, borrower_id=borrower_id)
    audit.record(
        session,
        actor,
        "care.preferences.update",
        ("borrower", borrower_id),
        _audit_view(before),
        _audit_view(after),
    )
    return after


def _audit_view(preferences: Preferences) -> dict[str, object]:
    return {
        "channel": preferences.channel,
        "contact_window": f"{preferences.window_start}-{preferences.window_end}"
        if preferences.window_start
        else None,
        "topics": list(preferences.topics),
        "personalised": preferences.personalised,
    }
