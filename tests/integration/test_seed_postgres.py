"""The seeder on PostgreSQL: two worker processes copy the book SQLite gets from one process, and
the indexes and foreign keys it drops while loading are all back afterwards."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import inspect

from lenddesk.core.db import Base, make_engine, upgrade_database
from lenddesk.core.policy import Policy
from lenddesk.ledger.seed import seed_book
from lenddesk.ledger.seed.writer import BULK_TABLES
from tests.ledger.test_seed_loader import OPTIONS
from tests.support.seeded_book import book


def test_two_workers_on_postgres_make_the_book_one_process_makes_on_sqlite(
    pg_url: str, template_db: Path, tmp_path: Path
) -> None:
    sqlite_path = tmp_path / "book.db"
    shutil.copy(template_db, sqlite_path)
    sqlite = make_engine(f"sqlite:///{sqlite_path}")
    seed_book(sqlite, OPTIONS, policy=Policy())
    upgrade_database(pg_url)
    postgres = make_engine(pg_url)
    try:
        seed_book(postgres, type(OPTIONS)(**{**OPTIONS.__dict__, "workers": 2}), policy=Policy())
        expected = book(sqlite)
        assert {name: rows for name, rows in expected.items() if name != "repayments"} == {
            name: rows for name, rows in book(postgres).items() if name != "repayments"
        }
        assert [row[:6] for row in expected["repayments"]] == book(postgres)["repayments"]

        inspector = inspect(postgres)
        for name in BULK_TABLES:
            table = Base.metadata.tables[name]
            indexes = {index["name"] for index in inspector.get_indexes(name)}
            assert {index.name for index in table.indexes} <= indexes, name
            keys = {key["name"] for key in inspector.get_foreign_keys(name)}
            assert {key.name for key in table.foreign_key_constraints} <= keys, name
        with postgres.connect() as connection:
            # The sequences moved past the seeded rows: the next posting gets a fresh id.
            next_id = connection.exec_driver_sql("SELECT nextval('repayments_id_seq')").scalar_one()
            assert next_id == len(expected["repayments"]) + 1
    finally:
        sqlite.dispose()
        postgres.dispose()
