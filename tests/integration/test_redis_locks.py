"""Job locks on a real Redis server: one holder at a time, released by its owner, expiring on crash."""

from __future__ import annotations

import time

import pytest
import redis

from lenddesk.core.locks import JobAlreadyRunning, job_lock
from tests.support.servers import RedisServer


def take(name: str, url: str) -> None:
    """Take and release the lock, as a second runner would."""
    with job_lock(name, redis_url=url):
        pass


def test_second_runner_is_refused_while_the_first_holds_the_lock(redis_server: RedisServer) -> None:
    with job_lock("cob", redis_url=redis_server.url), pytest.raises(JobAlreadyRunning) as caught:
        take("cob", redis_server.url)
    assert caught.value.status_code == 409
    take("cob", redis_server.url)  # released: free again


def test_a_crashed_holders_lock_expires(redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url)
    client.set("lenddesk:lock:sla", "someone-who-died", px=300)
    with pytest.raises(JobAlreadyRunning), job_lock("sla", redis_url=redis_server.url):
        pass
    time.sleep(0.4)
    with job_lock("sla", redis_url=redis_server.url):
        pass


def test_release_never_removes_someone_elses_lock(redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url)
    with job_lock("seed", ttl_seconds=1, redis_url=redis_server.url):
        # Our lock expired and another runner took it; our release must leave theirs alone.
        client.set("lenddesk:lock:seed", "other-runner")
    assert client.get("lenddesk:lock:seed") == b"other-runner"
    client.delete("lenddesk:lock:seed")


def test_without_redis_a_file_lock_serialises_runners() -> None:
    with job_lock("local-job", redis_url=""), pytest.raises(JobAlreadyRunning):
        take("local-job", "")
