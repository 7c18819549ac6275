"""The demo and benchmark portfolio: realistic borrowers, products, loans and repayment behaviour.

How the book is made (docs/LEDGER.md, "Demo portfolio"):
1. Borrowers get Faker zh_CN names (gender consistent with the ID number), valid GB 11643 ID
   numbers, unique mobiles, addresses, employers, contacts (self, spouse, emergency — the latter
   marked third parties).
2. Each loan draws a product, an amount and a disbursement date within the last 18 months
   (more recent dates more likely: a growing book), and a repayment behaviour: punctual, sometimes
   late (cures), or distressed from some instalment on (cures later, pays in part, or never pays
   and is written off). Every instalment gets a planned payment date, or none.
3. The state at the start of the simulation window (`business_date − simulate_days`) is computed
   statistically per loan with the close-of-business rules (`delinquency`): paid instalments with
   their penalty and late fee, days past due, bucket, bucket history, write-off, cost charged
   under the cap. Batches are built by worker processes and bulk inserted in order (executemany on
   SQLite, COPY on PostgreSQL; seed/loader.py), with the secondary indexes built after the load.
4. The window is then simulated day by day: the payments planned for the day are posted (full
   instalments, or part payments oldest first), the window's players act (`SeedOptions.players`,
   seed/players.py: the demo's hardship negotiations), then the real close of business runs, so
   the recent history and today's figures are exactly what COB makes of them.

Deterministic for a given seed, batch size and business date, whatever the number of workers.
"""

from lenddesk.ledger.seed._common import (
    CHANNELS,
    CONTACT_TIMES,
    EMAIL_DOMAINS,
    MOBILE_PREFIXES,
    PREFERRED_CHANNELS,
    PRODUCTS,
    REGIONS,
    ProductSpec,
    Progress,
    SeedOptions,
)
from lenddesk.ledger.seed.book import SeedReport, book_is_seeded, seed_book
from lenddesk.ledger.seed.builder import PlannedPayment
from lenddesk.ledger.seed.players import WindowDay, WindowPlayer
from lenddesk.ledger.seed.simulation import PaymentSimulation

__all__ = [
    "CHANNELS",
    "CONTACT_TIMES",
    "EMAIL_DOMAINS",
    "MOBILE_PREFIXES",
    "PREFERRED_CHANNELS",
    "PRODUCTS",
    "REGIONS",
    "PaymentSimulation",
    "PlannedPayment",
    "ProductSpec",
    "Progress",
    "SeedOptions",
    "SeedReport",
    "WindowDay",
    "WindowPlayer",
    "book_is_seeded",
    "seed_book",
]
