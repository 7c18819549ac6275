"""Who may do what in the incidents room: the one table its API and its console pages both use."""

from __future__ import annotations

from lenddesk.core.roles import SENIORS, STAFF

INCIDENT_HANDLERS = SENIORS  # declare, tick the checklist, publish updates, resolve (and admin)
INCIDENT_READERS = STAFF  # every member of staff sees an incident and its timeline
