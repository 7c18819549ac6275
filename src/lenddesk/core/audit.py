"""The audit trail: written in the same transaction as the change it records; append-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from lenddesk.core import bulk
from lenddesk.core.db import utcnow
from lenddesk.core.models import AuditEntry, User


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user, or a named system process (COB, a channel adapter)."""

    user_id: int | None
    name: str
    role: str

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(user_id=None, name=f"system:{name}", role="system")

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user_id=user.id, name=user.username, role=user.role)


_PLAIN = frozenset({str, int, bool, float, type(None)})


def _jsonable(value: Any) -> Any:
    if type(value) in _PLAIN:  # most values: checked first, cheaply
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: tuple[str, Any],
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry to the caller's transaction. `entity` is (type, id)."""
    entity_type, entity_id = entity
    entry = AuditEntry(
        actor_id=actor.user_id,
        actor_name=actor.name,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
    )
    session.add(entry)
    return entry


def entry_values(
    actor: Actor,
    action: str,
    entity: tuple[str, Any],
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The row `record` would add, as values for a bulk insert (`insert_entries`)."""
    entity_type, entity_id = entity
    return {
        "at": utcnow(),
        "actor_id": actor.user_id,
        "actor_name": actor.name,
        "action": action,
        "entity_type": entity_type,
        "entity_id": str(entity_id),
        "before": _jsonable(before) if before is not None else None,
        "after": _jsonable(after) if after is not None else None,
    }


def insert_entries(session: Session, entries: list[dict[str, Any]]) -> None:
    """Add many audit entries (`entry_values`) to the caller's transaction in one statement."""
    if entries:
        if session.autoflush:  # what the session holds goes first, as `Session.execute` does
            session.flush()
        bulk.insert_rows(session.connection(), AuditEntry.__table__, entries)


def query(
    session: Session,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor_name: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditEntry]:
    statement: Select[tuple[AuditEntry]] = select(AuditEntry)
    if entity_type:
        statement = statement.where(AuditEntry.entity_type == entity_type)
    if entity_id:
        statement = statement.where(AuditEntry.entity_id == entity_id)
    if actor_name:
        statement = statement.where(AuditEntry.actor_name == actor_name)
    if action:
        statement = statement.where(AuditEntry.action == action)
    if since:
        statement = statement.where(AuditEntry.at >= since)
    if until:
        statement = statement.where(AuditEntry.at < until)
    statement = statement.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(statement))
