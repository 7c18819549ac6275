"""Failed sign-ins per client address: a sliding-window counter shared by every worker.

Each address has a counter per fixed window (`throttle_minutes` long); the estimate for the last
window's length weighs the previous window by how much of it still overlaps
(previous × (1 − elapsed fraction) + current). The counters live in the database
(`sign_in_throttle`, one upsert that adds one in SQL) or, when `LENDDESK_REDIS_URL` is set, in
Redis (INCR with an expiry), so every uvicorn worker and machine sees the same counts.

A sign-in reserves a place before it answers (`hit`) and gives it back when the password was
right (`release`): a burst of simultaneous guesses from one address gets at most the limit of
answers, while a busy office behind one address is never throttled for signing in successfully.

Counters of different window lengths share the table (sign-in, chat and look-ups count in
15-minute windows, the contact form in 60-minute ones), and window numbers of different lengths are
not comparable. So every stored key names its window length (`15m|contact:…`), and a counter is
expired only by its own kind: a new window of one key removes that key's old windows and the
windows of the same length that are over for good (older than the previous one). A counter still
counting is never removed by another key's traffic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lenddesk.core.models import SignInThrottle


@dataclass(frozen=True)
class Window:
    number: int  # fixed windows since the epoch
    elapsed: float  # fraction of the current window gone, 0 ≤ elapsed < 1

    @classmethod
    def at(cls, now: datetime, minutes: int) -> Window:
        seconds = minutes * 60
        number, into = divmod(now.timestamp(), seconds)
        return cls(int(number), into / seconds)

    def estimate(self, previous: int, current: int) -> float:
        return previous * (1 - self.elapsed) + current


class Throttle(Protocol):
    def estimate(self, session: Session, address: str, window: Window) -> float: ...

    def hit(self, session: Session, address: str, window: Window) -> float: ...

    def release(self, session: Session, address: str, window: Window) -> None: ...

    def clear(self, session: Session, address: str, window: Window) -> None: ...


def stored_key(key: str, minutes: int) -> str:
    """The key as the counters keep it: prefixed by its window length, at most 64 characters."""
    return f"{minutes}m|{key}"[:64]


def expired_of_length(minutes: int, window_number: int) -> Any:
    """The rows of windows `minutes` long that no estimate reads any more (before the previous one)."""
    return and_(
        SignInThrottle.address.startswith(f"{minutes}m|", autoescape=True),
        SignInThrottle.window_number < window_number - 1,
    )


class SqlThrottle:
    """Counters in the `sign_in_throttle` table, written in the caller's transaction."""

    def __init__(self, minutes: int) -> None:
        self.minutes = minutes

    def _counts(self, session: Session, address: str, window: Window) -> tuple[int, int]:
        rows = dict(
            session.execute(
                select(SignInThrottle.window_number, SignInThrottle.attempts).where(
                    SignInThrottle.address == stored_key(address, self.minutes),
                    SignInThrottle.window_number.in_((window.number - 1, window.number)),
                )
            ).all()
        )
        return rows.get(window.number - 1, 0), rows.get(window.number, 0)

    def estimate(self, session: Session, address: str, window: Window) -> float:
        return window.estimate(*self._counts(session, address, window))

    def hit(self, session: Session, address: str, window: Window) -> float:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        address = stored_key(address, self.minutes)
        upsert = dialect.insert(SignInThrottle).values(
            address=address, window_number=window.number, attempts=1
        )
        upsert = upsert.on_conflict_do_update(
            index_elements=["address", "window_number"],
            set_={"attempts": SignInThrottle.attempts + 1},
        ).returning(SignInThrottle.attempts)
        current = session.execute(upsert).scalar_one()
        if current == 1:  # this key's first hit in the window: clear what has expired, once
            session.execute(delete(SignInThrottle).where(expired_of_length(self.minutes, window.number)))
        previous = session.scalar(
            select(SignInThrottle.attempts).where(
                SignInThrottle.address == address, SignInThrottle.window_number == window.number - 1
            )
        )
        return window.estimate(previous or 0, current)

    def release(self, session: Session, address: str, window: Window) -> None:
        session.execute(
            update(SignInThrottle)
            .where(
                SignInThrottle.address == stored_key(address, self.minutes),
                SignInThrottle.window_number == window.number,
                SignInThrottle.attempts > 0,
            )
            .values(attempts=SignInThrottle.attempts - 1)
        )

    def clear(self, session: Session, address: str, window: Window) -> None:
        """Forget every window of this key (a lock lifted by a person)."""
        session.execute(
            delete(SignInThrottle).where(SignInThrottle.address == stored_key(address, self.minutes))
        )


class RedisThrottle:
    """Counters in Redis: `lenddesk:throttle:<minutes>m|<key>:<window>`, each expiring by itself after
    two windows."""

    def __init__(self, url: str, minutes: int) -> None:
        import redis

        self._client = redis.Redis.from_url(url)
        self.minutes = minutes
        self._ttl = 2 * minutes * 60

    def _key(self, address: str, number: int) -> str:
        return f"lenddesk:throttle:{stored_key(address, self.minutes)}:{number}"

    def estimate(self, session: Session, address: str, window: Window) -> float:
        previous, current = self._client.mget(
            self._key(address, window.number - 1), self._key(address, window.number)
        )
        return window.estimate(int(previous or 0), int(current or 0))

    def hit(self, session: Session, address: str, window: Window) -> float:
        key = self._key(address, window.number)
        pipeline = self._client.pipeline()
        pipeline.incr(key)
        pipeline.expire(key, self._ttl)
        pipeline.get(self._key(address, window.number - 1))
        current, _, previous = pipeline.execute()
        return window.estimate(int(previous or 0), int(current))

    def release(self, session: Session, address: str, window: Window) -> None:
        self._client.decr(self._key(address, window.number))

    def clear(self, session: Session, address: str, window: Window) -> None:
        self._client.delete(self._key(address, window.number - 1), self._key(address, window.number))


@lru_cache(maxsize=8)
def throttle_for(redis_url: str | None, minutes: int) -> Throttle:
    """One throttle per configuration, so a Redis connection pool is shared by the worker's requests."""
    return RedisThrottle(redis_url, minutes) if redis_url else SqlThrottle(minutes)
