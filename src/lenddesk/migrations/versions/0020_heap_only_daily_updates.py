"""the close's daily rewrites of collections accounts and risk profiles leave their indexes alone

Revision ID: 0020_heap_only_daily_updates
Revises: 0019_room_for_daily_updates
Create Date: 2026-12-07 11:05:00

Each close rewrites every overdue borrower's collections account (days past due, amount, score,
expected recovery) and the profile of every borrower whose early-warning inputs moved. An update
that changes an indexed column, or finds no room in its page, writes an entry into every index of
the table. The expected recovery left the accounts' worklist index and the score left the
profiles' band index (each is read by the leading columns only), and PostgreSQL keeps room in
each page of both tables (SQLite has no such setting).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0020_heap_only_daily_updates"
down_revision: str | Sequence[str] | None = "0019_room_for_daily_updates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported from the models: a migration keeps the shape it had when it was written.
# Room for a new version of every row of a page: nearly every account in a page is rewritten by the
# same statement (all overdue ones, every day), about a quarter of the profiles.
FILL_FACTORS = {"collections_accounts": 50, "risk_profiles": 70}
INDEXES = {
    ("collections_accounts", "ix_collections_accounts_worklist"): (
        ["state", "assigned_user_id", "expected_recovery_fen"],
        ["state", "assigned_user_id"],
    ),
    ("risk_profiles", "ix_risk_profiles_band"): (["band", "score"], ["band"]),
}


def upgrade() -> None:
    _replace_indexes(new=True)
    if op.get_bind().dialect.name == "postgresql":
        for table, percent in FILL_FACTORS.items():
            op.execute(f"ALTER TABLE {table} SET (fillfactor = {percent})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in FILL_FACTORS:
            op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
    _replace_indexes(new=False)


def _replace_indexes(*, new: bool) -> None:
    for (table, name), (before, after) in INDEXES.items():
        op.drop_index(name, table_name=table)
        op.create_index(name, table, after if new else before)
