"""Tables of the quality room."""

from __future__ import annotations
