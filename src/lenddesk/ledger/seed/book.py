"""Seeding entry point: products, batches of borrowers, simulation window, report."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select, text

from lenddesk.core.policy import Policy, get_policy
from lenddesk.ledger import after_close
from lenddesk.ledger.cob import engine_of, run_cob
from lenddesk.ledger.delinquency import ChargeTerms, DelinquencyRules
from lenddesk.ledger.models import CobRun, Loan, Product
from lenddesk.ledger.seed._common import PRODUCTS, ProductSpec, Progress, SeedOptions
from lenddesk.ledger.seed.loader import load_batches, merged_plans
from lenddesk.ledger.seed.players import WindowDay, load_players
from lenddesk.ledger.seed.simulation import PaymentSimulation, _issue_certificates
from lenddesk.ledger.seed.writer import check_references, defer_indexes, move_sequences, restore_indexes


@dataclass
class SeedReport:
    skipped: bool = False
    borrowers: int = 0
    loans: int = 0
    schedule_lines: int = 0
    repayments: int = 0
    contacts: int = 0
    business_date: date | None = None
    simulated_from: date | None = None
    seconds: float = 0.0
    status_counts: dict[str, int] = field(default_factory=dict)
    bucket_counts: dict[str, int] = field(default_factory=dict)
    phase_seconds: dict[str, float] = field(default_factory=dict)  # load, indexes, window, finish

    def lap(self, phase: str, since: float) -> float:
        now = time.perf_counter()
        self.phase_seconds[phase] = round(now - since, 2)
        return now


def book_is_seeded(connection: Connection) -> bool:
    return connection.scalar(select(func.count()).select_from(Loan.__table__)) > 0


# -- the entry point ------------------------------------------------------------------------------


def seed_book(
    target: Any, options: SeedOptions, *, progress: Progress | None = None, policy: Policy | None = None
) -> SeedReport:
    """Seed a portfolio into an empty ledger; a ledger that has loans is left alone (idempotent)."""
    engine = engine_of(target)
    policy = policy or get_policy()
    rules = DelinquencyRules.from_policy(policy)
    started = time.perf_counter()
    report = SeedReport(business_date=options.business_date)
    if options.borrowers <= 0:
        return SeedReport(skipped=True, business_date=options.business_date)
    restore_indexes(engine)  # a load that died before putting them back
    with engine.connect() as connection:
        if book_is_seeded(connection):
            connection.rollback()
            return SeedReport(skipped=True, business_date=options.business_date)
        connection.rollback()
        with connection.begin():
            products = _ensure_products(connection)
            defer_indexes(connection)
    start = options.business_date - timedelta(days=options.simulate_days)
    report.simulated_from = start
    lap = time.perf_counter()
    loaded = load_batches(
        engine,
        options,
        rules,
        products,
        start,
        workers=options.workers,
        progress=(lambda done, total: progress("insert", done, total)) if progress else None,
    )
    for counts in loaded:
        report.borrowers += counts.borrowers
        report.loans += counts.loans
        report.schedule_lines += counts.schedule_lines
        report.repayments += counts.repayments
        report.contacts += counts.contacts
    lap = report.lap("load", lap)
    restore_indexes(engine, workers=options.workers)
    with engine.begin() as connection:
        check_references(connection)
        move_sequences(connection)
        connection.execute(
            CobRun.__table__.insert().values(
                business_date=start,
                status="done",
                last_loan_id=report.loans,
                finished_at=datetime.now(UTC),
                summary={"seeded": True},
            )
        )
    lap = report.lap("indexes", lap)
    simulation = PaymentSimulation(engine, merged_plans(loaded), None, options.seed)
    players = load_players(options.players)
    if players:
        after_close.registered_steps()  # the rooms' hooks hear the players' first day as every later one
    last_planned = simulation.last_planned_payment() if players else {}
    for offset in range(1, options.simulate_days + 1):
        day = start + timedelta(days=offset)
        report.repayments += simulation.post_payments(day)
        for play in players:
            play(
                WindowDay(
                    engine,
                    day,
                    start + timedelta(days=1),
                    options.business_date,
                    options.borrowers,
                    options.seed,
                    last_planned,
                )
            )
        skipped = options.skip_steps if options.simulate_days - offset >= options.full_close_days else ()
        with after_close.skipping(*skipped):
            run_cob(engine, day, policy=policy)
        if progress:
            progress("simulate", offset, options.simulate_days)
    lap = report.lap("window", lap)
    with engine.begin() as connection:
        _issue_certificates(connection)
        report.status_counts = dict(
            connection.execute(text("SELECT status, COUNT(*) FROM loans GROUP BY status")).all()
        )  # type: ignore[arg-type]
        report.bucket_counts = dict(
            connection.execute(
                text(
                    "SELECT bucket, COUNT(*) FROM loans WHERE status IN ('current', 'overdue')"
                    " GROUP BY bucket"
                )
            ).all()  # type: ignore[arg-type]
        )
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA optimize")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            # A bulk-loaded table has an empty visibility map: until a VACUUM, an index-only scan
            # reads the heap as well, and the planner prices it so (the score's covering index of
            # past-due lines lost to a plain index scan). Autovacuum would get there later.
            connection.exec_driver_sql("VACUUM (ANALYZE)")
    report.lap("finish", lap)
    report.seconds = round(time.perf_counter() - started, 2)
    return report


def _ensure_products(connection: Connection) -> list[tuple[ProductSpec, int, ChargeTerms]]:
    table = Product.__table__
    existing = dict(connection.execute(select(table.c.code, table.c.id)).all())
    result = []
    for spec in PRODUCTS:
        values = {
            "code": spec.code,
            "name": spec.name,
            "annual_rate": Decimal(spec.annual_rate),
            "term": spec.term,
            "frequency": "monthly",
            "method": spec.method,
            "grace_days": spec.grace_days,
            "penalty_mode": spec.penalty_mode,
            "penalty_daily_rate": Decimal(spec.penalty_daily_rate),
            "penalty_multiple": Decimal(spec.penalty_multiple),
            "late_fee_fixed_fen": spec.late_fee_fixed_fen,
            "late_fee_percent": Decimal(spec.late_fee_percent),
            "allocation_order": "penalty,late_fee,interest,principal",
            "annual_cost_cap": Decimal("0.24"),
            "early_repayment_fee_percent": Decimal("0"),
        }
        if spec.code not in existing:
            existing[spec.code] = connection.execute(
                table.insert().values(**values).returning(table.c.id)
            ).scalar_one()
        result.append((spec, existing[spec.code], ChargeTerms.of_product(_Obj(values))))
    return result


class _Obj:
    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)
