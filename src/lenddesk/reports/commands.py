"""CLI commands of the reports room: `lenddesk reports rebuild --from YYYY-MM`."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

reports_app = typer.Typer(help="Reports (报表): month-end snapshots.", no_args_is_help=True)
console = Console()


@reports_app.command("rebuild")
def rebuild(
    first: str = typer.Option(..., "--from", help="First month to rebuild, YYYY-MM"),
    replace_closed: bool = typer.Option(
        False, "--replace-closed", help="Also rewrite months the close wrote (their balances are lost)"
    ),
) -> None:
    """Rebuild month-end snapshots from the bucket history: counts exact, balances marked unavailable.

    Months the close already wrote keep their balances unless --replace-closed is given.
    """
    from sqlalchemy import select

    from lenddesk.core.db import get_engine
    from lenddesk.core.errors import LendDeskError
    from lenddesk.ledger.cob import last_closed_date
    from lenddesk.reports.models import ReportMonth
    from lenddesk.reports.service import months_to_rebuild, write_month
    from lenddesk.reports.states import parse_month

    try:
        month = parse_month(first)
    except LendDeskError as exc:
        console.print(f"[red]错误 / error:[/red] {exc.message_zh} / {exc.message_en}")
        raise typer.Exit(code=2) from exc
    engine = get_engine()
    with engine.connect() as connection:
        months = months_to_rebuild(month, last_closed_date(connection))
        closed = set(connection.scalars(select(ReportMonth.month).where(ReportMonth.source == "close")))
    todo = [m for m in months if replace_closed or m not in closed]
    if not todo:
        console.print("没有需要重建的月份 / nothing to rebuild (no closed month end from that month on)")
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("重建月末快照 rebuilding", total=len(todo))
        for each in todo:
            with engine.begin() as connection:
                written = write_month(connection, each, live=False)
            bar.update(task, advance=1, description=f"{each}: {written.loans:,} loans")
    console.print(f"rebuilt {len(todo)} months {todo[0]} … {todo[-1]} (count basis; balances unavailable)")


def register(app: typer.Typer) -> None:
    """Add this room's commands to the CLI."""
    app.add_typer(reports_app, name="reports")
