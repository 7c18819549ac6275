"""Property tests of the close of business on seeded books: the SQL engine equals the per-loan
reference, a date closed twice is closed once, and a run killed mid-chunk resumes to the same state."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from lenddesk.core.db import make_engine, session_factory
from lenddesk.core.policy import LedgerPolicy, MoneyPolicy, Policy
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.delinquency import DelinquencyRules
from lenddesk.ledger.seed import PaymentSimulation, PlannedPayment, SeedOptions, seed_book
from tests.support.naive_cob import book_state, naive_close

AS_OF = date(2026, 6, 30)
STAGES = ("select", "aggregate", "classify", "reserve", "charges", "cap", "lines", "loans", "transitions")


@pytest.fixture(scope="module")
def seeded_book(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small book (40 borrowers, 60 loans) as of AS_OF, with its history simulated by COB."""
    path = tmp_path_factory.mktemp("book") / "book.db"
    shutil.copy(template_db, path)
    engine = make_engine(f"sqlite:///{path}")
    seed_book(
        engine, SeedOptions(borrowers=40, business_date=AS_OF, simulate_days=10, seed=7), policy=Policy()
    )
    engine.dispose()
    return path


class Books:
    """Fresh copies of the seeded book for one hypothesis example."""

    def __init__(self, source: Path, directory: Path) -> None:
        self.source, self.directory, self.engines = source, directory, []

    def copy(self) -> Engine:
        target = self.directory / f"copy{len(self.engines)}.db"
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        shutil.copy(self.source, target)
        engine = make_engine(f"sqlite:///{target}")
        self.engines.append(engine)
        return engine

    def close(self) -> None:
        for engine in self.engines:
            engine.dispose()


