"""The close of business on PostgreSQL gives exactly the SQLite results for the same seeded book."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text

from lenddesk.core.db import make_engine, upgrade_database
from lenddesk.core.policy import LedgerPolicy, MoneyPolicy, Policy
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.seed import SeedOptions, seed_book
from tests.support.naive_cob import book_state

AS_OF = date(2026, 6, 30)
OPTIONS = SeedOptions(borrowers=400, business_date=AS_OF, simulate_days=20, seed=5)


def everything(engine) -> dict[str, list[tuple]]:  # type: ignore[no-untyped-def]
    """The COB state plus what the seeder wrote, to prove the two books started identical."""
    state = book_state(engine)
    with engine.connect() as connection:
        state["repayments"] = [
            tuple(row)
            for row in connection.execute(
                text(
                    "SELECT id, loan_id, channel, external_reference, amount_fen FROM repayments ORDER BY id"
                )
            )
        ]
        state["schedule"] = [
            tuple(int(value) for value in row)
            for row in connection.execute(
                text(
                    "SELECT id, principal_fen, interest_fen, paid_principal_fen, paid_interest_fen,"
                    " paid_penalty_fen, paid_late_fee_fen FROM schedule_lines ORDER BY id"
                )
            )
        ]
    return state


def test_postgres_and_sqlite_close_the_same_book_identically(
    pg_url: str, template_db: Path, tmp_path: Path
) -> None:
    sqlite_path = tmp_path / "book.db"
    shutil.copy(template_db, sqlite_path)
    sqlite = make_engine(f"sqlite:///{sqlite_path}")
    upgrade_database(pg_url)
    postgres = make_engine(pg_url)
    try:
        for engine in (sqlite, postgres):
            seed_book(engine, OPTIONS, policy=Policy())
        assert everything(postgres) == everything(sqlite)  # 20 simulated days of COB already agree

        compound = Policy(
            money=MoneyPolicy(rounding="half_even"),
            ledger=LedgerPolicy(penalty_base="principal_and_interest", bucket_upper_bounds=[30, 60, 90]),
        )
        target = AS_OF + timedelta(days=45)
        summaries = [run_cob(engine, target, chunk_size=97, policy=compound) for engine in (sqlite, postgres)]
        assert summaries[0].counters() == summaries[1].counters()
        assert summaries[0].penalty_fen > 0 and summaries[0].newly_overdue > 0
        assert everything(postgres) == everything(sqlite)
    finally:
        sqlite.dispose()
        postgres.dispose()
