"""Scheduled work and demo data of the ledger room."""

from __future__ import annotations

from sqlalchemy.orm import Session


def seed_demo(session: Session, *, borrowers: int) -> None:
    """Create this room's demo data (idempotent)."""
