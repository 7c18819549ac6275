"""CLI commands of the ledger room, mounted flat on the `lenddesk` command."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lenddesk.core.money import format_fen

console = Console()


def register(app: typer.Typer) -> None:
    """Add this room's commands to the CLI."""
    app.command("cob")(cob)
    app.command("seed")(seed)
    app.command("calc")(calc)
    repayments = typer.Typer(help="Repayments in bulk (还款批量导入)", no_args_is_help=True)
    repayments.command("import")(import_repayments)
    app.add_typer(repayments, name="repayments")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def cob(
    business_date: str | None = typer.Option(
        None, "--date", help="Business date to close, YYYY-MM-DD (default: today in Asia/Shanghai)"
    ),
    chunk_size: int | None = typer.Option(
        None, help="Loan ids per chunk (default: policy ledger.cob_chunk_size)"
    ),
    workers: int | None = typer.Option(
        None,
        min=1,
        max=16,
        help="Connections closing chunks and independent steps side by side, PostgreSQL only"
        " (default: policy ledger.cob_workers)",
    ),
) -> None:
    """Close of business (日终): days past due, buckets, penalties, write-offs; catches up missed dates."""
    from lenddesk.core.calendar import business_today
    from lenddesk.core.db import get_engine
    from lenddesk.core.errors import LendDeskError
    from lenddesk.core.locks import database_job, job_lock
    from lenddesk.ledger.cob import run_cob

    day = _parse_date(business_date) if business_date else business_today()
    with _progress() as bar:
        tasks: dict[date, int] = {}

        def progress(current: date, done: int, total: int) -> None:
            if current not in tasks:
                tasks[current] = bar.add_task(f"COB {current}", total=max(total, 1))
            bar.update(tasks[current], completed=done if total else 1)

        try:
            # One close of business at a time per database, across processes and machines.
            with job_lock(database_job("cob")):
                summary = run_cob(
                    get_engine(), day, chunk_size=chunk_size, progress=progress, workers=workers
                )
        except LendDeskError as exc:
            console.print(f"[red]错误 / error:[/red] {exc.message_zh} / {exc.message_en}")
            raise typer.Exit(code=2) from exc
    if not summary.business_dates:
        console.print(f"{day} 已完成日终 / already closed — nothing to do")
        return
    table = Table(title=f"日终 Close of business {summary.business_dates[0]} … {summary.business_dates[-1]}")
    table.add_column("")
    table.add_column("", justify="right")
    rows = [
        ("dates closed 日期数", str(len(summary.business_dates))),
        ("loans processed 处理贷款", f"{summary.loans_processed:,}"),
        ("newly overdue 新增逾期", f"{summary.newly_overdue:,}"),
        ("cured 回正", f"{summary.cured:,}"),
        ("written off 核销", f"{summary.written_off:,}"),
        ("settled 结清", f"{summary.settled:,}"),
        ("bucket transitions 迁徙", f"{summary.transitions:,}"),
        ("interest fallen due 到期利息", format_fen(summary.interest_due_fen, thousands=True, symbol=True)),
        ("penalty accrued 罚息", format_fen(summary.penalty_fen, thousands=True, symbol=True)),
        ("late fees 滞纳金", format_fen(summary.late_fee_fen, thousands=True, symbol=True)),
        (
            "not charged (cost cap) 超上限未收",
            format_fen(summary.cap_excess_fen, thousands=True, symbol=True),
        ),
        ("duration 耗时", f"{summary.duration_seconds:.2f} s"),
    ]
    for label, value in rows:
        table.add_row(label, value)
    console.print(table)
    console.print(_steps_table(summary.step_seconds))


def _steps_table(step_seconds: dict[str, float]) -> Table:
    """Each step's wall time, in the order the close ran them (ledger first, then after-close)."""
    from lenddesk.ledger.after_close import step_labels
    from lenddesk.ledger.cob import LEDGER_AGING_STEP, LEDGER_CREDIT_STEP

    labels = {
        LEDGER_CREDIT_STEP: "credit balances 溢缴款抵扣",
        LEDGER_AGING_STEP: "aging, penalties, write-off 账龄与罚息",
        **step_labels(),
    }
    total = sum(step_seconds.values()) or 1.0
    # (With workers on PostgreSQL, independent after-close steps overlap: the shares are of their sum.)
    table = Table(title="各步骤耗时 Step times")
    table.add_column("step 步骤")
    table.add_column("name")
    table.add_column("seconds 秒", justify="right")
    table.add_column("share 占比", justify="right")
    for name, seconds in step_seconds.items():
        table.add_row(labels.get(name, name), name, f"{seconds:.3f}", f"{seconds / total:.0%}")
    return table


