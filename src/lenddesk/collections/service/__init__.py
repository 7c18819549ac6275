"""Use cases of the collections room. Keyword-only functions taking a Session; they never commit.

One module per part: `contacts` (the guard's what-if, agents' contacts, releasing the plan's
messages), `outcomes` (promises, disputes, hardship), `scripts` (话术), `queries` (worklist,
account page, compliance figures, strategy report) and `plan` (the daily plan in the close of
business).
"""

from __future__ import annotations

from lenddesk.collections.service._common import (
    OPT_OUT_CHANNELS,
    OUTCOME_KINDS,
    collections_policy,
    contact_rules,
    lock_account,
)
from lenddesk.collections.service.contacts import (
    Assumptions,
    ContactResult,
    ReleaseCounts,
    check_what_if,
    ensure_access,
    hold_queued_contacts,
    open_holds,
    outbound_counts,
    release_due,
    send_contact,
)
from lenddesk.collections.service.outcomes import record_outcome, release_closed_holds
from lenddesk.collections.service.plan import judge_promises, plan_day
from lenddesk.collections.service.queries import (
    METRICS,
    AccountPage,
    ArmReport,
    BlockedFigures,
    WorkRow,
    account_page,
    blocked_figures,
    contacted_borrower_ids,
    held_borrower_ids,
    mark_worked,
    masked_details,
    report_chart_svg,
    strategy_report,
    worklist,
)
from lenddesk.collections.service.scripts import (
    STAGES,
    ScriptRejected,
    list_scripts,
    save_script,
    script_verdict,
)

__all__ = [
    "METRICS",
    "OPT_OUT_CHANNELS",
    "OUTCOME_KINDS",
    "STAGES",
    "AccountPage",
    "ArmReport",
    "Assumptions",
    "BlockedFigures",
    "ContactResult",
    "ReleaseCounts",
    "ScriptRejected",
    "WorkRow",
    "account_page",
    "blocked_figures",
    "check_what_if",
    "collections_policy",
    "contact_rules",
    "contacted_borrower_ids",
    "ensure_access",
    "held_borrower_ids",
    "hold_queued_contacts",
    "judge_promises",
    "list_scripts",
    "lock_account",
    "mark_worked",
    "masked_details",
    "open_holds",
    "outbound_counts",
    "plan_day",
    "record_outcome",
    "release_closed_holds",
    "release_due",
    "report_chart_svg",
    "save_script",
    "script_verdict",
    "send_contact",
    "strategy_report",
    "worklist",
]
