"""CLI commands of the ledger room, mounted flat on the `lenddesk` command."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this room's commands to the CLI."""
    app.command("calc")(calc)


def calc(
    principal: str = typer.Option(..., help='Principal in yuan, e.g. "10000.00"'),
    rate: str = typer.Option(..., "--rate", "--annual-rate", help="Annual rate as a decimal, e.g. 0.18"),
    term: int = typer.Option(..., help="Number of monthly periods"),
    method: str = typer.Option(
        "equal_instalment", help="equal_instalment, equal_principal, interest_first or bullet"
    ),
    start: str = typer.Option(..., "--start", "--start-date", help="Disbursement date YYYY-MM-DD"),
    repay_on: str | None = typer.Option(None, "--repay-on", help="Early repayment date YYYY-MM-DD"),
    partial: str | None = typer.Option(None, "--partial", help="Principal to prepay (yuan); omit to settle"),
    fee_percent: str = typer.Option("0", "--fee-percent", help="Early repayment fee, % of prepaid principal"),
) -> None:
    """Loan calculator: the repayment schedule, and the cost of repaying early (贷款计算器)."""
    from lenddesk.ledger.calculator_cli import run_calc

    run_calc(
        principal=principal,
        rate=rate,
        term=term,
        method=method,
        start=start,
        repay_on=repay_on,
        partial=partial,
        fee_percent=fee_percent,
    )
