"""`lenddesk calc`: the loan calculator in the terminal (Rich tables)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

import typer
from rich.console import Console
from rich.table import Table

from lenddesk.core.errors import LendDeskError
from lenddesk.core.money import format_fen, parse_yuan
from lenddesk.core.policy import get_policy
from lenddesk.ledger import calculator
from lenddesk.ledger.schedule import METHOD_LABELS_ZH, Instalment

console = Console()


class BadInput(Exception):
    pass


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise BadInput(
            f"{option} 须为 YYYY-MM-DD 格式的日期 / {option} must be a date YYYY-MM-DD: {text!r}"
        ) from exc


def _decimal(text: str, option: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise BadInput(f"{option} 须为数字 / {option} must be a number: {text!r}") from exc


def _yuan(fen: int) -> str:
    return format_fen(fen, thousands=True)


def schedule_table(lines: list[Instalment], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for header in ("期数 period", "还款日 due date"):
        table.add_column(header)
    for header in ("本金 principal", "利息 interest", "合计 total", "剩余本金 remaining"):
        table.add_column(header, justify="right")
    for line in lines:
        table.add_row(
            str(line.period),
            line.due_on.isoformat(),
            _yuan(line.principal_fen),
            _yuan(line.interest_fen),
            _yuan(line.total_fen),
            _yuan(line.remaining_fen),
        )
    return table


def run_calc(
    *,
    principal: str,
    rate: str,
    term: int,
    method: str,
    start: str,
    repay_on: str | None,
    partial: str | None,
    fee_percent: str,
) -> None:
    try:
        terms = calculator.LoanTerms.of(
            principal_fen=parse_yuan(principal),
            annual_rate=_decimal(rate, "--rate"),
            term=term,
            method=method,
            start_date=_date(start, "--start"),
            rounding=get_policy().money.rounding,
        )
        result = calculator.schedule(terms)
        early = None
        if repay_on is not None:
            early = calculator.early_repayment(
                terms,
                on=_date(repay_on, "--repay-on"),
                prepaid_principal_fen=parse_yuan(partial) if partial else None,
                fee_percent=_decimal(fee_percent, "--fee-percent"),
            )
        elif partial is not None:
            raise BadInput("--partial 需要同时给出 --repay-on / --partial needs --repay-on")
    except LendDeskError as exc:
        console.print(f"[red]错误 / error:[/red] {exc.message_zh} / {exc.message_en}")
        raise typer.Exit(code=2) from exc
    except BadInput as exc:
        console.print(f"[red]错误 / error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    label = METHOD_LABELS_ZH[terms.method]
    console.print(
        schedule_table(result.lines, f"还款计划 schedule · {label} · {_yuan(terms.principal_fen)} 元")
    )
    totals = f"利息合计 total interest: {_yuan(result.total_interest_fen)}"
    console.print(f"{totals}   还款合计 total: {_yuan(result.total_fen)}")
    if early is not None:
        _print_early(early)


def _print_early(early: calculator.EarlyRepaymentResult) -> None:
    quote = early.quote
    table = Table(title=f"提前还款 early repayment · {quote.on}", title_justify="left", show_header=False)
    table.add_column("item")
    table.add_column("amount", justify="right")
    rows = [
        ("已按期还款期数 instalments paid", str(early.paid_instalments)),
        ("未到期本金 principal not yet due", _yuan(quote.principal_fen)),
        ("当期应计利息 accrued interest", _yuan(quote.accrued_interest_fen)),
        ("提前还款手续费 fee (full settlement)", _yuan(quote.fee_fen)),
        ("一次结清 settle in full", _yuan(quote.total_fen)),
        ("节省利息 interest saved", _yuan(quote.interest_saved_fen)),
    ]
    for row in rows:
        table.add_row(*row)
    console.print(table)
    if early.partial is not None:
        partial = early.partial
        console.print(
            f"部分提前还本 partial: 本金 {_yuan(partial.prepaid_principal_fen)}"
            f" + 手续费 {_yuan(partial.fee_fen)} + 应计利息 {_yuan(quote.accrued_interest_fen)}"
            f" = 应付 {_yuan(partial.total_fen)}；节省利息 interest saved {_yuan(partial.interest_saved_fen)}"
        )
        console.print(
            schedule_table(partial.new_lines, "新还款计划（期限不变、月供减少）new schedule, same term")
        )
