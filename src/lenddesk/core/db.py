"""Engine and sessions for SQLite (default) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, MetaData, create_engine, event, make_url, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from lenddesk.core import sqlite_gate
from lenddesk.core.settings import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are stored in UTC and always come back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# The dialect's own INSERT (ON CONFLICT DO NOTHING / DO UPDATE), by dialect name.
INSERTS: dict[str, Any] = {"postgresql": pg_insert, "sqlite": sqlite_insert}


def insert_for(bind: Session | Connection) -> Any:
    """The INSERT construct of `bind`'s dialect, for ON CONFLICT clauses."""
    dialect = bind.get_bind().dialect.name if isinstance(bind, Session) else bind.dialect.name
    return INSERTS[dialect]


def utcnow() -> datetime:
    return datetime.now(UTC)


def normalise_url(url: str) -> str:
    """Accept postgres:// and postgresql:// and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    # No JIT: it compiles every statement whose estimated cost passes a threshold, and the close's
    # chunked statements all do; compiling took longer than running (1.6 s of the month-end
    # snapshot's 7 s read at 1,000,000 loans, 67 ms of each 0.3 s score chunk; docs/SCALING.md).
    # random_page_cost 1.1, not the default 4 (written for spinning disks): the book's pages are in
    # memory or on SSD, where a random read costs about what a sequential one does. At 4 the early-
    # warning score read all 10.7 M schedule lines of a 1,000,000-loan book once per chunk of
    # borrowers instead of their loans' lines through the index (1.5 s → 0.23 s a chunk).
    # preserve_rowcount: SQLAlchemy 2.1 keeps an INSERT's rowcount only when asked; without it an
    # `INSERT … ON CONFLICT DO NOTHING` or `INSERT … SELECT` answers -1 on psycopg ("inserted?" read
    # as yes; counts of rows written read as -1). SQLite's cursor keeps it either way.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        connect_args={"options": "-c jit=off -c random_page_cost=1.1"},
        execution_options={"preserve_rowcount": True},
    )


def _sqlite_engine(url: str) -> Engine:
    connect_args: dict[str, object] = {"check_same_thread": False, "timeout": 30}
    database = make_url(url).database
    file_backed = bool(database) and database != ":memory:" and not database.startswith("file:")
    if file_backed:
        connect_args["factory"] = sqlite_gate.GatedConnection
    engine = create_engine(url, connect_args=connect_args)
    event.listen(engine, "connect", _sqlite_pragmas)
    if file_backed:
        gate_path = f"{Path(database).resolve()}.writelock"
        event.listen(
            engine, "connect", lambda dbapi_connection, _record: dbapi_connection.open_gate(gate_path)
        )
        event.listen(engine, "before_cursor_execute", sqlite_gate.before_execute)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@lru_cache
def engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine() -> Engine:
    return engine_for(get_settings().database_url)


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=engine or get_engine(), expire_on_commit=False)


@contextmanager
def unit_of_work(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error. Jobs and the CLI use this."""
    session = session_factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def database_reachable(engine: Engine | None = None) -> bool:
    try:
        with (engine or get_engine()).connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).resolve().parent.parent / "migrations"))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade_database(url: str | None = None) -> None:
    """Run every migration up to the newest head (`lenddesk db upgrade`)."""
    from alembic import command

    command.upgrade(alembic_config(url or get_settings().database_url), "heads")
