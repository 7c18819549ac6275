"""Who may do what in channels: the one table its API and its console pages both use."""

from __future__ import annotations

from lenddesk.core.roles import FRONT_LINE, LEADS

ADMIN = ("admin",)
DESK = FRONT_LINE  # who takes calls and sees the ringing-call pop-up

__all__ = ["ADMIN", "DESK", "LEADS"]
