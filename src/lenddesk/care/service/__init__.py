"""Use cases of the care room. Keyword-only functions taking a Session; they never commit.

One module per part: `profiles` (channel, window, topics, personalisation), `consents` (grant,
revoke, purge after the retention), `campaigns` (draft, preview, approval, launch, results),
`revisits` (回访 after an agreement, a resolved complaint, a low CSAT) and `standard_exclusions`
(who a campaign leaves out; care/exclusions.py is the registry other rooms add to).
"""

from __future__ import annotations

from lenddesk.care.service import standard_exclusions
from lenddesk.care.service.campaigns import (
    KIND_LABELS_ZH,
    SEGMENTS,
    STATUS_LABELS_ZH,
    LaunchResult,
    Preview,
    Results,
    approve_campaign,
    campaign_results,
    check_text,
    create_campaign,
    get_campaign,
    launch_campaign,
    list_campaigns,
    preview,
)
from lenddesk.care.service.consents import (
    ConsentView,
    consented_borrower_ids,
    grant_consent,
    list_consents,
    purge_revoked_consents,
    revoke_consent,
)
from lenddesk.care.service.profiles import (
    TOPIC_LABELS_ZH,
    TOPICS,
    Preferences,
    get_preferences,
    set_preferences,
)
from lenddesk.care.service.revisits import (
    SOURCE_LABELS_ZH,
    RevisitView,
    complete_revisit,
    list_revisits,
    open_revisit,
)
from lenddesk.care.service.revisits import STATUS_LABELS_ZH as REVISIT_STATUS_LABELS_ZH
from lenddesk.care.service.standard_exclusions import REASON_LABELS_ZH

__all__ = [
    "KIND_LABELS_ZH",
    "REASON_LABELS_ZH",
    "REVISIT_STATUS_LABELS_ZH",
    "SEGMENTS",
    "SOURCE_LABELS_ZH",
    "STATUS_LABELS_ZH",
    "TOPICS",
    "TOPIC_LABELS_ZH",
    "ConsentView",
    "LaunchResult",
    "Preferences",
    "Preview",
    "Results",
    "RevisitView",
    "approve_campaign",
    "campaign_results",
    "check_text",
    "complete_revisit",
    "consented_borrower_ids",
    "create_campaign",
    "get_campaign",
    "get_preferences",
    "grant_consent",
    "launch_campaign",
    "list_campaigns",
    "list_consents",
    "list_revisits",
    "open_revisit",
    "preview",
    "purge_revoked_consents",
    "revoke_consent",
    "set_preferences",
    "standard_exclusions",
]
