"""The desk's fixtures (a borrower, teams, channel keys, a pinned clock), for tests that cross rooms."""

from tests.desk.conftest import borrower, channel_keys, clock, desk_data, inbound

__all__ = ["borrower", "channel_keys", "clock", "desk_data", "inbound"]
