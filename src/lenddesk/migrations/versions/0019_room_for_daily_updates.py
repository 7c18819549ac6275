"""room in each page of loans and schedule lines for the close's daily updates (PostgreSQL)

Revision ID: 0019_room_for_daily_updates
Revises: 0018_owed_or_late_lines
Create Date: 2026-12-07 10:40:00

The close rewrites every overdue loan and its overdue lines each day. With full pages (the
default fill factor of 100) each new row version lands on another page, so PostgreSQL writes an
entry into every index of the table as well (six on loans, five on schedule lines). With room
left in the page and no indexed column changed, the update is a heap-only tuple (HOT): no index
entry at all. Pages written from now on keep the room; existing ones gain it when rewritten
(VACUUM FULL, or a reload). SQLite has no such setting.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0019_room_for_daily_updates"
down_revision: str | Sequence[str] | None = "0018_owed_or_late_lines"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported from the model: a migration keeps the shape it had when it was written.
FILL_FACTORS = {"loans": 85, "schedule_lines": 90}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, percent in FILL_FACTORS.items():
        op.execute(f"ALTER TABLE {table} SET (fillfactor = {percent})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in FILL_FACTORS:
        op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
