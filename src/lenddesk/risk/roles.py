"""Who may do what in the risk room: the one table its API and its console pages both use."""

from __future__ import annotations

from lenddesk.core.roles import FRONT_LINE

ALERT_HANDLERS = ("team_lead", "compliance")
BLACKLIST_REQUESTERS = ("team_lead", "compliance")
BLACKLIST_APPROVERS = ("compliance",)  # and admin; policy `blacklist_approver_roles` may narrow
BLACKLIST_CHECKERS = (*FRONT_LINE, "compliance")
SCORE_READERS = ("team_lead", "compliance")  # not case-bound: they may read any borrower
