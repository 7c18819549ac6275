"""CLI commands of the desk room: `lenddesk desk sla-check`, `complaint-alerts`.

`lenddesk desk deliver` is the channels room's (channels/commands.py adds it to this group).
"""

from __future__ import annotations

from datetime import datetime

import typer
from rich.console import Console

desk_app = typer.Typer(help="Service desk jobs.", no_args_is_help=True)
console = Console()


def _now(at: str | None) -> datetime:
    from lenddesk.core.calendar import SHANGHAI
    from lenddesk.core.db import utcnow

    if at is None:
        return utcnow()
    moment = datetime.fromisoformat(at)
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


@desk_app.command("sla-check")
def sla_check(
    at: str | None = typer.Option(None, help="Evaluate as of this time (ISO, Shanghai if no zone)"),
) -> None:
    """Flag at-risk and breached tickets; escalate new breaches to team leads (idempotent)."""
    from lenddesk.core.db import unit_of_work
    from lenddesk.core.errors import LendDeskError
    from lenddesk.core.locks import database_job, job_lock
    from lenddesk.desk import jobs

    try:
        with job_lock(database_job("sla-check"), ttl_seconds=600), unit_of_work() as session:
            result = jobs.sla_check(session, now=_now(at))
    except LendDeskError as exc:
        console.print(f"[red]错误 / error:[/red] {exc.message_zh} / {exc.message_en}")
        raise typer.Exit(code=2) from exc
    console.print(
        f"at risk: {result.at_risk}  breached: {result.breached}  escalated: {result.escalated}  "
        f"recomputed: {result.recomputed}"
    )


@desk_app.command("complaint-alerts")
def complaint_alerts(
    at: str | None = typer.Option(None, help="Evaluate as of this time (ISO, Shanghai if no zone)"),
) -> None:
    """Alert owners and team leads at D-3 and D-1 before a complaint's deadline and on breach (idempotent)."""
    from lenddesk.core.db import unit_of_work
    from lenddesk.core.locks import database_job, job_lock
    from lenddesk.desk import jobs

    with job_lock(database_job("complaint-alerts"), ttl_seconds=600), unit_of_work() as session:
        sent = jobs.complaint_alerts(session, now=_now(at))
    console.print(f"complaint alerts sent: {sent}")


def register(app: typer.Typer) -> None:
    """Add this room's commands to the CLI."""
    app.add_typer(desk_app, name="desk")
