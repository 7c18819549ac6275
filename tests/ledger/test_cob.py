"""The close of business on a real database: rules end to end, catch-up, idempotence, the CLI."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from lenddesk.core.policy import Policy
from lenddesk.ledger.cob import CobOutOfOrder, run_cob
from lenddesk.ledger.models import BucketTransition, CobRun, Loan
from tests.ledger.book import add_loan, add_product, lines_of, pay_in_full
from tests.support.naive_cob import book_state

POLICY = Policy()
DISBURSED = date(2026, 1, 10)
FIRST_DUE = date(2026, 2, 10)


def close(engine: Engine, day: date, **options: object):  # type: ignore[no-untyped-def]
    return run_cob(engine, day, policy=POLICY, **options)  # type: ignore[arg-type]


@pytest.fixture
def loan_id(session: Session) -> int:
    product = add_product(session)
    loan = add_loan(session, product, disbursed_on=DISBURSED)
    session.commit()
    # The book's first close of business; later closes catch up every date from here.
    run_cob(session.get_bind(), DISBURSED, policy=POLICY)
    return loan.id


def test_an_unpaid_instalment_rolls_through_grace_late_fee_and_penalty(
    engine: Engine, session: Session, loan_id: int
) -> None:
    close(engine, FIRST_DUE)
    session.expire_all()
    loan = session.get(Loan, loan_id)
    line = lines_of(session, loan_id)[0]
    assert (loan.status, loan.days_past_due, loan.bucket) == ("current", 0, "M0")
    assert loan.next_due_on == date(2026, 3, 10) and loan.cost_charged_fen == line.interest_fen

    summary = close(engine, FIRST_DUE + timedelta(days=1))
    assert summary.newly_overdue == 1 and summary.transitions == 1
    close(engine, FIRST_DUE + timedelta(days=3))  # catches up day 2 and 3 (still in grace)
    session.expire_all()
    assert lines_of(session, loan_id)[0].penalty_fen == 0
    close(engine, FIRST_DUE + timedelta(days=4))
    close(engine, FIRST_DUE + timedelta(days=5))
    session.expire_all()
    loan, line = session.get(Loan, loan_id), lines_of(session, loan_id)[0]
    daily_penalty = round(line.principal_fen * 0.0005)
    assert (loan.status, loan.days_past_due, loan.bucket) == ("overdue", 5, "M1")
    assert line.late_fee_fen == 3000  # once, on the first day after the 3 grace days
    assert line.penalty_fen == 2 * daily_penalty
    assert loan.cost_charged_fen == line.interest_fen + 3000 + 2 * daily_penalty
    transitions = session.scalars(select(BucketTransition).where(BucketTransition.loan_id == loan_id)).all()
    assert [(t.business_date, t.from_bucket, t.to_bucket, t.days_past_due) for t in transitions] == [
        (FIRST_DUE + timedelta(days=1), "M0", "M1", 1)
    ]


def test_paying_cures_and_records_the_transition(engine: Engine, session: Session, loan_id: int) -> None:
    close(engine, FIRST_DUE + timedelta(days=40))
    session.expire_all()
    assert session.get(Loan, loan_id).bucket == "M2"
    pay_in_full(session, loan_id, [1, 2], FIRST_DUE + timedelta(days=41))
    session.commit()
    summary = close(engine, FIRST_DUE + timedelta(days=41))
    session.expire_all()
    loan = session.get(Loan, loan_id)
    assert (loan.status, loan.bucket, loan.days_past_due) == ("current", "M0", 0)
    assert summary.cured == 1
    assert loan.oldest_unpaid_due_on == date(2026, 4, 10)
    last = session.scalars(
        select(BucketTransition)
        .where(BucketTransition.loan_id == loan_id)
        .order_by(BucketTransition.business_date)
    ).all()[-1]
    assert (last.from_bucket, last.to_bucket, last.days_past_due) == ("M2", "M0", 0)


def test_never_paid_is_written_off_after_180_days(engine: Engine, session: Session, loan_id: int) -> None:
    summary = close(engine, FIRST_DUE + timedelta(days=200))
    assert summary.written_off == 1
    assert len(summary.business_dates) == (FIRST_DUE - DISBURSED).days + 200
    session.expire_all()
    loan = session.get(Loan, loan_id)
    assert (loan.status, loan.bucket, loan.days_past_due) == ("written_off", "WO", 181)
    assert loan.written_off_on == FIRST_DUE + timedelta(days=181)
    buckets = [
        (t.from_bucket, t.to_bucket)
        for t in session.scalars(
            select(BucketTransition)
            .where(BucketTransition.loan_id == loan_id)
            .order_by(BucketTransition.business_date)
        )
    ]
    assert buckets == [
        ("M0", "M1"),
        ("M1", "M2"),
        ("M2", "M3"),
        ("M3", "M4"),
        ("M4", "M5"),
        ("M5", "M6"),
        ("M6", "WO"),
    ]


def test_fully_paid_loan_is_settled(engine: Engine, session: Session, loan_id: int) -> None:
    close(engine, FIRST_DUE - timedelta(days=1))
    pay_in_full(session, loan_id, list(range(1, 13)), FIRST_DUE - timedelta(days=1))
    session.commit()
    summary = close(engine, FIRST_DUE)
    session.expire_all()
    loan = session.get(Loan, loan_id)
    assert summary.settled == 1
    assert (loan.status, loan.settled_on, loan.next_due_on) == (
        "settled",
        FIRST_DUE - timedelta(days=1),
        None,
    )


def test_the_cost_cap_limits_penalties(engine: Engine, session: Session) -> None:
    from decimal import Decimal

    steep = add_product(session, penalty_daily_rate=Decimal("0.01"), late_fee_fixed_fen=0)
    loan = add_loan(session, steep, disbursed_on=DISBURSED)
    session.commit()
    close(engine, DISBURSED)
    summary = close(engine, FIRST_DUE + timedelta(days=60))
    session.expire_all()
    loan = session.get(Loan, loan.id)
    limit = loan.principal_fen * 24 * (FIRST_DUE + timedelta(days=60) - DISBURSED).days // (100 * 365)
    assert summary.cap_excess_fen > 0
    assert loan.cost_charged_fen <= limit
    assert sum(line.penalty_fen for line in lines_of(session, loan.id)) > 0


def test_closing_a_date_twice_changes_nothing(engine: Engine, loan_id: int) -> None:
    close(engine, FIRST_DUE + timedelta(days=10))
    before = book_state(engine)
    again = close(engine, FIRST_DUE + timedelta(days=10))
    assert again.business_dates == [] and again.loans_processed == 0
    assert book_state(engine) == before


def test_missed_dates_are_caught_up_in_order_and_past_dates_refused(
    engine: Engine, session: Session, loan_id: int
) -> None:
    close(engine, FIRST_DUE)
    summary = close(engine, FIRST_DUE + timedelta(days=5))
    assert summary.business_dates == [FIRST_DUE + timedelta(days=n) for n in range(1, 6)]
    runs = session.scalars(select(CobRun).order_by(CobRun.id)).all()
    closed = [DISBURSED + timedelta(days=n) for n in range((FIRST_DUE - DISBURSED).days + 6)]
    assert [run.business_date for run in runs] == closed
    assert all(run.status == "done" for run in runs)
    with pytest.raises(CobOutOfOrder):
        close(engine, DISBURSED - timedelta(days=3))


def test_catching_up_equals_closing_day_by_day(
    engine: Engine, session: Session, tmp_path, loan_id: int
) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from lenddesk.core.db import make_engine

    copy = tmp_path / "copy.db"
    engine.dispose()
    shutil.copy(engine.url.database, copy)
    other = make_engine(f"sqlite:///{copy}")
    close(engine, FIRST_DUE + timedelta(days=45))
    for offset in range(-5, 46):
        close(other, FIRST_DUE + timedelta(days=offset), chunk_size=100)
    assert book_state(engine) == book_state(other)
    other.dispose()


def test_the_command_closes_and_prints_a_summary(
    db_url: str, loan_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lenddesk.cli import app
    from lenddesk.core.settings import get_settings

    monkeypatch.setenv("LENDDESK_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["cob", "--date", (FIRST_DUE + timedelta(days=5)).isoformat()])
        assert result.exit_code == 0, result.output
        assert "newly overdue" in result.output and "penalty accrued" in result.output
        again = CliRunner().invoke(app, ["cob", "--date", (FIRST_DUE + timedelta(days=5)).isoformat()])
        assert again.exit_code == 0 and "already closed" in again.output
        refused = CliRunner().invoke(app, ["cob", "--date", (DISBURSED - timedelta(days=1)).isoformat()])
        assert refused.exit_code == 2 and "date order" in refused.output
    finally:
        get_settings.cache_clear()


def test_the_command_prints_the_time_of_every_step(
    db_url: str, loan_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lenddesk.cli import app
    from lenddesk.core.settings import get_settings
    from lenddesk.ledger.after_close import registered_steps

    monkeypatch.setenv("LENDDESK_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, ["cob", "--date", (FIRST_DUE + timedelta(days=5)).isoformat()], terminal_width=200
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    steps = ["ledger.credit_balances", "ledger.aging", *(name for name, _ in registered_steps())]
    assert {"negotiation", "collections", "risk", "reports"} <= set(steps)
    timing_lines = {
        line.split("│")[2].strip(): line for line in result.output.splitlines() if line.count("│") >= 4
    }
    for step in steps:
        assert step in timing_lines, result.output
        seconds = float(timing_lines[step].split("│")[3])
        assert seconds >= 0


def test_the_summary_returns_the_seconds_of_every_step_in_order(engine: Engine, loan_id: int) -> None:
    from lenddesk.ledger.after_close import registered_steps

    summary = close(engine, FIRST_DUE + timedelta(days=3))  # three dates: each step's time summed
    assert list(summary.step_seconds) == [
        "ledger.credit_balances",
        "ledger.aging",
        *(name for name, _ in registered_steps()),
    ]
    assert all(seconds >= 0 for seconds in summary.step_seconds.values())
    assert sum(summary.step_seconds.values()) <= summary.duration_seconds + 0.01
