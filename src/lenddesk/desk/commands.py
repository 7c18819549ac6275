"""CLI commands of the desk room, mounted flat on the `lenddesk` command."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this room's commands to the CLI."""
