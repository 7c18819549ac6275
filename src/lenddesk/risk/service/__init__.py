"""Use cases of the risk room. Keyword-only functions taking a Session; they never commit.

One module per part: `events` (activity events and the rules), `alerts` (list, acknowledge, close,
desk ticket), `blacklist` (four-eyes listing and removal, checks, the read interface), `scoring`
(the early-warning score in the close of business), `queries` (a borrower's score, home figures)
and `backtest` (the score's AUC on the book).

Other rooms read the risk room through `is_blacklisted(session, borrower_id)` and the set-based
`blacklisted_borrower_ids()` statement.
"""

from __future__ import annotations

from lenddesk.risk.service.alerts import (
    DISPOSITIONS,
    STATUS_LABELS_ZH,
    STATUSES,
    acknowledge_alert,
    close_alert,
    list_alerts,
    open_alert_ticket,
)
from lenddesk.risk.service.backtest import Backtest, auc, run_backtest
from lenddesk.risk.service.blacklist import (
    LISTED,
    approve,
    blacklisted_borrower_ids,
    check,
    is_blacklisted,
    list_entries,
    refresh_borrower_key,
    reject,
    request_listing,
    request_removal,
)
from lenddesk.risk.service.blacklist import STATUS_LABELS_ZH as BLACKLIST_STATUS_LABELS_ZH
from lenddesk.risk.service.events import EventResult, raise_alert, record_event
from lenddesk.risk.service.queries import (
    BorrowerScore,
    RiskFigures,
    borrower_ids_in_band,
    borrower_score,
    risk_figures,
)
from lenddesk.risk.service.scoring import score_day

__all__ = [
    "BLACKLIST_STATUS_LABELS_ZH",
    "DISPOSITIONS",
    "LISTED",
    "STATUSES",
    "STATUS_LABELS_ZH",
    "Backtest",
    "BorrowerScore",
    "EventResult",
    "RiskFigures",
    "acknowledge_alert",
    "approve",
    "auc",
    "blacklisted_borrower_ids",
    "borrower_ids_in_band",
    "borrower_score",
    "check",
    "close_alert",
    "is_blacklisted",
    "list_alerts",
    "list_entries",
    "open_alert_ticket",
    "raise_alert",
    "record_event",
    "refresh_borrower_key",
    "reject",
    "request_listing",
    "request_removal",
    "risk_figures",
    "run_backtest",
    "score_day",
]
