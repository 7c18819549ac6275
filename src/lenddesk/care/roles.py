"""Who may do what in the care room: the one table its API and its console pages both use."""

from __future__ import annotations

from lenddesk.core.roles import FRONT_LINE

PROFILE_EDITORS = (*FRONT_LINE, "compliance")  # case-bound roles only for borrowers they may open
PROFILE_READERS = (*FRONT_LINE, "qa", "compliance")
CAMPAIGN_AUTHORS = ("team_lead", "compliance")
CAMPAIGN_APPROVERS = ("compliance",)  # and admin; policy `campaign_approver_roles` may widen or narrow
CAMPAIGN_READERS = ("team_lead", "qa", "compliance")
REVISIT_WORKERS = (*FRONT_LINE, "compliance")
