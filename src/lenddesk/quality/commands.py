"""CLI commands of the quality room: `lenddesk quality score-changed` (nightly), `sample-agents` and
`eval` (agreement with a reviewer on labelled transcripts)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

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


DEFAULT_SET = Path("evaluation/heldout/quality.jsonl")


@quality_app.command("eval")
def eval_command(
    set_path: Path = typer.Option(DEFAULT_SET, "--set", help="Labelled transcripts (JSON Lines)"),
    baseline: str = typer.Option(
        "", "--baseline", help="Git commit of the rubric to compare with (default: before issue 19)"
    ),
    no_baseline: bool = typer.Option(False, "--no-baseline", help="Score with the current rubric only"),
) -> None:
    """Score each labelled transcript through the QA code path; print agreement with the reviewer
    per item, overall, severe flagged and missed, and the confusions, beside the baseline rubric.
    Only aggregate figures are printed, never a transcript."""
    from lenddesk.quality import evaluation
    from lenddesk.quality.service import policy

    try:
        rows = evaluation.read_rows(set_path)
    except (OSError, ValueError) as error:
        console.print(f"[red]cannot read {set_path}: {error}[/red]")
        raise typer.Exit(2) from error
    current = evaluation.tally(rows, evaluation.judge_with(policy.score_transcript))
    before = None
    ref = baseline or evaluation.BASELINE_REF
    if not no_baseline:
        try:
            old = evaluation.load_rubric_at(ref, Path(__file__).resolve().parents[3])
        except Exception as error:  # no git, or a ref not in this clone
            console.print(f"baseline {ref} unavailable: {error}")
        else:
            before = evaluation.tally(rows, evaluation.baseline_judge(old, policy.rubric_weights()))
    for line in evaluation.format_report(current, before, baseline_name=f"rubric at {ref}"):
        typer.echo(line)


def register(app: typer.Typer) -> None:
    """Add this room's commands to the CLI."""
    app.add_typer(quality_app, name="quality")
