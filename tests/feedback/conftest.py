"""Feedback fixtures: the same desk set-up and ticket helper as the quality room's tests."""

from __future__ import annotations

from tests.quality.conftest import (  # noqa: F401  (fixtures shared with the quality tests)
    GOOD_AGENT,
    GOOD_BORROWER,
    NOW,
    borrower,
    channel_keys,
    clock,
    desk_data,
    inbound,
    user_id,
    work_ticket,
)
