"""Reading incidents: one with its checklist, updates and timeline; the list; the public status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.incidents import rules
from lenddesk.incidents.models import ChecklistItem, Incident, Update
from lenddesk.incidents.service._common import get_incident
from lenddesk.incidents.service.lifecycle import checklist


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    what_zh: str
    who: str


@dataclass(frozen=True)
class IncidentView:
    incident: Incident
    checklist: list[ChecklistItem]
    updates: list[Update]

    @property
    def open_required(self) -> list[str]:
        return [item.code for item in self.checklist if item.required and not item.done]

    @property
    def timeline(self) -> list[TimelineEntry]:
        incident = self.incident
        label = rules.KIND_LABELS_ZH[incident.kind]
        pause = "，暂停提醒与催收外呼" if incident.pause_outbound else ""
        entries = [
            TimelineEntry(incident.declared_at, f"宣布{label}：{incident.title}{pause}", incident.declared_by)
        ]
        entries += [
            TimelineEntry(item.done_at, f"完成检查项：{item.title}", item.done_by or "")
            for item in self.checklist
            if item.done and item.done_at is not None
        ]
        entries += [
            TimelineEntry(
                update.created_at,
                f"发布更新{f'，通知 {update.recipients} 人' if update.broadcast else ''}：{update.text}",
                update.author,
            )
            for update in self.updates
        ]
        if incident.resolved_at is not None:
            entries.append(
                TimelineEntry(incident.resolved_at, f"解除：{incident.summary}", incident.resolved_by or "")
            )
        return sorted(entries, key=lambda entry: entry.at)


def updates_of(session: Session, incident_id: int) -> list[Update]:
    return list(session.scalars(select(Update).where(Update.incident_id == incident_id).order_by(Update.id)))


def incident_view(session: Session, *, incident_id: int) -> IncidentView:
    incident = get_incident(session, incident_id)
    return IncidentView(incident, checklist(session, incident_id), updates_of(session, incident_id))


def list_incidents(session: Session, *, status: str | None = None, limit: int = 100) -> list[Incident]:
    statement = select(Incident).order_by(Incident.id.desc()).limit(limit)
    if status is not None:
        statement = statement.where(Incident.status == status)
    return list(session.scalars(statement))


def active_incidents(session: Session) -> list[IncidentView]:
    """Every active incident with its updates (the public status page and the console banner)."""
    found = session.scalars(select(Incident).where(Incident.status == "active").order_by(Incident.id)).all()
    return [IncidentView(incident, [], updates_of(session, incident.id)) for incident in found]
