"""CLI commands of the assistant room: `lenddesk assistant train`, `lenddesk assistant eval [--set FILE]`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

assistant_app = typer.Typer(help="The chat assistant's intent model.", no_args_is_help=True)
console = Console()


@assistant_app.command("train")
def train_command(
    model_dir: Path | None = typer.Option(None, help="Where to write the model (default: settings)"),
    if_missing: bool = typer.Option(
        False, "--if-missing", help="Do nothing when a model for the current data is already there"
    ),
) -> None:
    """Train the intent model from the shipped examples and write it where the app reads it."""
    from lenddesk.assistant import classifier, engine

    directory = model_dir or engine.assistant_settings().model_dir
    fingerprint = classifier.data_fingerprint()
    current = classifier.model_path(directory, fingerprint)
    if if_missing and current.exists() and classifier.load(current, fingerprint) is not None:
        console.print(f"{current} is current for the shipped data; nothing to train")
        return
    trained = classifier.train(fingerprint=fingerprint)
    path = classifier.model_path(directory, fingerprint)
    size = classifier.save(trained, path)
    classifier.use(trained)
    console.print(
        f"trained on {trained.examples} examples ({len(trained.intents)} intents) in "
        f"{trained.training_seconds:.1f} s; wrote {path} ({size / 1024:.0f} KiB)"
    )


@assistant_app.command("eval")
def eval_command(
    file: Path | None = typer.Argument(
        None, help='JSON lines: {"text", "intent"[, "emotion", "scam", "wants_human"]}'
    ),
    set_path: Path | None = typer.Option(
        None, "--set", help="The labelled set (default: the development set)"
    ),
    today: bool = typer.Option(True, help="Also score today's classifier (trains it first, ~10 s)"),
) -> None:
    """Intent accuracy, per-intent precision and recall, confusions, handoffs and scam flags of the
    models, beside today's classifier and a BM25 nearest-example baseline."""
    from lenddesk.assistant import classifier, engine, evaluation
    from lenddesk.core.errors import LendDeskError

    path = set_path or file or classifier.DATA / "eval" / "dev.jsonl"
    try:
        rows = evaluation.read_rows(path)
    except (OSError, LendDeskError) as exc:
        console.print(f"[red]错误 / error:[/red] {getattr(exc, 'message_en', exc)}")
        raise typer.Exit(code=2) from exc
    report = evaluation.evaluate(
        rows,
        engine.predict_for_evaluation,
        engine.baseline_intent,
        engine.today_prediction if today else None,
    )
    for line in evaluation.format_report(report):
        console.print(line, highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(assistant_app, name="assistant")
