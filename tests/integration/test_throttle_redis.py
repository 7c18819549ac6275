"""Throttle counters in Redis are kept per key and window length, like the SQL ones."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from lenddesk.channels import service as channels
from lenddesk.core import throttle
from lenddesk.core.policy import get_policy
from lenddesk.core.settings import get_settings
from tests.core.throttle_mixing import contact_posts_with_lookups_between, hits_of_one_key_survive_other_keys
from tests.desk.conftest import desk_data  # noqa: F401
from tests.support.servers import RedisServer


@pytest.fixture
def with_redis(redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    redis_server_client = throttle.RedisThrottle(redis_server.url, 1)._client
    redis_server_client.flushdb()
    monkeypatch.setenv("LENDDESK_REDIS_URL", redis_server.url)
    get_settings.cache_clear()
    get_policy.cache_clear()
    yield redis_server.url
    monkeypatch.delenv("LENDDESK_REDIS_URL")
    get_settings.cache_clear()
    get_policy.cache_clear()


def test_redis_counters_of_another_key_or_window_length_leave_a_live_one_alone(with_redis: str) -> None:
    hits_of_one_key_survive_other_keys(
        None,  # type: ignore[arg-type]
        throttle.RedisThrottle(with_redis, 60),
        throttle.RedisThrottle(with_redis, 15),
    )


def test_look_ups_between_contact_posts_do_not_lift_the_contact_forms_limit_with_redis(
    with_redis: str,
    app: FastAPI,
    desk_data: dict,  # noqa: F811
) -> None:
    limit = channels.channels_policy().contact_form_per_hour
    assert contact_posts_with_lookups_between(app, limit) == [200] * limit + [429, 429]
