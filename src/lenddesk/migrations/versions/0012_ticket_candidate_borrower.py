"""desk: a ticket's candidate borrower (the sender's match), apart from the verified link

Revision ID: 0012_ticket_candidate_borrower
Revises: 0011_risk
Create Date: 2026-12-06 22:50:00

Intake used to link a ticket to the borrower whose phone, e-mail or openid matched the sender,
which anyone can type. The match becomes a candidate; tickets never verified lose the link.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_ticket_candidate_borrower"
down_revision: str | Sequence[str] | None = "0011_risk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A ticket some verification passed on (knowledge or code), or that collections opened on an account
# it works (a staff-made link): its link stands.
_NEVER_VERIFIED = (
    "borrower_id IS NOT NULL AND verified_at IS NULL AND NOT EXISTS ("
    " SELECT 1 FROM desk_ticket_events e WHERE e.ticket_id = desk_tickets.id"
    " AND e.kind = 'verification' AND e.body LIKE '%核验通过%')"
    " AND NOT EXISTS (SELECT 1 FROM desk_messages m WHERE m.ticket_id = desk_tickets.id"
    " AND m.channel_message_id LIKE 'collections-%')"
)


def upgrade() -> None:
    with op.batch_alter_table("desk_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("candidate_borrower_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_desk_tickets_candidate_borrower_id_borrowers"),
            "borrowers",
            ["candidate_borrower_id"],
            ["id"],
        )
        batch_op.create_index(
            batch_op.f("ix_desk_tickets_candidate_borrower_id"), ["candidate_borrower_id"], unique=False
        )
    op.execute("UPDATE desk_tickets SET candidate_borrower_id = borrower_id WHERE borrower_id IS NOT NULL")
    op.execute(f"UPDATE desk_tickets SET borrower_id = NULL WHERE {_NEVER_VERIFIED}")


def downgrade() -> None:
    op.execute(
        "UPDATE desk_tickets SET borrower_id = candidate_borrower_id"
        " WHERE borrower_id IS NULL AND candidate_borrower_id IS NOT NULL"
    )
    with op.batch_alter_table("desk_tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_desk_tickets_candidate_borrower_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_desk_tickets_candidate_borrower_id_borrowers"), type_="foreignkey"
        )
        batch_op.drop_column("candidate_borrower_id")
