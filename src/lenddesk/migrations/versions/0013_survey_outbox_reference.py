"""feedback: a survey keeps its outbox message id as a plain reference, not a foreign key

The outbox belongs to the desk; the feedback room records which queued message carried a survey
without a constraint into the desk's table (docs/ARCHITECTURE.md, one owner per table).

Revision ID: 0013_survey_outbox_reference
Revises: 0012_ticket_candidate_borrower
Create Date: 2026-12-06 23:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013_survey_outbox_reference"
down_revision: str | Sequence[str] | None = "0012_ticket_candidate_borrower"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "fk_feedback_surveys_outbox_id_desk_outbox"


def upgrade() -> None:
    with op.batch_alter_table("feedback_surveys", schema=None) as batch_op:
        batch_op.drop_constraint(CONSTRAINT, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("feedback_surveys", schema=None) as batch_op:
        batch_op.create_foreign_key(CONSTRAINT, "desk_outbox", ["outbox_id"], ["id"])
