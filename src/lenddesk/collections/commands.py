"""CLI commands of the collections room: `lenddesk collections release`, `check`, and the guard's
model: `train` and `eval`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

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


@collections_app.command("train")
def train() -> None:
    """Train the guard's model from data/guard_train.jsonl and write data/guard_model.json.gz."""
    from lenddesk.collections import guard_model

    model = guard_model.train_from_data()
    size = guard_model.save(model)
    console.print(
        f"{model.examples} examples, {len(model.grams):,} n-grams, trained in {model.training_seconds:.1f} s;"
        f" {guard_model.MODEL_FILE.name} {size / 1e6:.2f} MB (fingerprint {model.fingerprint})"
    )


DEFAULT_EVALUATION_SET = Path("evaluation/heldout/guard.jsonl")


@collections_app.command("eval")
def eval_command(
    set_path: Path = typer.Option(
        DEFAULT_EVALUATION_SET, "--set", help="JSON Lines: text, codes, to_third_party"
    ),
    rules_only: bool = typer.Option(
        False, "--rules-only", help="Only the baseline and today's rules, no model"
    ),
) -> None:
    """The guard on a labelled set: blocked, false blocks, codes named, per-code precision and
    recall and the confusions, beside the baseline (aggregates only; no text is printed)."""
    from lenddesk.collections import guard_evaluation, guard_model

    try:
        examples = guard_model.read_examples(set_path)
    except (OSError, ValueError) as error:
        console.print(f"cannot read {set_path}: {error}")
        raise typer.Exit(code=2) from error
    guards = {
        "baseline rules": guard_evaluation.baseline_guard,
        "rules": guard_evaluation.current_guard(learned=False),
    }
    if not rules_only:
        guards["rules + model"] = guard_evaluation.current_guard(learned=True)
    reports = {name: guard_evaluation.evaluate(examples, check) for name, check in guards.items()}
    for line in guard_evaluation.format_reports(reports):
        typer.echo(line)


def register(app: typer.Typer) -> None:
    """Add this room's commands to the CLI."""
    app.add_typer(collections_app, name="collections")
