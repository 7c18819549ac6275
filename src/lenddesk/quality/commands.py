"""CLI commands of the quality room: `lenddesk quality score-changed` (nightly) and `sample-agents`."""

from __future__ import annotations

from datetime import datetime

import typer
from rich.console import Console

quality_app = typer.Typer(help="Quality assurance jobs.", no_args_is_help=True)
console = Console()


def _now(at: str | None) -> datetime:
    from lenddesk.core.calendar import SHANGHAI
    from lenddesk.core.db import utcnow

    if at is None:
        return utcnow()
    moment = datetime.fromisoformat(at)
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


@quality_app.command("score-changed")
def score_changed(
    rescore: bool = typer.Option(
        False, "--rescore", help="Also re-score conversations scored under another rubric"
    ),
    at: str | None = typer.Option(None, help="Score as of this time (ISO, Shanghai if no zone)"),
    workers: int = typer.Option(1, min=1, max=64, help="Processes scoring in parallel (one per core)"),
) -> None:
    """QA every resolved or closed conversation that is new or changed since it was scored (idempotent)."""
    from lenddesk.core.db import unit_of_work
    from lenddesk.core.locks import database_job, job_lock
    from lenddesk.quality import jobs

    with job_lock(database_job("quality-score"), ttl_seconds=3600), unit_of_work() as session:
        run = jobs.score_changed(session, now=_now(at), rescore=rescore, workers=workers)
    reviews = ", ".join(f"{reason} {count}" for reason, count in sorted(run.reviews.items())) or "none"
    console.print(f"read: {run.read}  written: {run.written}  severe: {run.severe}  new reviews: {reviews}")


@quality_app.command("sample-agents")
def sample_agents(
    at: str | None = typer.Option(None, help="As of this time (ISO, Shanghai if no zone)"),
) -> None:
    """Put one conversation of each agent not yet sampled this week into the review queue (idempotent)."""
    from lenddesk.core.db import unit_of_work
    from lenddesk.core.locks import database_job, job_lock
    from lenddesk.quality import jobs

    with job_lock(database_job("quality-sample"), ttl_seconds=600), unit_of_work() as session:
        opened = jobs.sample_quiet_agents(session, now=_now(at))
    console.print(f"reviews opened: {opened}")


def register(app: typer.Typer) -> None:
    """Add this room's commands to the CLI."""
    app.add_typer(quality_app, name="quality")
