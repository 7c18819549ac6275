"""Sign-in users for HTTP benchmarks, shared by the benchmarks that may run on one database."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core import audit, auth
from lenddesk.core.models import User
from lenddesk.core.roles import ROLES


def ensure_role_users(session: Session, password: str) -> None:
    """One user per role, named after it; a user already there is left as it is (bench/system.py runs
    several benchmarks on one database, and each needs these users)."""
    existing = set(session.scalars(select(User.username).where(User.username.in_(list(ROLES)))))
    for role in ROLES:
        if role not in existing:
            auth.create_user(
                session, actor=audit.Actor.system("bench"), username=role, password=password, role=role
            )
    session.flush()
