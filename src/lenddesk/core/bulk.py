"""Many rows in one statement: the hot paths' inserts and updates by id.

Building an executemany's parameters row by row, as SQLAlchemy does, costs more Python than
SQLite spends storing them: on SQLite the rows go to the driver's own executemany, bound column by
column. Through psycopg each row of an executemany is its own pipelined statement, adapted value
by value: on PostgreSQL the rows therefore travel as one JSON document, serialised in one call,
and the server reads them back as records of the table's own row type:

    UPDATE t SET a = v.a FROM json_populate_recordset(NULL::t, :rows) AS v WHERE t.id = v.id
    INSERT INTO t (a, b) SELECT v.a, v.b FROM json_populate_recordset(NULL::t, :rows) AS v

Either way each value goes through its column's own bind processing first (a UTC timestamp is
converted, JSON serialised on SQLite), so what is stored is what SQLAlchemy would have stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    Table,
    any_,
    bindparam,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import JSON

ID_KEY = "_id"  # the key of the row's id in `update_by_id`'s rows
Rows = Sequence[Mapping[str, Any]]


def update_by_id(connection: Connection, table: Table, rows: Rows) -> None:
    """`UPDATE table SET … WHERE id = row["_id"]` for every row (all rows set the same columns)."""
    if not rows:
        return
    dialect = connection.dialect
    names = [name for name in rows[0] if name != ID_KEY]
    if dialect.name != "postgresql":
        assignments = ", ".join(f"{_quoted(dialect, name)} = ?" for name in names)
        statement = f"UPDATE {_quoted(dialect, table.name)} SET {assignments} WHERE id = ?"
        _execute_many(connection, table, statement, [*names, ID_KEY], rows)
        return
    target = _quoted(dialect, table.name)
    assignments = ", ".join(f"{_quoted(dialect, name)} = v.{_quoted(dialect, name)}" for name in names)
    statement = f"UPDATE {target} AS t SET {assignments} FROM {_records(dialect, table)} WHERE t.id = v.id"
    renamed = [{"id" if name == ID_KEY else name: value for name, value in row.items()} for row in rows]
    connection.execute(text(statement), {"rows": _document(dialect, table, renamed)})


def insert_rows(connection: Connection, table: Table, rows: Rows) -> None:
    """`INSERT INTO table` every row (all rows give the same columns; scalar defaults fill the rest)."""
    if not rows:
        return
    names = list(rows[0])
    missing = _scalar_defaults(table, names)
    dialect = connection.dialect
    if dialect.name != "postgresql":
        rows = [{**missing, **row} for row in rows] if missing else rows
        names += missing
        targets = ", ".join(_quoted(dialect, name) for name in names)
        statement = (
            f"INSERT INTO {_quoted(dialect, table.name)} ({targets}) VALUES ({', '.join('?' * len(names))})"
        )
        _execute_many(connection, table, statement, names, rows)
        return
    targets = ", ".join(_quoted(dialect, name) for name in [*names, *missing])
    values = [f"v.{_quoted(dialect, name)}" for name in names] + [f":default_{name}" for name in missing]
    statement = (
        f"INSERT INTO {_quoted(dialect, table.name)} ({targets}) "
        f"SELECT {', '.join(values)} FROM {_records(dialect, table)}"
    )
    parameters = {f"default_{name}": value for name, value in missing.items()}
    connection.execute(text(statement), {"rows": _document(dialect, table, rows), **parameters})


def one_of(column: ColumnElement[Any], values: Collection[Any], dialect: Dialect) -> ColumnElement[bool]:
    """`column IN (values)` with the values in one parameter, so that the statement's text (and
    its parse) is the same for any number of values: `= ANY(:array)` on PostgreSQL, `IN (SELECT
    value FROM json_each(:json))` on SQLite. Values are ints or strings."""
    if dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    listed = func.json_each(bindparam(None, json.dumps(list(values)), type_=String)).table_valued("value")
    return column.in_(select(listed.c.value))


def _execute_many(
    connection: Connection, table: Table, statement: str, names: Sequence[str], rows: Rows
) -> None:
    """The driver's own executemany of `statement` (positional parameters in `names`' order), each
    value bound as its column binds it: what SQLAlchemy's executemany would store, without building
    its parameters row by row."""
    processors = _processors(connection.dialect, table, json_too=True)
    columns = []
    for name in names:
        values = [row[name] for row in rows]
        process = processors.get("id" if name == ID_KEY else name)
        columns.append([process(value) for value in values] if process else values)
    connection.exec_driver_sql(statement, list(zip(*columns, strict=True)))


def _scalar_defaults(table: Table, given: Sequence[str]) -> dict[str, Any]:
    """The columns not given whose default is a plain value; a computed default must be given."""
    defaults = {}
    for column in table.c:
        if column.name in given or column.default is None:
            continue
        if not column.default.is_scalar:
            raise ValueError(f"{table.name}.{column.name}: give its value (its default is computed)")
        defaults[column.name] = column.default.arg
    return defaults


def _records(dialect: Dialect, table: Table) -> str:
    """The rows of the `:rows` document as records of the table's own row type."""
    return f"json_populate_recordset(NULL::{_quoted(dialect, table.name)}, CAST(:rows AS JSON)) AS v"


def _document(dialect: Dialect, table: Table, rows: Rows) -> str:
    """`rows` as one JSON array, each value bound as its column binds it (a UTC timestamp converted)."""
    processors = _processors(dialect, table)
    if processors:
        rows = [
            {name: processors[name](value) if name in processors else value for name, value in row.items()}
            for row in rows
        ]
    return json.dumps(rows, default=_json_scalar, ensure_ascii=False)


@cache
def _processors(dialect: Dialect, table: Table, *, json_too: bool = False) -> dict[str, Callable[[Any], Any]]:
    """Each column's bind processing (JSON columns' only with `json_too`: nested in a document)."""
    processors = {}
    for column in table.c:
        if isinstance(column.type, JSON) and not json_too:
            continue
        process = column.type.bind_processor(dialect)
        if process is not None:
            processors[column.name] = process
    return processors


def _json_scalar(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot bind {type(value).__name__} in a bulk statement")


def _quoted(dialect: Dialect, name: str) -> str:
    return dialect.identifier_preparer.quote(name)
