"""Helpers shared by the care use cases: the policy, locks, the sender, dialect inserts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lenddesk.care.models import Profile
from lenddesk.core.errors import NotFound
from lenddesk.core.policy import CarePolicy, get_policy
from lenddesk.ledger import service as ledger
from lenddesk.ledger.locking import begin_write

CHANNELS = ("sms", "email", "app", "wechat")
CHANNEL_LABELS_ZH = {"sms": "短信", "email": "邮件", "app": "App 推送", "wechat": "微信"}


def care_policy() -> CarePolicy:
    return get_policy().care


def sender_name() -> str:
    """The signature a marketing text ends with: the lender's name, as collections signs its notices."""
    return get_policy().collections.lender_name


def insert_for(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def no_such_borrower(borrower_id: int) -> NotFound:
    return NotFound(
        f"借款人不存在：{borrower_id}", f"No such borrower: {borrower_id}", code="unknown_borrower"
    )


def require_borrower(session: Session, borrower_id: int) -> None:
    if ledger.contact_preferences(session, borrower_id) is None:
        raise no_such_borrower(borrower_id)


def lock_profile(session: Session, borrower_id: int) -> Profile:
    """The borrower's care profile, created if new and locked for this transaction (SQLite: the write
    gate first; PostgreSQL: the row lock): consents and preferences of one borrower change in turn."""
    begin_write(session)
    require_borrower(session, borrower_id)
    session.execute(
        insert_for(session)(Profile)
        .values(borrower_id=borrower_id, topics=[], personalised=False)
        .on_conflict_do_nothing(index_elements=["borrower_id"])
    )
    profile = session.scalar(
        select(Profile)
        .where(Profile.borrower_id == borrower_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert profile is not None  # inserted just above
    return profile
