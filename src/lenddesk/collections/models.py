"""Tables of the collections room."""

from __future__ import annotations
