"""Who may do what in negotiation: the one table its API and its console pages both use."""

from __future__ import annotations

from lenddesk.core.roles import FRONT_LINE, OVERSIGHT, SENIORS, STAFF

NEGOTIATORS = FRONT_LINE
READERS = (*FRONT_LINE, "compliance")
APPROVERS = SENIORS
AUDITORS = OVERSIGHT
LIBRARY_READERS = STAFF
LIBRARIANS = ("team_lead", "qa")  # who adds a closed case to the library
