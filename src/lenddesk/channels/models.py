"""Tables of the channels room."""

from __future__ import annotations
