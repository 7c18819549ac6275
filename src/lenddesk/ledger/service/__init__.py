"""Use cases of the loan ledger. Functions take a Session and never commit.

`account_summary`, `find_borrower` and `portfolio_glance` (in `interface`) are the ledger's read
interface for other rooms (desk side panel and macros, collections, the home page); keep their
signatures stable. Callers use this package (`from lenddesk.ledger import service`), not its modules.
"""

from lenddesk.ledger.models import Repayment, Waiver  # the types that repayments and waivers return
from lenddesk.ledger.service._common import loan_by_contract
from lenddesk.ledger.service.borrowers import (
    BorrowerHit,
    Disclosure,
    add_contact,
    create_borrower,
    create_borrower_with_contacts,
    search_borrowers,
)
from lenddesk.ledger.service.interface import (
    AccountSummary,
    LoanSummary,
    PortfolioGlance,
    account_summary,
    find_borrower,
    portfolio_glance,
)
from lenddesk.ledger.service.origination import create_loan, create_product
from lenddesk.ledger.service.quotes import (
    CertificateView,
    certificate_for,
    certificate_view,
    partial_quote,
    settlement_quote,
)
from lenddesk.ledger.service.recoveries import (
    RecoveryBook,
    RecoveryResult,
    post_recovery,
    recovered_fen,
    recovery_book,
    written_off_balance_fen,
)
from lenddesk.ledger.service.reference import (
    CHANNEL_LABELS_ZH,
    CHANNELS,
    RELATION_LABELS_ZH,
    RELATIONS,
    REPAYMENT_KINDS,
    STATUS_LABELS_ZH,
)
from lenddesk.ledger.service.refunds import approve_refund, refunded_fen, reject_refund, request_refund
from lenddesk.ledger.service.repayments import (
    PostingResult,
    apply_credit_balances,
    approve_reversal,
    post_repayment,
    reject_reversal,
    request_reversal,
)
from lenddesk.ledger.service.restructuring import (
    BasisLine,
    NewInstalment,
    RestructuredLoan,
    RestructuringBasis,
    reinstate_waiver,
    restructure,
    restructuring_basis,
    schedule_revisions,
)
from lenddesk.ledger.service.staff_access import check_borrower_access, open_borrower_360, open_loan
from lenddesk.ledger.service.views import (
    Borrower360,
    BucketChange,
    ContactView,
    CostDisclosure,
    LineView,
    LoanView,
    RecoveryView,
    RefundView,
    RepaymentView,
    WaiverView,
    borrower_360,
    loan_detail,
    loan_view,
)
from lenddesk.ledger.service.waivers import (
    WAIVABLE,
    approve_waiver,
    reject_waiver,
    request_waiver,
    waivable_fen,
    waive,
)

__all__ = [
    "CHANNELS",
    "CHANNEL_LABELS_ZH",
    "RELATIONS",
    "RELATION_LABELS_ZH",
    "REPAYMENT_KINDS",
    "STATUS_LABELS_ZH",
    "WAIVABLE",
    "AccountSummary",
    "BasisLine",
    "Borrower360",
    "BorrowerHit",
    "BucketChange",
    "CertificateView",
    "ContactView",
    "CostDisclosure",
    "Disclosure",
    "LineView",
    "LoanSummary",
    "LoanView",
    "NewInstalment",
    "PortfolioGlance",
    "PostingResult",
    "RecoveryBook",
    "RecoveryResult",
    "RecoveryView",
    "RefundView",
    "Repayment",
    "RepaymentView",
    "RestructuredLoan",
    "RestructuringBasis",
    "Waiver",
    "WaiverView",
    "account_summary",
    "add_contact",
    "apply_credit_balances",
    "approve_refund",
    "approve_reversal",
    "approve_waiver",
    "borrower_360",
    "certificate_for",
    "certificate_view",
    "check_borrower_access",
    "create_borrower",
    "create_borrower_with_contacts",
    "create_loan",
    "create_product",
    "find_borrower",
    "loan_by_contract",
    "loan_detail",
    "loan_view",
    "open_borrower_360",
    "open_loan",
    "partial_quote",
    "portfolio_glance",
    "post_recovery",
    "post_repayment",
    "recovered_fen",
    "recovery_book",
    "refunded_fen",
    "reinstate_waiver",
    "reject_refund",
    "reject_reversal",
    "reject_waiver",
    "request_refund",
    "request_reversal",
    "request_waiver",
    "restructure",
    "restructuring_basis",
    "schedule_revisions",
    "search_borrowers",
    "settlement_quote",
    "waivable_fen",
    "waive",
    "written_off_balance_fen",
]
