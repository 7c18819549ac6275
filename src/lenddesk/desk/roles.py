"""Who may do what in the desk: the one table its API and its console pages both use."""

from __future__ import annotations

from lenddesk.core.roles import FRONT_LINE, LEADS, SENIORS, STAFF

READERS = STAFF
DESK = FRONT_LINE
COMPLAINT_HANDLERS = ("agent", "team_lead", "compliance")
COMPLAINT_READERS = STAFF
COMPLAINT_SENIORS = SENIORS  # who may approve a 60-day extension (policy may narrow)
CONSULT_ANSWERERS = ("agent", "collector", "team_lead", "compliance")

__all__ = [
    "COMPLAINT_HANDLERS",
    "COMPLAINT_READERS",
    "COMPLAINT_SENIORS",
    "CONSULT_ANSWERERS",
    "DESK",
    "LEADS",
    "READERS",
]
