"""The close of business on PostgreSQL gives exactly the SQLite results for the same seeded book."""

from __future__ import annotations

import shutil
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from lenddesk.core.db import make_engine, upgrade_database
from lenddesk.core.policy import LedgerPolicy, MoneyPolicy, Policy, get_policy
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.seed import SeedOptions, seed_book
from lenddesk.risk.service.scoring import behaviour_rows
from tests.integration.test_repayment_batches_postgres import twin_database
from tests.support.naive_cob import book_state
from tests.support.servers import PostgresServer

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
        collections_accounts_before = collections_accounts(postgres)
        assert collections_accounts_before == collections_accounts(sqlite)
        # The plans of the simulated days analysed the accounts: from here PostgreSQL opens new ones
        # through an anti-join (`plan._not_open_yet`), SQLite through the unique key alone.
        with postgres.connect() as connection:
            analysed = connection.scalar(
                text("SELECT reltuples FROM pg_class WHERE relname = 'collections_accounts'")
            )
        assert analysed is not None and analysed > 0
        target = AS_OF + timedelta(days=45)
        summaries = [run_cob(engine, target, chunk_size=97, policy=compound) for engine in (sqlite, postgres)]
        assert summaries[0].counters() == summaries[1].counters()
        assert summaries[0].penalty_fen > 0 and summaries[0].newly_overdue > 0
        assert everything(postgres) == everything(sqlite)
        opened = collections_accounts(postgres)
        assert opened == collections_accounts(sqlite)
        assert len(opened) > len(collections_accounts_before)
    finally:
        sqlite.dispose()
        postgres.dispose()


def collections_accounts(engine) -> list[tuple]:  # type: ignore[no-untyped-def]
    """Every collections account the plans opened, with what the plan keeps on it."""
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                text(
                    "SELECT borrower_id, state, strategy, arm, bucket, days_past_due, overdue_fen,"
                    " propensity FROM collections_accounts ORDER BY borrower_id"
                )
            )
        ]


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


def test_two_workers_close_disjoint_chunks_side_by_side_as_one_worker_does(
    pg_url: str, postgres: PostgresServer
) -> None:
    """Two connections take the chunks of each date between them (each chunk claimed once, in its
    own transaction) and leave the book, the run summaries and the chunk records exactly as one
    connection does; a worker that fails stops the other after its chunk, and the rerun redoes
    only the chunks without a record."""
    upgrade_database(pg_url)
    engine = make_engine(pg_url)
    seed_book(engine, OPTIONS, policy=Policy())
    twins = {
        name: twin_database(engine, postgres, f"{engine.url.database}_{name}") for name in ("one", "crashed")
    }
    two = make_engine(pg_url)
    target = AS_OF + timedelta(days=6)
    closers: set[str] = set()

    def note_thread(stage: str, chunk: int) -> None:
        closers.add(threading.current_thread().name)

    crashes = {"left": 1}

    def crash_once(stage: str, chunk: int) -> None:
        if stage == "lines" and chunk == 3 and crashes["left"]:
            crashes["left"] -= 1
            raise RuntimeError("worker died")

    try:
        run_cob(two, target, chunk_size=61, policy=Policy(), workers=2, on_step=note_thread)
        run_cob(twins["one"], target, chunk_size=61, policy=Policy(), workers=1)
        with pytest.raises(RuntimeError, match="worker died"):
            run_cob(twins["crashed"], target, chunk_size=61, policy=Policy(), workers=2, on_step=crash_once)
        run_cob(twins["crashed"], target, chunk_size=61, policy=Policy(), workers=2)
        assert len(closers) == 2, closers  # both connections closed chunks
        reference = everything(twins["one"])
        assert everything(two) == reference
        assert everything(twins["crashed"]) == reference
        assert _runs(two) == _runs(twins["one"]) == _runs(twins["crashed"])
    finally:
        for each in (two, *twins.values()):
            each.dispose()


def _runs(engine) -> list[tuple]:  # type: ignore[no-untyped-def]
    """Each date's counters (not its duration) and its chunk records."""
    with engine.connect() as connection:
        runs = connection.execute(text("SELECT id, business_date, summary FROM cob_runs ORDER BY id")).all()
        chunks = connection.execute(
            text("SELECT run_id, low, high, counts FROM cob_chunks ORDER BY run_id, low")
        ).all()
    counted = [
        (row.business_date, {k: v for k, v in row.summary.items() if k != "duration_seconds"}) for row in runs
    ]
    return counted + [tuple(row) for row in chunks]