@pytest.fixture
def books(seeded_book: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    made: list[Books] = []

    def make() -> Books:
        made.append(Books(seeded_book, tmp_path_factory.mktemp("copies")))
        return made[-1]

    yield make
    for item in made:
        item.close()


def policy_of(rounding: str, base: str, bounds: list[int], write_off: int) -> Policy:
    return Policy(
        money=MoneyPolicy(rounding=rounding),  # type: ignore[arg-type]
        ledger=LedgerPolicy(bucket_upper_bounds=bounds, write_off_after_days=write_off, penalty_base=base),  # type: ignore[arg-type]
    )


payments = st.lists(
    st.tuples(st.integers(1, 20), st.integers(1, 60), st.sampled_from([0.3, 1.0, 0.0]), st.integers(1, 12)),
    max_size=15,
)
SLOW = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SLOW
@given(
    days=st.integers(1, 20),
    chunk_size=st.sampled_from([3, 7, 25, 1000]),
    rounding=st.sampled_from(["half_up", "half_even"]),
    base=st.sampled_from(["principal", "principal_and_interest"]),
    bounds=st.sampled_from([[30, 60, 90, 120, 150, 180], [30, 60, 90], [15, 45]]),
    write_off=st.sampled_from([180, 90, 60]),
    planned=payments,
)
def test_the_sql_close_equals_the_per_loan_reference(
    books, days, chunk_size, rounding, base, bounds, write_off, planned
) -> None:  # type: ignore[no-untyped-def]
    made = books()
    sql, reference = made.copy(), made.copy()
    policy = policy_of(rounding, base, bounds, write_off)
    plan: dict[date, list[PlannedPayment]] = defaultdict(list)
    for offset, loan_id, share, period in planned:
        day = AS_OF + timedelta(days=offset)
        if share:
            plan[day].append(PlannedPayment(day, loan_id, "alipay", share=share))
        else:
            plan[day].append(PlannedPayment(day, loan_id, "wechat_pay", periods=(period,)))
    sql_payments, reference_payments = PaymentSimulation(sql, plan), PaymentSimulation(reference, plan)
    rules = DelinquencyRules.from_policy(policy)
    for offset in range(1, days + 1):
        day = AS_OF + timedelta(days=offset)
        sql_payments.post_payments(day)
        reference_payments.post_payments(day)
        run_cob(sql, day, chunk_size=chunk_size, policy=policy)
        naive_close(session_factory(reference), day, rules)
        assert book_state(sql) == book_state(reference), f"differs after closing {day}"


@SLOW
@given(days=st.integers(1, 30), chunk_size=st.sampled_from([5, 17, 1000]))
def test_closing_a_date_twice_is_closing_it_once(books, days, chunk_size) -> None:  # type: ignore[no-untyped-def]
    engine = books().copy()
    target = AS_OF + timedelta(days=days)
    first = run_cob(engine, target, chunk_size=chunk_size, policy=Policy())
    state = book_state(engine)
    again = run_cob(engine, target, chunk_size=chunk_size, policy=Policy())
    assert len(first.business_dates) == days and again.business_dates == []
    assert book_state(engine) == state


class Crash(Exception):
    pass


@SLOW
@given(days=st.integers(1, 15), chunk_size=st.sampled_from([4, 11, 1000]), crash_at=st.integers(1, 400))
def test_a_crash_mid_chunk_then_a_rerun_gives_the_uninterrupted_result(
    books, days, chunk_size, crash_at
) -> None:  # type: ignore[no-untyped-def]
    made = books()
    crashed, uninterrupted = made.copy(), made.copy()
    target = AS_OF + timedelta(days=days)
    steps = 0

    def crash(stage: str, chunk: int) -> None:
        nonlocal steps
        steps += 1
        if steps == crash_at:
            raise Crash(f"{stage} of chunk {chunk}")

    try:
        run_cob(crashed, target, chunk_size=chunk_size, policy=Policy(), on_step=crash)
        did_crash = False
    except Crash:
        did_crash = True
    resumed = run_cob(crashed, target, chunk_size=chunk_size, policy=Policy())
    run_cob(uninterrupted, target, chunk_size=chunk_size, policy=Policy())
    assert book_state(crashed) == book_state(uninterrupted)
    assert (resumed.business_dates[-1] == target) if did_crash else resumed.business_dates == []
    assert run_summaries(crashed) == run_summaries(uninterrupted)


def run_summaries(engine: Engine) -> list[dict[str, int]]:
    """What each closed date reports (its counters, not its duration)."""
    from sqlalchemy import select

    from lenddesk.ledger.models import CobRun

    with session_factory(engine)() as session:
        runs = session.scalars(select(CobRun).order_by(CobRun.business_date)).all()
        return [{k: v for k, v in (run.summary or {}).items() if k != "duration_seconds"} for run in runs]


def test_a_killed_process_resumes_to_the_same_state(books) -> None:  # type: ignore[no-untyped-def]
    """kill -9 in the middle of a chunk (after the schedule lines are charged, before the loans are
    updated), then run again: the book is exactly what an uninterrupted run makes of it."""
    made = books()
    killed, uninterrupted = made.copy(), made.copy()
    target = AS_OF + timedelta(days=12)
    script = textwrap.dedent(
        f"""
        import os, signal
        from datetime import date
        from lenddesk.core.db import make_engine
        from lenddesk.core.policy import Policy
        from lenddesk.ledger.cob import run_cob

        def kill(stage, chunk):
            if stage == "lines" and chunk == 2:
                os.kill(os.getpid(), signal.SIGKILL)

        run_cob(make_engine({str(killed.url)!r}), date.fromisoformat({target.isoformat()!r}),
                chunk_size=10, policy=Policy(), on_step=kill)
        """
    )
    killed.dispose()
    process = subprocess.run(
        [sys.executable, "-c", script], env={**os.environ}, capture_output=True, timeout=120
    )
    assert process.returncode == -signal.SIGKILL, process.stderr.decode()
    run_cob(killed, target, chunk_size=10, policy=Policy())
    run_cob(uninterrupted, target, chunk_size=10, policy=Policy())
    assert book_state(killed) == book_state(uninterrupted)
