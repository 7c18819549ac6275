"""Helpers shared by the incidents use cases: policy, locks, lookups, text checks."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.collections import guard
from lenddesk.core.errors import Conflict, NotFound, Unprocessable
from lenddesk.core.policy import IncidentsPolicy, get_policy
from lenddesk.core.sqlite_gate import GatedConnection
from lenddesk.incidents.models import Incident
from lenddesk.incidents.read import lock_switch_exclusive

MAX_TITLE = 120
MAX_TEXT = 2000


def incidents_policy() -> IncidentsPolicy:
    return get_policy().incidents


def take_write_gate(session: Session) -> None:
    """On SQLite, the database's write gate before the first read (PostgreSQL locks rows instead)."""
    connection = session.connection().connection.dbapi_connection
    if isinstance(connection, GatedConnection):
        connection.acquire_gate()


def lock_switch(session: Session) -> None:
    """Take the incidents switch exclusively: waits for every outbound check in flight to commit, and
    makes every later one wait for this transaction (incidents/read.py)."""
    take_write_gate(session)
    lock_switch_exclusive(session)


def no_such_incident(incident_id: int) -> NotFound:
    return NotFound(
        f"应急事件不存在：{incident_id}", f"No such incident: {incident_id}", code="incident_not_found"
    )


def get_incident(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise no_such_incident(incident_id)
    return incident


def lock_incident(session: Session, incident_id: int) -> Incident:
    """The incident, locked for this transaction (SQLite: the write gate, taken before the read)."""
    take_write_gate(session)
    incident = session.scalar(
        select(Incident)
        .where(Incident.id == incident_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if incident is None:
        raise no_such_incident(incident_id)
    return incident


def require_active(incident: Incident) -> None:
    if incident.status != "active":
        raise Conflict(
            f"应急事件 #{incident.id} 已解除",
            f"Incident {incident.id} is already resolved",
            code="incident_resolved",
        )


def required_text(value: str, what_zh: str, what_en: str, limit: int = MAX_TEXT) -> str:
    """Stripped, not blank, at most `limit` characters, no control characters."""
    text = value.strip()
    if not text:
        raise Unprocessable(f"{what_zh}不能为空", f"{what_en} must not be blank", code="blank_text")
    if len(text) > limit:
        raise Unprocessable(
            f"{what_zh}过长（最多 {limit} 字）",
            f"{what_en} is too long (at most {limit})",
            code="text_too_long",
        )
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise Unprocessable(
            f"{what_zh}含有控制字符", f"{what_en} contains control characters", code="control_characters"
        )
    return text


def guarded_text(value: str, what_zh: str, what_en: str) -> str:
    """A text borrowers or the public read: it must pass the guard's text checks (no threats, no
    personal data in clear …; the same checks as every collection message)."""
    text = required_text(value, what_zh, what_en)
    violations = guard.text_violations(text)
    if violations:
        codes = [v.code for v in violations]
        raise Unprocessable(
            f"{what_zh}未通过合规检查："
            + "；".join(f"{v.code} {v.message_zh}（{v.evidence}）" for v in violations),
            f"{what_en} fails the compliance guard: {', '.join(codes)}",
            code="guard_refused",
            details=[
                {"code": v.code, "message_zh": v.message_zh, "evidence": v.evidence} for v in violations
            ],
        )
    return text
