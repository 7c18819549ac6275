"""Sign-in under attack: atomic failure counts, growing lockouts, throttling per address, revocation."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.core.db import utcnow
from lenddesk.core.models import AuditEntry, User
from tests.conftest import PASSWORD
from tests.core.sign_in_race import wrong_passwords_at_once


def _user(session: Session, username: str) -> User:
    session.expire_all()
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


def _failures_audited(session: Session, user: User) -> int:
    return session.scalar(
        select(func.count(AuditEntry.id)).where(
            AuditEntry.entity_type == "user",
            AuditEntry.entity_id == str(user.id),
            AuditEntry.action.in_(("auth.sign_in_failed", "auth.locked")),
        )
    )


def test_wrong_passwords_sent_at_once_lock_the_account_and_are_counted_exactly(
    app: FastAPI, session: Session
) -> None:
    statuses = wrong_passwords_at_once(app, "qa", callers=8)
    assert statuses == [401] * 8
    user = _user(session, "qa")
    assert user.locked_until is not None and user.locked_until > utcnow()
    # Five wrong passwords were checked and counted; the rest met a locked account.
    assert user.failed_attempts == 5 == _failures_audited(session, user)
