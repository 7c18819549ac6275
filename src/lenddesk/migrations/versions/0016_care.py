"""care: profiles, consents, campaigns, sends, revisits; a scope on the desk's opt-outs

Revision ID: 0016_care
Revises: 0015_incidents
Create Date: 2026-12-07 01:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lenddesk.core.db

revision: str = "0016_care"
down_revision: str | Sequence[str] | None = "0015_incidents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "care_campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("send_on", sa.Date(), nullable=True),
        sa.Column("festival", sa.String(length=24), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", lenddesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("launched_at", lenddesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("launches", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("created_at", lenddesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_care_campaigns_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_campaigns")),
    )
    op.create_table(
        "care_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("borrower_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=12), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("granted_at", lenddesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", lenddesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.Column("revocation_evidence", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["borrower_id"], ["borrowers.id"], name=op.f("fk_care_consents_borrower_id_borrowers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_consents")),
    )
    with op.batch_alter_table("care_consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_care_consents_borrower_id"), ["borrower_id"], unique=False)
        batch_op.create_index(
            "ix_care_consents_purpose", ["purpose", "channel", "revoked_at", "borrower_id"], unique=False
        )

    op.create_table(
        "care_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("borrower_id", sa.Integer(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("personalised", sa.Boolean(), nullable=False),
        sa.Column("updated_at", lenddesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["borrower_id"], ["borrowers.id"], name=op.f("fk_care_profiles_borrower_id_borrowers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_profiles")),
        sa.UniqueConstraint("borrower_id", name=op.f("uq_care_profiles_borrower_id")),
    )
    op.create_table(
        "care_sends",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("borrower_id", sa.Integer(), nullable=False),
        sa.Column("marketing", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("outbox_id", sa.BigInteger(), nullable=True),
        sa.Column("sent_at", lenddesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["borrower_id"], ["borrowers.id"], name=op.f("fk_care_sends_borrower_id_borrowers")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["care_campaigns.id"], name=op.f("fk_care_sends_campaign_id_care_campaigns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_sends")),
        sa.UniqueConstraint("campaign_id", "borrower_id", name="uq_care_sends_campaign_borrower"),
    )
    with op.batch_alter_table("care_sends", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_care_sends_borrower_id"), ["borrower_id"], unique=False)
        batch_op.create_index(
            "ix_care_sends_marketing", ["marketing", "sent_at", "borrower_id"], unique=False
        )

    op.create_table(
        "care_revisits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("borrower_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("source_ref", sa.String(length=40), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("due_at", lenddesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=500), nullable=True),
        sa.Column("done_by", sa.String(length=64), nullable=True),
        sa.Column("done_at", lenddesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", lenddesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["borrower_id"], ["borrowers.id"], name=op.f("fk_care_revisits_borrower_id_borrowers")
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_care_revisits_owner_id_users")),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["desk_tickets.id"], name=op.f("fk_care_revisits_ticket_id_desk_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_revisits")),
        sa.UniqueConstraint("source", "source_ref", name="uq_care_revisits_source"),
    )
    with op.batch_alter_table("care_revisits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_care_revisits_borrower_id"), ["borrower_id"], unique=False)
        batch_op.create_index("ix_care_revisits_owner", ["owner_id", "status", "due_at"], unique=False)

    with op.batch_alter_table("desk_opt_outs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scope", sa.String(length=12), server_default="all", nullable=False))
        batch_op.drop_constraint(batch_op.f("uq_desk_opt_outs_channel_address"), type_="unique")
        batch_op.create_unique_constraint(
            "uq_desk_opt_outs_channel_address_scope", ["channel", "address", "scope"]
        )


def downgrade() -> None:
    with op.batch_alter_table("desk_opt_outs", schema=None) as batch_op:
        batch_op.drop_constraint("uq_desk_opt_outs_channel_address_scope", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_desk_opt_outs_channel_address"), ["channel", "address"]
        )
        batch_op.drop_column("scope")

    with op.batch_alter_table("care_revisits", schema=None) as batch_op:
        batch_op.drop_index("ix_care_revisits_owner")
        batch_op.drop_index(batch_op.f("ix_care_revisits_borrower_id"))

    op.drop_table("care_revisits")
    with op.batch_alter_table("care_sends", schema=None) as batch_op:
        batch_op.drop_index("ix_care_sends_marketing")
        batch_op.drop_index(batch_op.f("ix_care_sends_borrower_id"))

    op.drop_table("care_sends")
    op.drop_table("care_profiles")
    with op.batch_alter_table("care_consents", schema=None) as batch_op:
        batch_op.drop_index("ix_care_consents_purpose")
        batch_op.drop_index(batch_op.f("ix_care_consents_borrower_id"))

    op.drop_table("care_consents")
    op.drop_table("care_campaigns")