def import_repayments(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="CSV: reference, contract_number, amount, value_date"
    ),
    channel: str = typer.Option("auto_debit", help="The channel every line came by"),
    result: Path | None = typer.Option(
        None, help="Where the per-line result file goes (default: FILE.result.csv)"
    ),
    chunk_size: int = typer.Option(2000, min=1, help="Lines per transaction"),
    business_date: str | None = typer.Option(
        None, "--date", help="Today as the file's business date, YYYY-MM-DD (default: today in Asia/Shanghai)"
    ),
    workers: int = typer.Option(
        2, min=1, max=16, help="Processes applying the file at once (PostgreSQL; SQLite uses one)"
    ),
) -> None:
    """Import a repayment file (代扣回盘 / bank statement): each reference once; rerun to resume."""
    from lenddesk.core import audit
    from lenddesk.core.calendar import business_today
    from lenddesk.core.db import get_engine, session_factory
    from lenddesk.core.errors import LendDeskError
    from lenddesk.ledger.service import batches

    factory = session_factory(get_engine())
    with _progress() as bar:
        task = bar.add_task(f"import 导入 {file.name}", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=max(total, 1))

        try:
            outcome = batches.import_batch(
                factory,
                actor=audit.Actor.system("cli:repayments-import"),
                channel=channel,
                content=file.read_bytes(),
                today=_parse_date(business_date) if business_date else business_today(),
                filename=file.name,
                chunk_size=chunk_size,
                progress=progress,
                workers=workers,
            )
        except LendDeskError as exc:
            console.print(f"[red]错误 / error:[/red] {exc.message_zh} / {exc.message_en}")
            raise typer.Exit(code=2) from exc
    target = result or file.with_name(file.name + ".result.csv")
    with factory() as session:
        target.write_text(
            batches.results_csv(batches.batch_results(session, outcome.batch_id)), encoding="utf-8"
        )
    table = Table(
        title=f"还款批次 Repayment batch {outcome.batch_id}" + (" (resumed 续跑)" if outcome.resumed else "")
    )
    table.add_column("")
    table.add_column("", justify="right")
    table.add_row("lines 行数", f"{outcome.lines:,}")
    for status, label in (
        ("applied", "applied 已入账"),
        ("duplicate", "duplicate 重复"),
        ("refused", "refused 拒绝"),
    ):
        table.add_row(label, f"{outcome.counts.get(status, 0):,}")
    table.add_row("result file 结果文件", str(target))
    console.print(table)


def seed(
    borrowers: int = typer.Option(..., help="Borrowers to create"),
    loans_per_borrower: float = typer.Option(
        1.5, help="Loans per borrower on average (exact total: floor(N × this))"
    ),
    business_date: str | None = typer.Option(
        None, "--date", help="As-of business date (default: today, Shanghai)"
    ),
    simulate_days: int = typer.Option(60, help="Days before --date simulated with payments and the real COB"),
    seed_value: int = typer.Option(20261126, "--seed", help="Random seed (same seed, same book)"),
    batch: int = typer.Option(10_000, help="Borrowers per insert batch"),
    workers: int = typer.Option(
        2, min=1, max=16, help="Processes building batches side by side (the machine's cores)"
    ),
) -> None:
    """Seed a realistic demo or benchmark book (idempotent: a ledger with loans is left alone)."""
    from lenddesk.core.calendar import business_today
    from lenddesk.core.db import get_engine
    from lenddesk.ledger.seed import SeedOptions, seed_book

    options = SeedOptions(
        borrowers=borrowers,
        loans_per_borrower=loans_per_borrower,
        business_date=_parse_date(business_date) if business_date else business_today(),
        simulate_days=simulate_days,
        seed=seed_value,
        batch_borrowers=batch,
        workers=workers,
    )
    with _progress() as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(
                    {"insert": "insert 写入", "simulate": "simulate 模拟"}[stage], total=total
                )
            bar.update(tasks[stage], completed=done)

        report = seed_book(get_engine(), options, progress=progress)
    if report.skipped:
        console.print("the ledger already has loans — nothing seeded / 已有贷款数据，未重复生成")
        return
    console.print(
        f"seeded {report.borrowers:,} borrowers, {report.loans:,} loans,"
        f" {report.schedule_lines:,} schedule lines,"
        f" {report.repayments:,} repayments, {report.contacts:,} contacts as of {report.business_date}"
        f" in {report.seconds:.1f} s"
    )
    console.print(
        "phases: " + ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in report.phase_seconds.items())
    )
    console.print(f"status: {report.status_counts}")
    console.print(f"active book by bucket: {dict(sorted(report.bucket_counts.items()))}")


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {value}") from exc


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
