"""Bulk insert of seeded rows: executemany on SQLite, COPY on PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection

# -- bulk insert ---------------------------------------------------------------------------------


class _BulkWriter:
    """executemany on SQLite, COPY on PostgreSQL; explicit ids, sequences moved on at the end."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"
        self.tables: set[str] = set()

    def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        self.tables.add(table)
        raw = self.connection.connection.driver_connection
        if self.postgres:
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
            ):  # type: ignore[union-attr]
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


def _sqlite_adapters() -> None:
    # Stored the way SQLAlchemy stores them on SQLite, so the ORM reads bulk rows back unchanged.
    sqlite3.register_adapter(date, date.isoformat)
    sqlite3.register_adapter(
        datetime, lambda value: value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    )


_sqlite_adapters()
