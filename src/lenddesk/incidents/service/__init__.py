"""Use cases of the incidents room. Keyword-only functions taking a Session; they never commit.

`lifecycle` (declare, tick the checklist, resolve), `broadcast` (updates and their delivery to the
affected borrowers) and `queries` (one incident, the list, the public status). Other rooms read the
room through `lenddesk.incidents.read` (the hold on outbound contact).
"""

from __future__ import annotations

from lenddesk.incidents.service.broadcast import broadcast_update, publish_update
from lenddesk.incidents.service.lifecycle import checklist, complete_item, declare, resolve
from lenddesk.incidents.service.queries import (
    IncidentView,
    TimelineEntry,
    active_incidents,
    incident_view,
    list_incidents,
)

__all__ = [
    "IncidentView",
    "TimelineEntry",
    "active_incidents",
    "broadcast_update",
    "checklist",
    "complete_item",
    "declare",
    "incident_view",
    "list_incidents",
    "publish_update",
    "resolve",
]
