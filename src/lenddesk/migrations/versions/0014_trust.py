"""trust at the edges: public staff numbers (工号) on users

Revision ID: 0014_trust
Revises: 0013_survey_outbox_reference
Create Date: 2026-12-06 22:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_trust"
down_revision: str | Sequence[str] | None = "0013_survey_outbox_reference"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("badge", sa.String(length=16), nullable=True))
    users = sa.table("users", sa.column("id", sa.Integer()), sa.column("badge", sa.String()))
    connection = op.get_bind()
    # The numbers auth.badge_for gives new users: LD and the id in six digits.
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(users.update().where(users.c.id == user_id).values(badge=f"LD{user_id:06d}"))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_users_badge"), ["badge"])


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_badge"), type_="unique")
        batch_op.drop_column("badge")
