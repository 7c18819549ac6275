"""the close records each chunk it has done, so that several workers can close one date

Revision ID: 0021_cob_chunks
Revises: 0020_heap_only_daily_updates
Create Date: 2026-12-07 15:20:00

Until now a close advanced one cursor (`cob_runs.last_loan_id`) chunk by chunk. On PostgreSQL
the chunks of a date are now closed by several connections at once: each claims its chunk by
inserting the chunk's row in the chunk's own transaction, and a run that crashed redoes only the
chunks without a row. The cursor still records where a finished run ended (and where a run left
unfinished before this migration stopped).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_cob_chunks"
down_revision: str | Sequence[str] | None = "0020_heap_only_daily_updates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cob_chunks",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("low", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("high", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["cob_runs.id"], name=op.f("fk_cob_chunks_run_id_cob_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "low", name=op.f("pk_cob_chunks")),
    )


def downgrade() -> None:
    op.drop_table("cob_chunks")
