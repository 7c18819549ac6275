"""Alembic environment: the same migrations run on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib
import os

from alembic import context

from lenddesk.core.db import Base, make_engine

# Import every room's models so that autogenerate sees all tables (scripts/regen_migration.py limits
# this to the rooms up to the one whose migration it regenerates).
_ALL_ROOMS = (
    "core,ledger,desk,negotiation,collections,assistant,quality,feedback,channels,reports,risk,incidents,care"
)
_ROOMS = os.environ.get("LENDDESK_MIGRATION_ROOMS", _ALL_ROOMS).split(",")
for _module in (f"lenddesk.{room}.models" for room in _ROOMS):
    try:
        importlib.import_module(_module)
    except ModuleNotFoundError as exc:
        if exc.name != _module:
            raise

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
