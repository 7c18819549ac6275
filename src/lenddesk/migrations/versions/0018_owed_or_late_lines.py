"""the lines ever past due, covered for the early-warning score (partial index)

Revision ID: 0018_owed_or_late_lines
Revises: 0017_close_scale
Create Date: 2026-12-07 07:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_owed_or_late_lines"
down_revision: str | Sequence[str] | None = "0017_close_scale"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported from the model: a migration keeps the shape it had when it was written.
OWED_OR_LATE = "paid_off_on IS NULL OR paid_off_on > due_on"


def upgrade() -> None:
    op.create_index(
        "ix_schedule_lines_owed_or_late",
        "schedule_lines",
        ["loan_id", "due_on", "paid_off_on", "paid_principal_fen", "paid_interest_fen"],
        sqlite_where=sa.text(OWED_OR_LATE),
        postgresql_where=sa.text(OWED_OR_LATE),
    )


def downgrade() -> None:
    op.drop_index("ix_schedule_lines_owed_or_late", table_name="schedule_lines")
