"""Recoveries, refunds of credit and waivers with concurrent callers on PostgreSQL (row locks)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from lenddesk.core.db import make_engine, upgrade_database
from tests.ledger.paths_support import (
    concurrent_recoveries,
    concurrent_refund_approvals,
    concurrent_waivers,
    waivers_past_the_limit_at_once,
)


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    upgrade_database(pg_url)
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


def test_recoveries_at_once_are_each_counted_once_on_postgres(pg_engine: Engine) -> None:
    result = concurrent_recoveries(pg_engine, callers=8)
    assert result["refused"] == 0 and result["rows"] == 8
    assert result["recovered"] == result["posted"]
    assert result["settled"] == 1
    assert result["credit"] == result["recovered"] - result["owed"]


def test_refund_approvals_at_once_never_pay_twice_or_below_zero_on_postgres(pg_engine: Engine) -> None:
    result = concurrent_refund_approvals(pg_engine, callers=8)
    assert result["same_paid_once"] == 1
    assert result["credit"] >= 0 and result["credit"] + result["paid"] == 50_000
    assert result["paid"] == 50_000 and result["refused"] == 5  # of 7 others of 200.00, two fit


def test_waivers_at_once_never_forgive_more_than_is_owed_on_postgres(pg_engine: Engine) -> None:
    result = concurrent_waivers(pg_engine, callers=8)
    assert result["applied"] == result["on_lines"] == 3000
    assert (result["ok"], result["refused"], result["left"]) == (3, 5, 0)


def test_waivers_at_once_by_one_agent_apply_no_more_than_the_limit_alone_on_postgres(
    pg_engine: Engine,
) -> None:
    result = waivers_past_the_limit_at_once(pg_engine, people=1, each=8)
    assert result["refused"] == 0
    assert result["per_person"] == {"agent0": {"applied_alone": 8_000, "held": 6}}
    assert result["applied"] == result["on_lines"] == 8_000


def test_waivers_at_once_by_two_agents_each_stay_within_their_limit_on_postgres(pg_engine: Engine) -> None:
    result = waivers_past_the_limit_at_once(pg_engine, people=2, each=4)
    assert result["refused"] == 0
    for person in ("agent0", "agent1"):
        assert result["per_person"][person] == {"applied_alone": 8_000, "held": 2}
    assert result["applied"] == result["on_lines"] == 16_000
