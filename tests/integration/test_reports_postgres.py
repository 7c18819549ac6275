"""The month-end snapshot on PostgreSQL: the same rows as on SQLite for the same seeded book, and the
hand-computed March matrix of tests/reports on PostgreSQL."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, text

from lenddesk.core.db import make_engine, session_factory, upgrade_database
from lenddesk.core.policy import Policy
from lenddesk.ledger.seed import SeedOptions, seed_book
from lenddesk.reports import service
from lenddesk.reports.service import Period
from tests.reports.conftest import _build

AS_OF = date(2026, 6, 30)
OPTIONS = SeedOptions(borrowers=300, business_date=AS_OF, simulate_days=45, seed=11)
TABLES = {
    "reports_month_end": "month, loan_id",
    "reports_roll_summary": "month, product_code, restructured, from_state, to_state",
    "reports_vintage_summary": "cohort_month, month, product_code",
    "reports_portfolio_summary": "month, product_code",
}


def _rows(engine: Engine) -> dict[str, list[tuple]]:
    with engine.connect() as connection:
        return {
            table: [
                tuple(int(v) if isinstance(v, bool) else v for v in row)
                for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))
            ]
            for table, order in TABLES.items()
        }


def test_postgres_writes_the_same_snapshot_as_sqlite(pg_url: str, template_db: Path, tmp_path: Path) -> None:
    sqlite_path = tmp_path / "book.db"
    shutil.copy(template_db, sqlite_path)
    sqlite = make_engine(f"sqlite:///{sqlite_path}")
    upgrade_database(pg_url)
    postgres = make_engine(pg_url)
    try:
        for engine in (sqlite, postgres):
            seed_book(engine, OPTIONS, policy=Policy())
        closed = _rows(postgres)
        assert closed == _rows(sqlite)
        assert {row[0] for row in closed["reports_roll_summary"]} == {"2026-06"}  # May is the first month end
        for engine in (sqlite, postgres):
            with engine.begin() as connection:
                for month in ("2026-03", "2026-04", "2026-05"):
                    service.write_month(connection, month, live=False)
        assert _rows(postgres) == _rows(sqlite)
        assert _months(postgres) == _months(sqlite) == _counted_months(sqlite)
    finally:
        sqlite.dispose()
        postgres.dispose()


def _months(engine: Engine) -> list[tuple]:
    """Each written month and the loans it says it holds."""
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(text("SELECT month, loans FROM reports_months ORDER BY month"))
        ]


def _counted_months(engine: Engine) -> list[tuple]:
    with engine.connect() as connection:
        query = "SELECT month, COUNT(*) FROM reports_month_end GROUP BY month ORDER BY month"
        return [tuple(row) for row in connection.execute(text(query))]


def test_the_march_matrix_on_postgres(pg_url: str) -> None:
    upgrade_database(pg_url)
    engine = make_engine(pg_url)
    try:
        _build(engine)
        with session_factory(engine)() as session:
            (matrix,) = service.roll_rates(session, Period("2026-03", "2026-03"))
            (cures,) = service.cure_rates(session, Period("2026-03", "2026-03"))
    finally:
        engine.dispose()
    assert matrix.counts == {
        "M0": {"M0": 1, "M1": 1, "settled": 1},
        "M1": {"M0": 1, "M1": 1, "M2": 1},
        "M3": {"M2": 1},
        "M6+": {"WO": 1},
    }
    assert (cures["all"].numerator, cures["all"].denominator) == (1, 5)
