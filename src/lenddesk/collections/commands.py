"""CLI commands of the collections room: `lenddesk collections release` and `check`."""

from __future__ import annotations

from datetime import datetime

import typer
from rich.console import Console

collections_app = typer.Typer(help="Reminders and collection jobs.", no_args_is_help=True)
console = Console()


def _now(at: str | None) -> datetime:
    from lenddesk.core.calendar import SHANGHAI
    from lenddesk.core.db import utcnow

    if at is None:
        return utcnow()
    moment = datetime.fromisoformat(at)
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


@collections_app.command("release")
def release(
    at: str | None = typer.Option(None, help="Release as of this time (ISO, Shanghai if no zone)"),
    limit: int = typer.Option(5000, min=1, max=1_000_000, help="At most this many messages"),
) -> None:
    """Send the contact day's scheduled messages that are due, each through the compliance guard."""
    from lenddesk.collections import jobs
    from lenddesk.core.db import unit_of_work
    from lenddesk.core.locks import database_job, job_lock

    with job_lock(database_job("collections-release"), ttl_seconds=600), unit_of_work() as session:
        counts = jobs.release(session, now=_now(at), limit=limit)
    console.print("  ".join(f"{name}: {value}" for name, value in counts.items()))


@collections_app.command("check")
def check(text: str = typer.Argument(..., help="The text to check (nothing is sent)")) -> None:
    """Run the guard's text checks on a text and print the violations (exit 1 when any)."""
    from lenddesk.collections.guard import text_violations

    found = text_violations(text)
    for violation in found:
        console.print(f"{violation.code}  {violation.message_zh}  「{violation.evidence}」")
    if found:
        raise typer.Exit(code=1)
    console.print("OK")


def register(app: typer.Typer) -> None:
    """Add this room's commands to the CLI."""
    app.add_typer(collections_app, name="collections")
