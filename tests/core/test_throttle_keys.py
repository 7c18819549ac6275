"""Throttle counters are kept per key and window length: one kind never wipes another (SQLite)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lenddesk.core import throttle
from tests.core.throttle_mixing import hits_of_one_key_survive_other_keys


def test_a_counter_of_another_key_or_window_length_never_deletes_a_live_one(session: Session) -> None:
    hits_of_one_key_survive_other_keys(session, throttle.SqlThrottle(60), throttle.SqlThrottle(15))
