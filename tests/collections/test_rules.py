"""The pure rules: the propensity score (and the plan's SQL computing the same), the challenger
draw, step timing, scripts and the report's intervals."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from lenddesk.collections import rules
from lenddesk.collections.models import Account
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.seed import SeedOptions, seed_book
from tests.collections.conftest import session_of


def test_the_score_rewards_history_and_penalises_lateness() -> None:
    good = rules.PropensityInputs(ontime_lines=10, due_lines=10, days_past_due=3, paid_last_30d=True,
                                  promises_kept=1, promises_broken=0)  # fmt: skip
    bad = rules.PropensityInputs(ontime_lines=1, due_lines=10, days_past_due=90, paid_last_30d=False,
                                 promises_kept=0, promises_broken=3)  # fmt: skip
    assert rules.propensity(good) == 94 and rules.propensity(bad) == 5
    assert (
        rules.risk_segment(94) == "low"
        and rules.risk_segment(5) == "high"
        and rules.risk_segment(50) == "medium"
    )
    assert rules.expected_recovery_fen(100_000, 40) == 40_000


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 40),
    st.integers(0, 40),
    st.integers(0, 400),
    st.booleans(),
    st.integers(0, 9),
    st.integers(0, 9),
)
def test_the_score_stays_between_5_and_95(
    ontime: int, due: int, dpd: int, paid: bool, kept: int, broken: int
) -> None:
    score = rules.propensity(rules.PropensityInputs(min(ontime, due), due, dpd, paid, kept, broken))
    assert 5 <= score <= 95


def test_the_plan_computes_the_documented_score(engine: Engine) -> None:
    seed_book(engine, SeedOptions(borrowers=120, business_date=date(2026, 11, 1), simulate_days=2))
    run_cob(engine, date(2026, 11, 2))
    with session_of(engine) as session:
        accounts = session.scalars(select(Account).where(Account.state == "overdue")).all()
    assert accounts
    for account in accounts:
        inputs = rules.PropensityInputs(
            account.ontime_lines, account.due_lines, account.days_past_due, account.paid_last_30d,
            account.promises_kept, account.promises_broken,
        )  # fmt: skip
        assert account.propensity == rules.propensity(inputs)
        assert account.expected_recovery_fen == rules.expected_recovery_fen(
            account.overdue_fen, account.propensity
        )
        assert account.segment == rules.risk_segment(account.propensity)


def test_the_challenger_draw_is_stable_and_near_its_share() -> None:
    drawn = sum(rules.draws_challenger(borrower_id, 20) for borrower_id in range(1, 20_001))
    assert 3_600 <= drawn <= 4_400
    assert rules.draws_challenger(12345, 20) == rules.draws_challenger(12345, 20)
    assert not any(rules.draws_challenger(b, 0) for b in range(1, 1000))


def test_steps_fire_on_their_days() -> None:
    assert rules.step_fires(-3, None, None, -3) and not rules.step_fires(-3, None, None, -2)
    fired = [offset for offset in range(0, 40) if rules.step_fires(5, 30, 3, offset)]
    assert fired == [5, 8, 11, 14, 17, 20, 23, 26, 29]


def test_scripts_render_their_variables() -> None:
    values = rules.script_values(
        name="张三", amount_fen=123_456, due_on=date(2026, 12, 1), contract_number="HT1",
        repayment_channels="支付宝", hotline="400", lender="L",
    )  # fmt: skip
    assert (
        rules.render("{name}应还{amount}，{due_date}，{unknown}", values)
        == "张三应还1,234.56元，2026年12月1日，{unknown}"
    )
    assert rules.unknown_variables("{name}{boss}") == ["boss"]


def test_wilson_intervals_hold_the_rate() -> None:
    rate = rules.wilson(30, 100)
    assert rate.low < 0.30 < rate.high and 0.21 < rate.low < 0.22
    assert rules.wilson(0, 0).total == 0
    zero = rules.wilson(0, 10)
    assert zero.low == 0.0 and zero.high > 0


def test_the_policy_refuses_arms_that_name_no_strategy(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from lenddesk.core.errors import ConfigurationError
    from lenddesk.core.policy import load_policy

    for body in (
        '[collections]\nchampion = "nobody"\n',
        '[collections]\nwindow_start = "21:00"\nwindow_end = "08:00"\n',
        "[collections]\ndaily_cap = 0\n",
    ):
        path = tmp_path / "policy.toml"
        path.write_text(body, encoding="utf-8")
        with pytest.raises(ConfigurationError, match="collections"):
            load_policy(path)
    path.write_text("[collections]\ndaily_cap = 2\nchallenger_percent = 50\n", encoding="utf-8")
    assert load_policy(path).collections.daily_cap == 2
