"""Bulk insert of seeded rows: executemany on SQLite, COPY on PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, ForeignKeyConstraint, Index, Table, inspect
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import AddConstraint, DropConstraint

from lenddesk.core.db import Base
from lenddesk.ledger import models  # noqa: F401  (the bulk tables' metadata)

# The tables the seeder fills in bulk (secondary indexes deferred while it loads).
BULK_TABLES = (
    "borrowers", "borrower_contacts", "loans", "schedule_lines", "repayments", "bucket_transitions",
    "settlement_certificates",
)  # fmt: skip

# -- bulk insert ---------------------------------------------------------------------------------


class _BulkWriter:
    """executemany on SQLite, COPY on PostgreSQL; explicit ids, sequences moved on at the end."""

    def __init__(self, connection: Connection, tables: set[str] | None = None) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"
        self.tables: set[str] = tables or set()

    def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        self.tables.add(table)
        raw = self.connection.connection.driver_connection
        if self.postgres:
            types = _binary_types(table, tuple(columns))
            binary = " (FORMAT BINARY)" if types else ""
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN{binary}") as copy,
            ):  # type: ignore[union-attr]
                if types:
                    copy.set_types(types)
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" for _ in columns)
        raw.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)  # type: ignore[union-attr]

    def finish(self) -> None:
        if not self.postgres:
            return
        for table in self.tables:
            self.connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" COALESCE((SELECT MAX(id) FROM {table}), 1))"
            )


# Binary COPY spares the client most of its formatting (a quarter of the CPU for schedule lines),
# but each value must be of its column's exact type: it is used only where every column is one of
# these plain types, whose Python values the builder gives exactly.
_BINARY_SAFE = {"INTEGER": "int4", "BIGINT": "int8", "DATE": "date"}


@lru_cache(maxsize=64)
def _binary_types(table: str, columns: tuple[str, ...]) -> list[str] | None:
    compiled = [
        Base.metadata.tables[table].c[column].type.compile(dialect=postgresql.dialect()) for column in columns
    ]
    if not all(name in _BINARY_SAFE for name in compiled):
        return None
    return [_BINARY_SAFE[name] for name in compiled]


def move_sequences(connection: Connection) -> None:
    """On PostgreSQL, move each bulk table's id sequence past its rows: the load writes every id
    itself, so the sequences have not moved."""
    if connection.dialect.name == "postgresql":
        _BulkWriter(connection, tables=set(BULK_TABLES)).finish()


# -- indexes deferred while a book is loaded -------------------------------------------------------
# Each row written into an indexed table costs an entry per index (and on PostgreSQL a foreign-key
# lookup): building the indexes once after the load sorts instead. Only an empty book is loaded
# this way, and the indexes come back from the models, so a load that died is mended by the next
# `seed` (book.seed_book restores them before anything else).


def _bulk_tables() -> list[Table]:
    return [Base.metadata.tables[name] for name in BULK_TABLES]


def _foreign_keys(table: Table) -> list[ForeignKeyConstraint]:
    return sorted(table.foreign_key_constraints, key=lambda constraint: str(constraint.name))


def defer_indexes(connection: Connection) -> None:
    """Drop the bulk tables' secondary indexes, and on PostgreSQL their foreign keys."""
    inspector = inspect(connection)
    postgres = connection.dialect.name == "postgresql"
    for table in _bulk_tables():
        present = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name in present:
                index.drop(connection)
        if postgres:
            keys = {key["name"] for key in inspector.get_foreign_keys(table.name)}
            for constraint in _foreign_keys(table):
                if constraint.name in keys:
                    connection.execute(DropConstraint(constraint))


def restore_indexes(engine: Engine, *, workers: int = 1) -> None:
    """Create what `defer_indexes` dropped (whatever exists already is left alone); on PostgreSQL
    `workers` connections build them side by side."""
    with engine.connect() as connection:
        inspector = inspect(connection)
        missing: list[Index | ForeignKeyConstraint] = []
        for table in _bulk_tables():
            present = {index["name"] for index in inspector.get_indexes(table.name)}
            missing += [index for index in table.indexes if index.name not in present]
            if connection.dialect.name == "postgresql":
                keys = {key["name"] for key in inspector.get_foreign_keys(table.name)}
                missing += [key for key in _foreign_keys(table) if key.name not in keys]
    if engine.dialect.name != "postgresql":
        workers = 1
    # Foreign keys last: validating one reads the parent's primary key, and indexes come first.
    indexes = [item for item in missing if isinstance(item, Index)]
    keys = [item for item in missing if isinstance(item, ForeignKeyConstraint)]
    with ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
        list(pool.map(lambda item: _create(engine, item), indexes))
        list(pool.map(lambda item: _create(engine, item), keys))


def check_references(connection: Connection) -> None:
    """SQLite loads with its foreign keys unchecked (seed/loader.py): check every reference once."""
    if connection.dialect.name != "sqlite":
        return  # PostgreSQL validated them when restore_indexes added the constraints back
    for table in BULK_TABLES:
        broken = connection.exec_driver_sql(f"PRAGMA foreign_key_check({table})").first()
        if broken is not None:
            raise RuntimeError(f"seeded {table} row {broken[1]} refers to a missing {broken[2]} row")


def _create(engine: Engine, item: Index | ForeignKeyConstraint) -> None:
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # A 1,000,000-loan book's line indexes are 230–340 MB: sorted in memory at 1 GB, they
            # build in 4.4 s instead of 5.1–5.7 s at 256 MB (one per worker connection at a time).
            connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '1GB'")
        if isinstance(item, Index):
            item.create(connection)
        else:
            connection.execute(AddConstraint(item))


def _sqlite_adapters() -> None:
    # Stored the way SQLAlchemy stores them on SQLite, so the ORM reads bulk rows back unchanged.
    sqlite3.register_adapter(date, date.isoformat)
    sqlite3.register_adapter(datetime, _sqlite_datetime)


def _sqlite_datetime(value: datetime) -> str:
    # isoformat, not strftime: a third of the cost, and a book has millions of these.
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


_sqlite_adapters()
