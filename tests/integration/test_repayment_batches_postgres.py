"""Repayment files on PostgreSQL: overlapping files imported at once apply each reference once,
on the back-dated (single posting) and on the set-based path; a file applied by two worker
processes gives, line by line, what one worker gives."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lenddesk.core.db import make_engine
from lenddesk.ledger.service.batches import batch_results
from tests.integration.test_ledger_concurrency_postgres import pg_engine  # noqa: F401 - fixture
from tests.ledger.batch_support import (
    csv_file,
    make_loans,
    overlapping_files_on_many_loans_apply_each_reference_once,
    overlapping_imports_apply_each_reference_once,
    run_import,
)
from tests.ledger.test_repayment_batch_set_based import state
from tests.support.servers import PostgresServer


def test_two_overlapping_files_at_once_apply_each_reference_once_on_postgres(pg_engine: Engine) -> None:  # noqa: F811
    overlapping_imports_apply_each_reference_once(pg_engine)


def test_two_overlapping_files_on_the_set_based_path_at_once_on_postgres(pg_engine: Engine) -> None:  # noqa: F811
    overlapping_files_on_many_loans_apply_each_reference_once(pg_engine)


def twin_database(engine: Engine, postgres: PostgresServer, name: str) -> Engine:
    """A copy of `engine`'s database (PostgreSQL's template copy: no other connection may be open)."""
    source = engine.url.database
    engine.dispose()
    with make_engine(
        engine.url.set(database="postgres").render_as_string(hide_password=False)
    ).connect() as admin:
        admin.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            f'CREATE DATABASE "{name}" TEMPLATE "{source}"'
        )
    return make_engine(engine.url.set(database=name).render_as_string(hide_password=False))


def tangled_file(contracts: list[str]) -> list[tuple[str, str, str, str]]:
    """Lines whose results depend on file order: each loan's lines spread over the file, a payment
    beyond what is due (credit that later lines use), and references reused across loans (the first
    in the file wins)."""
    lines = []
    for round_number in range(3):
        for index, contract in enumerate(contracts):
            amount = f"{150 + 37 * index + round_number}.{index % 100:02d}"
            lines.append((f"R{round_number}-{index}", contract, amount, "2026-04-20"))
    for index, contract in enumerate(contracts[::3]):  # a reference already used, on another loan
        lines.append((f"R0-{index + 1}", contract, "10.00", "2026-04-20"))
    lines += [
        ("BIG-1", contracts[0], "20000.00", "2026-04-20"),
        ("AFTER-1", contracts[0], "1.00", "2026-04-20"),
    ]
    return lines


def test_a_file_in_two_worker_processes_gives_what_one_worker_gives(
    pg_engine: Engine,  # noqa: F811
    postgres: PostgresServer,
) -> None:
    contracts = make_loans(pg_engine, 24)
    twin = twin_database(pg_engine, postgres, f"{pg_engine.url.database}_twin")
    lines = tangled_file(contracts)
    one = run_import(pg_engine, csv_file(lines), chunk_size=7)
    two = run_import(twin, csv_file(lines), chunk_size=7, workers=2)
    with Session(pg_engine) as session:
        by_one = batch_results(session, one.batch_id)
    with Session(twin) as session:
        by_two = batch_results(session, two.batch_id)
    strip = [{key: row[key] for key in row if key != "repayment_id"} for row in by_one]
    assert [{key: row[key] for key in row if key != "repayment_id"} for row in by_two] == strip
    assert {row["reason_code"] for row in by_one} == {"", "reference_reused"}
    assert two.counts == one.counts and sum(one.counts.values()) == len(lines)
    assert state(twin) == state(pg_engine)
    twin.dispose()
