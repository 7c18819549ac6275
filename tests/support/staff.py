"""One user of every role on a database, as the integration tests' fixtures need them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lenddesk.core import audit, auth
from lenddesk.core.roles import ROLES

PASSWORD = "correct-horse-1"


def add_one_user_per_role(session: Session) -> None:
    """A user named after each role (`agent`, `team_lead` …), all with `PASSWORD`; not committed."""
    for role in ROLES:
        auth.create_user(
            session, actor=audit.Actor.system("tests"), username=role, password=PASSWORD, role=role
        )
