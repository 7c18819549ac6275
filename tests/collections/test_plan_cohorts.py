"""The plan's overdue steps fire on exactly the loans whose days past due on the contact day match
the step (the cadence the strategies promise), however the plan finds them."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Engine, text

from lenddesk.core.policy import CollectionStep, get_policy
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.seed import SeedOptions, seed_book

START = date(2026, 11, 18)


def _fires(step: CollectionStep, days_past_due_on_contact_day: int) -> bool:
    offset = days_past_due_on_contact_day
    if step.until_day is None or step.every is None:
        return offset == step.day
    return step.day <= offset <= step.until_day and (offset - step.day) % step.every == 0


def _expected(engine: Engine, *, automated: bool) -> set[tuple[int, str]]:
    """(loan or account id, step name) the strategies call for on the contact day."""
    strategies = {s.name: s for s in get_policy().collections.strategies}
    with engine.connect() as connection:
        held = {
            row[0]
            for row in connection.execute(
                text("SELECT borrower_id FROM collections_holds WHERE released_at IS NULL")
            )
        }
        rows = connection.execute(
            text(
                "SELECT l.id, l.days_past_due, a.id, a.strategy, a.segment, a.state"
                " FROM loans l JOIN collections_accounts a ON a.borrower_id = l.borrower_id"
                " WHERE l.status = 'overdue'"
            )
        ).all()
        borrowers = dict(connection.execute(text("SELECT id, borrower_id FROM loans")).all())
    expected = set()
    for loan_id, dpd, account_id, strategy, segment, state in rows:
        if borrowers[loan_id] in held or (not automated and state != "overdue"):
            continue
        for step in strategies[strategy].steps:
            wanted = step.automated == automated and step.day > 0 and segment in step.segments
            if wanted and _fires(step, dpd + 1):
                expected.add((loan_id if automated else account_id, step.name))
    return expected


def _planned(engine: Engine, contact_day: date) -> tuple[set[tuple[int, str]], set[tuple[int, str]]]:
    overdue_steps = {s.name for st in get_policy().collections.strategies for s in st.steps if s.day > 0}
    with engine.connect() as connection:
        messages = {
            (loan_id, step)
            for loan_id, step in connection.execute(
                text(
                    "SELECT loan_id, step FROM collections_contacts WHERE source = 'plan' AND local_date = :c"
                ),
                {"c": contact_day},
            )
            if step in overdue_steps
        }
        calls = {
            (account_id, step)
            for account_id, step in connection.execute(
                text("SELECT account_id, step FROM collections_worklist WHERE work_date = :c"),
                {"c": contact_day},
            )
        }
    return messages, calls


def test_overdue_messages_and_calls_follow_each_steps_days_past_due(engine: Engine) -> None:
    seed_book(engine, SeedOptions(borrowers=1500, business_date=START, simulate_days=0, seed=7))
    fired: set[str] = set()
    for offset in range(1, 5):
        closed = START + timedelta(days=offset)
        run_cob(engine, closed)
        messages, calls = _planned(engine, closed + timedelta(days=1))
        assert messages == _expected(engine, automated=True), closed
        assert calls == _expected(engine, automated=False), closed
        fired |= {step for _, step in messages | calls}
    # The book has every kind of cohort: one-day steps and repeating ones, messages and calls.
    assert {"m1_day3_robocall", "m1_agent_call", "m2_agent_call", "m2_email", "m3_specialist"} <= fired, fired


def add_collectors(engine: Engine, names: tuple[str, ...] = ("collector_a", "collector_b")) -> None:
    from lenddesk.core import audit, auth
    from lenddesk.core.db import session_factory

    with session_factory(engine)() as session:
        for name in names:
            auth.create_user(
                session,
                actor=audit.Actor.system("tests"),
                username=name,
                password="correct-horse-1",
                role="collector",
            )
        session.commit()


def assert_each_collectors_lines_ranked_by_expected_recovery(engine: Engine, contact_day: date) -> int:
    """Ranks 1…n per collector, highest expected recovery first, each line with its account's
    collector; returns how many lines were ranked."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT w.user_id, a.assigned_user_id, w.rank, w.expected_recovery_fen, w.id"
                " FROM collections_worklist w JOIN collections_accounts a ON a.id = w.account_id"
                " WHERE w.work_date = :c"
            ),
            {"c": contact_day},
        ).all()
    by_collector: dict[int | None, list[tuple[int, int, int]]] = {}
    for user_id, assigned, rank, expected, line_id in rows:
        assert user_id == assigned
        by_collector.setdefault(user_id, []).append((rank, -expected, line_id))
    for lines in by_collector.values():
        assert [rank for rank, _, _ in sorted(lines)] == list(range(1, len(lines) + 1))
        assert sorted(lines) == sorted(lines, key=lambda line: (line[1], line[2]))
    return len(rows)


def test_each_collectors_worklist_is_ranked_by_expected_recovery(engine: Engine) -> None:
    seed_book(engine, SeedOptions(borrowers=1500, business_date=START, simulate_days=0, seed=7))
    add_collectors(engine)
    for offset in range(1, 3):
        closed = START + timedelta(days=offset)
        run_cob(engine, closed)
        assert (
            assert_each_collectors_lines_ranked_by_expected_recovery(engine, closed + timedelta(days=1)) > 0
        )
