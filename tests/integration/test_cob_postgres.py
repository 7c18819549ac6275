"""The close of business on PostgreSQL gives exactly the SQLite results for the same seeded book."""

from __future__ import annotations

import shutil
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text

from lenddesk.core.db import make_engine, upgrade_database
from lenddesk.core.policy import LedgerPolicy, MoneyPolicy, Policy, get_policy
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.seed import SeedOptions, seed_book
from lenddesk.risk.service.scoring import behaviour_rows
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


def _updates(engine, table: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(row updates, of which heap-only) of `table`, once every other backend's counters are in."""
    with engine.connect() as connection:
        for _ in range(50):
            row = connection.execute(
                text("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = :t"),
                {"t": table},
            ).one()
            if row[0] > 0:
                return int(row[0]), int(row[1])
            connection.rollback()
            time.sleep(0.1)
    return 0, 0


def test_the_daily_close_rewrites_its_rows_without_new_index_entries(pg_url: str) -> None:
    """A day's close rewrites every overdue loan, its overdue lines, every overdue borrower's
    collections account and the risk profiles whose inputs moved: with room in the pages and no
    indexed column changed, those are heap-only updates (no entry in any of the tables' indexes),
    not a new entry in each. (The first close after seeding opens and scores everyone; the day
    after it is the day measured.)"""
    upgrade_database(pg_url)
    engine = make_engine(pg_url)
    as_of = date(2026, 11, 27)
    seed_book(engine, SeedOptions(borrowers=3000, loans_per_borrower=2, business_date=as_of, simulate_days=0))
    run_cob(engine, as_of + timedelta(days=1))
    engine.dispose()
    time.sleep(1)  # the first close's backends publish their counters as they end: before the reset
    with engine.begin() as connection:
        connection.execute(
            text(
                "SELECT pg_stat_reset_single_table_counters(relid) FROM pg_stat_user_tables"
                " WHERE relname IN ('loans', 'schedule_lines', 'collections_accounts', 'risk_profiles')"
            )
        )
    engine.dispose()  # a backend's table counters are published when it ends
    run_cob(engine, as_of + timedelta(days=2))
    engine.dispose()
    # A loan falling due moves its next due date, an account cured changes state: those need entries.
    for table, share in (
        ("loans", 0.6),
        ("schedule_lines", 0.9),
        ("collections_accounts", 0.8),
        ("risk_profiles", 0.9),
    ):
        updated, heap_only = _updates(engine, table)
        assert updated > 100, table
        assert heap_only >= share * updated, (table, updated, heap_only)
    engine.dispose()


def test_the_score_reads_a_chunks_lines_through_the_index_not_the_whole_table(pg_url: str) -> None:
    """The early-warning score reads, per chunk of borrowers, the lines of their loans that were
    ever past due: through the covering index, never a scan of every schedule line of the book
    (at 1,000,000 loans that scan cost 1.5 s a chunk; docs/SCALING.md, "random_page_cost")."""
    upgrade_database(pg_url)
    engine = make_engine(pg_url)
    as_of = date(2026, 11, 28)
    seed_book(engine, SeedOptions(borrowers=4000, loans_per_borrower=2, business_date=as_of, simulate_days=0))
    rows = behaviour_rows(as_of=as_of, policy=get_policy().risk, first_id=1001, last_id=1400)
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        compiled = rows.compile(connection, compile_kwargs={"literal_binds": True})
        plan = "\n".join(line for (line,) in connection.exec_driver_sql(f"EXPLAIN {compiled}"))
    engine.dispose()
    assert "ix_schedule_lines_owed_or_late" in plan, plan
    assert "Seq Scan on schedule_lines" not in plan, plan