def test_after_close_steps_that_do_not_read_each_other_run_side_by_side(pg_url: str) -> None:
    """On PostgreSQL a step starts as soon as the steps it names are done, on a connection of its
    own: two independent steps meet at a barrier (one after the other, the first would wait for
    ever), and a step after one of them starts only once that one is done."""
    from lenddesk.ledger import after_close

    upgrade_database(pg_url)
    engine = make_engine(pg_url)
    meeting = threading.Barrier(2, timeout=20)
    finished: list[str] = []

    def independent(name: str):  # type: ignore[no-untyped-def]
        def step(connection, day):  # type: ignore[no-untyped-def]
            assert connection.scalar(text("SELECT 1")) == 1
            meeting.wait()
            time.sleep(0.2 if name == "test.slow" else 0)
            finished.append(name)
            return {"ran": 1}

        return step

    def later(connection, day):  # type: ignore[no-untyped-def]
        assert "test.slow" in finished
        finished.append("test.later")
        return {"ran": 1}

    registered = dict(after_close._steps)
    try:
        after_close._steps.clear()
        after_close.register("test.slow", independent("test.slow"), order=10, after=())
        after_close.register("test.quick", independent("test.quick"), order=20, after=())
        after_close.register("test.later", later, order=30, after=("test.slow",))
        with engine.connect() as connection:
            counts = after_close.run_steps(connection, AS_OF, seconds := {}, workers=2)
    finally:
        after_close._steps.clear()
        after_close._steps.update(registered)
        engine.dispose()
    assert finished == ["test.quick", "test.slow", "test.later"]
    assert counts == {"test.slow.ran": 1, "test.quick.ran": 1, "test.later.ran": 1}
    assert list(seconds) == ["test.slow", "test.quick", "test.later"]


def test_each_collectors_worklist_is_ranked_by_expected_recovery_on_postgres(pg_url: str) -> None:
    from tests.collections.test_plan_cohorts import (
        add_collectors,
        assert_each_collectors_lines_ranked_by_expected_recovery,
    )

    upgrade_database(pg_url)
    engine = make_engine(pg_url)
    try:
        start = date(2026, 11, 18)
        seed_book(engine, SeedOptions(borrowers=1500, business_date=start, simulate_days=0, seed=7))
        add_collectors(engine)
        for offset in range(1, 3):
            closed = start + timedelta(days=offset)
            run_cob(engine, closed, workers=2)
            ranked = assert_each_collectors_lines_ranked_by_expected_recovery(
                engine, closed + timedelta(days=1)
            )
            assert ranked > 0
    finally:
        engine.dispose()


def test_the_close_locks_the_loans_it_changes_and_no_other_on_postgres(pg_url: str) -> None:
    """While a chunk closes, a posting on one of its loans waits; on a loan it leaves alone it does not."""
    from sqlalchemy.exc import OperationalError

    upgrade_database(pg_url)
    engine = make_engine(pg_url)
    as_of = date(2026, 11, 28)
    try:
        seed_book(engine, SeedOptions(borrowers=300, business_date=as_of, simulate_days=0, seed=11))
        day = as_of + timedelta(days=1)
        with engine.connect() as connection:
            changing = connection.execute(
                text("SELECT MIN(id) FROM loans WHERE status = 'overdue'")
            ).scalar_one()
            untouched = connection.execute(
                text(
                    "SELECT MIN(id) FROM loans WHERE status = 'current' AND next_due_on > :d"
                    " AND (oldest_unpaid_due_on IS NULL OR oldest_unpaid_due_on >= :d)"
                ),
                {"d": day},
            ).scalar_one()
        outcome: dict[int, str] = {}

        def try_to_lock(stage: str, chunk_index: int) -> None:
            if stage != "select" or outcome:
                return
            for loan_id in (changing, untouched):
                with engine.connect() as other:
                    try:
                        other.execute(
                            text("SELECT id FROM loans WHERE id = :id FOR UPDATE NOWAIT"), {"id": loan_id}
                        )
                        outcome[loan_id] = "free"
                    except OperationalError:
                        outcome[loan_id] = "locked"
                    other.rollback()

        run_cob(engine, day, chunk_size=1_000_000, policy=Policy(), workers=1, on_step=try_to_lock)
        assert outcome == {changing: "locked", untouched: "free"}
    finally:
        engine.dispose()
