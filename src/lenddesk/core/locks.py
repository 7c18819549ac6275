"""Job locks: one runner at a time for a named job across processes and machines.

With `LENDDESK_REDIS_URL` set, the lock is a Redis key taken with SET NX PX and released only by
its owner (compare-and-delete in Lua), so a crashed holder's lock expires by itself. Without Redis
(the embedded SQLite demo) the lock is an exclusive file lock, good for one machine.
"""

from __future__ import annotations

import fcntl
import hashlib
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lenddesk.core.errors import Conflict

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class JobAlreadyRunning(Conflict):
    default_code = "job_already_running"


def _busy(name: str) -> JobAlreadyRunning:
    return JobAlreadyRunning(f"任务 {name} 正在运行，请稍后再试", f"Job {name} is already running; try later")


@contextmanager
def redis_lock(url: str, name: str, ttl_seconds: int) -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(url)
    key, token = f"lenddesk:lock:{name}", secrets.token_hex(16)
    if not client.set(key, token, nx=True, px=ttl_seconds * 1000):
        raise _busy(name)
    try:
        yield token
    finally:
        client.eval(_RELEASE, 1, key, token)
        client.close()


@contextmanager
def file_lock(name: str, directory: Path | None = None) -> Iterator[str]:
    path = (directory or Path(tempfile.gettempdir())) / f"lenddesk-{name}.lock"
    with path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise _busy(name) from exc
        try:
            yield str(path)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def database_job(name: str, database_url: str | None = None) -> str:
    """A job name scoped to one database, so two books on one machine never block each other."""
    if database_url is None:
        from lenddesk.core.settings import get_settings

        database_url = get_settings().database_url
    from lenddesk.core.db import normalise_url

    return f"{name}-{hashlib.sha256(normalise_url(database_url).encode()).hexdigest()[:12]}"


@contextmanager
def job_lock(name: str, *, ttl_seconds: int = 3600, redis_url: str | None = None) -> Iterator[str]:
    """Hold the lock for job `name`, or raise JobAlreadyRunning (409) at once."""
    if redis_url is None:
        from lenddesk.core.settings import get_settings

        redis_url = get_settings().redis_url
    lock = redis_lock(redis_url, name, ttl_seconds) if redis_url else file_lock(name)
    with lock as token:
        yield token
