"""Use cases of the negotiation room. Keyword-only functions taking a Session; they never commit.

Every write locks the case's loan first (`ledger.locking.lock_loan`: PostgreSQL row lock, SQLite
write gate) and reads what it changes after the lock, so two approvals or two acceptances of one
proposal cannot both pass. A new agreement also locks the chain head (after the loan: one order,
no deadlock), so the hash chain grows one record at a time.

The use cases live in one module per part of the room (docs/NEGOTIATION.md "Code layout"); this
package names the public ones, so callers keep writing `service.accept(...)`.
"""

from __future__ import annotations

from lenddesk.negotiation.service._common import CHANNELS_ZH, LENDER_NAME, LEVEL_OF_ROLE
from lenddesk.negotiation.service.agreements import (
    AcceptResult,
    AgreementMade,
    accept,
    borrower_name_masked,
    get_agreement,
    register_agreement_hook,
    verify_agreements,
)
from lenddesk.negotiation.service.cases import get_case, open_case, open_case_for
from lenddesk.negotiation.service.library import OUTCOMES, case_agreements, close_case, library, mark_library
from lenddesk.negotiation.service.options import compare_options, loan_state, option_id
from lenddesk.negotiation.service.proposals import (
    QueueRow,
    approval_queue,
    approve_proposal,
    case_proposals,
    get_proposal,
    propose,
    reject_proposal,
)

__all__ = [
    "CHANNELS_ZH",
    "LENDER_NAME",
    "LEVEL_OF_ROLE",
    "OUTCOMES",
    "AcceptResult",
    "AgreementMade",
    "QueueRow",
    "accept",
    "approval_queue",
    "approve_proposal",
    "borrower_name_masked",
    "case_agreements",
    "case_proposals",
    "close_case",
    "compare_options",
    "get_agreement",
    "get_case",
    "get_proposal",
    "library",
    "loan_state",
    "mark_library",
    "open_case",
    "open_case_for",
    "option_id",
    "propose",
    "register_agreement_hook",
    "reject_proposal",
    "verify_agreements",
]
