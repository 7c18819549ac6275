"""Tables of the assistant room."""

from __future__ import annotations
