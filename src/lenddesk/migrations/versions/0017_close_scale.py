"""close at scale: a loan's lines by due date (index), repayment batches and their lines

Revision ID: 0017_close_scale
Revises: 0016_care
Create Date: 2026-12-07 01:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from lenddesk.core.db import UTCDateTime

revision: str = "0017_close_scale"
down_revision: str | Sequence[str] | None = "0016_care"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_schedule_lines_loan_due", "schedule_lines", ["loan_id", "due_on"])
    op.create_table(
        "repayment_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("lines_total", sa.Integer(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repayment_batches")),
        sa.UniqueConstraint("channel", "content_sha256", name=op.f("uq_repayment_batches_channel")),
    )
    op.create_table(
        "repayment_batch_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=80), nullable=False),
        sa.Column("contract_number", sa.String(length=80), nullable=False),
        sa.Column("amount_text", sa.String(length=80), nullable=False),
        sa.Column("value_date_text", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason_code", sa.String(length=48), nullable=True),
        sa.Column("reason_zh", sa.String(length=255), nullable=True),
        sa.Column("reason_en", sa.String(length=255), nullable=True),
        sa.Column("repayment_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["repayment_batches.id"],
            name=op.f("fk_repayment_batch_lines_batch_id_repayment_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repayment_batch_lines")),
        sa.UniqueConstraint("batch_id", "line_no", name=op.f("uq_repayment_batch_lines_batch_id")),
    )
    op.create_index(
        "ix_repayment_batch_lines_pending", "repayment_batch_lines", ["batch_id", "status", "line_no"]
    )


def downgrade() -> None:
    op.drop_index("ix_repayment_batch_lines_pending", table_name="repayment_batch_lines")
    op.drop_table("repayment_batch_lines")
    op.drop_table("repayment_batches")
    op.drop_index("ix_schedule_lines_loan_due", table_name="schedule_lines")
