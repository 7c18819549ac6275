"""The same migrations run on PostgreSQL, and every table round-trips a row."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import inspect

from lenddesk.core.db import Base, make_engine, upgrade_database


def sample_value(column: sa.Column[Any], row_number: int) -> Any:
    python_type = column.type.python_type
    if python_type is bool:
        return True
    if python_type is int:
        return row_number
    if python_type is Decimal:
        return Decimal("0.123456")
    if python_type is float:
        return 0.625  # exact in binary: the round trip compares equal
    if python_type is datetime:
        return datetime(2026, 11, 26, 1, 2, 3, tzinfo=UTC)
    if python_type is date:
        return date(2026, 11, 26)
    if python_type is dict:
        return {"k": "值"}
    if python_type is list:
        return ["值"]
    if python_type is bytes:
        return "值".encode() + bytes([0, 255])
    length = getattr(column.type, "length", None) or 20
    return ("值" + str(row_number))[:length]


def insert_order() -> list[sa.Table]:
    return list(Base.metadata.sorted_tables)


def test_migrations_create_every_model_table_on_postgres(pg_url: str) -> None:
    upgrade_database(pg_url)
    engine = make_engine(pg_url)
    tables = set(inspect(engine).get_table_names())
    assert {table.name for table in Base.metadata.sorted_tables} <= tables
    engine.dispose()


def test_every_table_round_trips_a_row(pg_url: str) -> None:
    upgrade_database(pg_url)
    engine = make_engine(pg_url)
    with engine.begin() as connection:
        for table in insert_order():
            row = {}
            for column in table.columns:
                if column.primary_key and column.autoincrement in (True, "auto") and not column.foreign_keys:
                    continue
                if column.foreign_keys:
                    row[column.name] = 1
                elif column.name == "role":
                    row[column.name] = "agent"
                else:
                    row[column.name] = sample_value(column, 1)
            connection.execute(table.insert().values(**row))
            stored = connection.execute(sa.select(table)).mappings().one()
            for name, value in row.items():
                assert stored[name] == value, f"{table.name}.{name}: {stored[name]!r} != {value!r}"
    engine.dispose()
