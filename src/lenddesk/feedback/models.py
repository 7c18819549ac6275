"""Tables of the feedback room."""

from __future__ import annotations
