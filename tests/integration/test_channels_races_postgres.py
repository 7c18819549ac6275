"""The channels' write paths under simultaneous callers on PostgreSQL (tests/channels/races.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from lenddesk.core.db import upgrade_database
from tests.channels import races
from tests.channels.conftest import StandIn


@pytest.fixture
def provider() -> Iterator[StandIn]:
    server = StandIn()
    yield server
    server.stop()


@pytest.mark.parametrize(
    "scenario",
    [
        races.duplicate_wechat_msgid_at_once_makes_one_message,
        races.concurrent_outbox_workers_deliver_each_message_once,
        races.duplicate_sms_receipts_at_once_change_the_status_once,
    ],
    ids=lambda scenario: scenario.__name__,
)
def test_concurrent_callers_on_postgres(
    pg_url: str, provider: StandIn, scenario: Callable[..., None]
) -> None:
    upgrade_database(pg_url)
    scenario(pg_url, provider)
