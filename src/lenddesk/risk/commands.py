"""CLI commands of the risk room: `lenddesk risk score` and `lenddesk risk backtest`."""

from __future__ import annotations

from datetime import date

import typer
from rich.console import Console

risk_app = typer.Typer(help="Risk: early-warning score and its backtest.", no_args_is_help=True)
console = Console()


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {value}") from exc


@risk_app.command("score")
def score(day: str = typer.Option(..., "--date", help="Business date to score as of (YYYY-MM-DD)")) -> None:
    """Score every borrower as of a business date (what the close of business runs; idempotent)."""
    from lenddesk.core.db import get_engine
    from lenddesk.core.locks import database_job, job_lock
    from lenddesk.risk.service import score_day

    business_date = _day(day)
    assert business_date is not None
    with job_lock(database_job("risk-score"), ttl_seconds=3600), get_engine().connect() as connection:
        counts = score_day(connection, business_date)
    console.print("  ".join(f"{name}: {value}" for name, value in counts.items()))


@risk_app.command("backtest")
def backtest(
    as_of: str | None = typer.Option(
        None, "--as-of", help="Score as of this date (default: the last close minus the horizon)"
    ),
    horizon: int = typer.Option(30, min=1, max=365, help="Days after it in which a loan reaching M1 counts"),
) -> None:
    """How well the score ranks loans that reach M1 within the horizon (AUC), on the book's history."""
    from lenddesk.core.db import get_engine
    from lenddesk.core.errors import LendDeskError
    from lenddesk.risk.service import run_backtest

    with get_engine().connect() as connection:
        try:
            result = run_backtest(connection, as_of=_day(as_of), horizon_days=horizon)
        except LendDeskError as exc:
            console.print(f"[red]{exc.message_zh} / {exc.message_en}[/red]")
            raise typer.Exit(code=2) from exc
    auc = "n/a (one class empty)" if result.auc is None else f"{result.auc:.3f}"
    console.print(
        f"as of {result.as_of}: {result.loans:,} current loans, {result.reached:,} reached M1 within"
        f" {result.horizon_days} days; AUC {auc}"
    )
    for band, (loans, reached) in result.by_band.items():
        rate = f"{reached / loans:.1%}" if loans else "—"
        console.print(f"  {band:<6} {loans:>9,} loans  {reached:>8,} reached M1  ({rate})")


def register(app: typer.Typer) -> None:
    """Add this room's commands to the CLI."""
    app.add_typer(risk_app, name="risk")
