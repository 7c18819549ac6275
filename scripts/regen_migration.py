"""Regenerate one room's Alembic migration from its models (development only, before release).

    .venv/bin/python scripts/regen_migration.py ledger

Rooms and their migrations form one chain: core → ledger → desk → negotiation → collections →
assistant → quality → feedback → channels → reports → risk. The script upgrades a scratch SQLite
database to the revision before the room's, compares it with the models of the rooms up to this
one, and rewrites the body of the room's revision file in place — same revision id, same place in
the chain — so later rooms' revisions still chain onto it.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

CHAIN = [
    ("core", "0001_core"),
    ("ledger", "0002_ledger"),
    ("desk", "0003_desk"),
    ("negotiation", "0004_negotiation"),
    ("collections", "0005_collections"),
    ("assistant", "0006_assistant"),
    ("quality", "0007_quality"),
    ("feedback", "0008_feedback"),
    ("channels", "0009_channels"),
    ("reports", "0010_reports"),
    ("risk", "0011_risk"),
]
VERSIONS = Path(__file__).resolve().parent.parent / "src" / "lenddesk" / "migrations" / "versions"

TEMPLATE = '''"""{room}

Revision ID: {revision}
Revises: {down_revision}
Create Date: {created}
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lenddesk.core.db

revision: str = "{revision}"
down_revision: str | Sequence[str] | None = {down_repr}
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
{downgrade}
'''


def main(room: str) -> None:
    names = [name for name, _ in CHAIN]
    index = names.index(room)
    revision = CHAIN[index][1]
    down_revision = CHAIN[index - 1][1] if index else None
    rooms = names[: index + 1]
    os.environ["LENDDESK_MIGRATION_ROOMS"] = ",".join(rooms)
    from alembic import command
    from alembic.autogenerate import produce_migrations, render_python_code
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from lenddesk.core.db import Base, alembic_config

    for name in rooms:
        try:
            importlib.import_module(f"lenddesk.{name}.models")
        except ModuleNotFoundError as exc:
            if exc.name != f"lenddesk.{name}.models":
                raise
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/scratch.db"
        if down_revision:
            command.upgrade(alembic_config(url), down_revision)
        engine = create_engine(url)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"render_as_batch": True})
            script = produce_migrations(context, Base.metadata)
        engine.dispose()
    target = VERSIONS / f"{revision}.py"
    target.write_text(
        TEMPLATE.format(
            room=room,
            revision=revision,
            down_revision=down_revision or "",
            down_repr=repr(down_revision).replace("'", '"'),
            created=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            upgrade=render_python_code(script.upgrade_ops, render_as_batch=True),
            downgrade=render_python_code(script.downgrade_ops, render_as_batch=True),
        )
    )
    subprocess.run([sys.executable, "-m", "ruff", "format", "-q", str(target)], check=False)
    subprocess.run([sys.executable, "-m", "ruff", "check", "--fix", "-q", str(target)], check=False)
    print(f"wrote {target}")


if __name__ == "__main__":
    main(sys.argv[1])
