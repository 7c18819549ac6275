"""Regenerate one room's Alembic migration from its models (development only, before release).

    .venv/bin/python scripts/regen_migration.py ledger

Rooms and their migrations form one chain: core → ledger → desk. The script upgrades a scratch
SQLite database to the revision before the room's, then autogenerates the room's revision with only
the models of the rooms up to it imported, keeping the same revision id so later rooms still chain.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHAIN = [("core", "0001_core"), ("ledger", "0002_ledger"), ("desk", "0003_desk")]
VERSIONS = Path(__file__).resolve().parent.parent / "src" / "lenddesk" / "migrations" / "versions"


def main(room: str) -> None:
    names = [name for name, _ in CHAIN]
    index = names.index(room)
    revision = CHAIN[index][1]
    for path in VERSIONS.glob(f"{revision}*.py"):
        path.unlink()
    os.environ["LENDDESK_MIGRATION_ROOMS"] = ",".join(names[: index + 1])
    from alembic import command

    from lenddesk.core.db import alembic_config

    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/scratch.db"
        config = alembic_config(url)
        if index:
            command.upgrade(config, CHAIN[index - 1][1])
        command.revision(
            config,
            message=room,
            autogenerate=True,
            rev_id=revision,
            head=CHAIN[index - 1][1] if index else "base",
        )
    generated = next(VERSIONS.glob(f"{revision}*.py"))
    target = VERSIONS / f"{revision}.py"
    generated.rename(target)
    subprocess.run([sys.executable, "-m", "ruff", "format", "-q", str(target)], check=False)
    subprocess.run([sys.executable, "-m", "ruff", "check", "--fix", "-q", str(target)], check=False)
    print(f"wrote {target}")


if __name__ == "__main__":
    main(sys.argv[1])
