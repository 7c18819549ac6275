"""Tables of the negotiation room."""

from __future__ import annotations
