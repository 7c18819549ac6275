"""CLI commands of the ledger room, mounted flat on the `lenddesk` command."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this room's commands to the CLI."""
