"""The channels' write paths under simultaneous callers on SQLite (scenarios in tests/channels/races.py;
the same run on PostgreSQL in tests/integration/test_channels_races_postgres.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.channels import races
from tests.channels.conftest import StandIn


@pytest.mark.parametrize(
    "scenario",
    [
        races.duplicate_wechat_msgid_at_once_makes_one_message,
        races.concurrent_outbox_workers_deliver_each_message_once,
        races.duplicate_sms_receipts_at_once_change_the_status_once,
    ],
    ids=lambda scenario: scenario.__name__,
)
def test_concurrent_callers_on_sqlite(db_url: str, standin: StandIn, scenario: Callable[..., None]) -> None:
    scenario(db_url, standin)
