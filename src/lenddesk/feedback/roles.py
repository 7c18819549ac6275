"""Who may do what in feedback: the one table its API and its console pages both use."""

from __future__ import annotations

from lenddesk.core.roles import OVERSIGHT

READERS = OVERSIGHT
