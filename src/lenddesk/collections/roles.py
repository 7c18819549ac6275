"""Who may do what in collections: the one table its API and its console pages both use."""

from __future__ import annotations

from lenddesk.core.roles import OVERSIGHT, SENIORS

COLLECTORS = ("collector", "team_lead")
CHECKERS = ("compliance",)
REPORT_READERS = OVERSIGHT
SCRIPT_EDITORS = SENIORS
CHECK_PAGE_READERS = SENIORS  # the compliance page: contact log checks and the text checker
