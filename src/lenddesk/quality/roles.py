"""Who may do what in quality: the one table its API, its console pages and its service use."""

from __future__ import annotations

from lenddesk.core.roles import FRONT_LINE, STAFF

QA = ("qa",)
REVIEWERS = ("qa", "team_lead")
READERS = STAFF
AGENTS = FRONT_LINE  # whose conversations are reviewed; they read and acknowledge their own
