"""Who may do what in the ledger: the one table its API and its console pages both use."""

from __future__ import annotations

from lenddesk.core.roles import FRONT_LINE, SENIORS, STAFF

READERS = STAFF
POSTERS = FRONT_LINE
RECOVERY_POSTERS = ("collector", "team_lead")
RECOVERY_READERS = ("collector", "team_lead", "compliance")
APPROVERS = SENIORS  # the policy narrows refunds and waivers further
PORTFOLIO_VIEWERS = RECOVERY_READERS  # the home page's portfolio figures
