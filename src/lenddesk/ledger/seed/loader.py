"""Builds the book's batches and writes them in batch order: in this process, or in worker processes.

Building a batch is Python work (its rows and their state at the window start); writing it is the
database's. With workers, each process builds a batch of its own and then waits for its turn to
write, so one batch is written while the next ones are built. Batches are written strictly in
order, one at a time, so the database numbers contacts, lines and repayments as one process would.
"""

from __future__ import annotations

import multiprocessing
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine

from lenddesk.core.db import make_engine
from lenddesk.ledger.delinquency import ChargeTerms, DelinquencyRules
from lenddesk.ledger.seed._common import ProductSpec, SeedOptions
from lenddesk.ledger.seed.builder import PlannedPayment, SeedBatch, _BookBuilder, _Rows
from lenddesk.ledger.seed.writer import _BulkWriter

Products = list[tuple[ProductSpec, int, ChargeTerms]]
TURN_TIMEOUT_SECONDS = 1800.0  # a worker waits this long for the batch before its own, at most


@dataclass
class BatchCounts:
    borrowers: int = 0
    loans: int = 0
    schedule_lines: int = 0
    repayments: int = 0
    contacts: int = 0
    planned: dict[date, list[PlannedPayment]] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: _Rows) -> BatchCounts:
        return cls(
            len(rows.borrowers),
            len(rows.loans),
            len(rows.lines),
            len(rows.repayments),
            len(rows.contacts),
            dict(rows.planned),
        )


def batches(total: int, size: int) -> list[SeedBatch]:
    return [
        SeedBatch(index, first, min(size, total - first)) for index, first in enumerate(range(0, total, size))
    ]


def load_batches(
    engine: Engine,
    options: SeedOptions,
    rules: DelinquencyRules,
    products: Products,
    start: date,
    *,
    workers: int,
    progress: Callable[[int, int], None] | None = None,
) -> list[BatchCounts]:
    """Build and write every batch; returns each batch's counts and planned window payments."""
    todo = batches(options.borrowers, options.batch_borrowers)
    if workers <= 1 or len(todo) <= 1 or _in_memory(engine):
        loaded = _in_this_process(engine, options, rules, products, start, todo)
    else:
        loaded = _in_workers(engine, options, rules, products, start, todo, workers)
    results = []
    for done, counts in enumerate(loaded, start=1):
        results.append(counts)
        if progress:
            progress(done, len(todo))
    return results


def _in_memory(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")


def _in_this_process(
    engine: Engine,
    options: SeedOptions,
    rules: DelinquencyRules,
    products: Products,
    start: date,
    todo: Sequence[SeedBatch],
) -> Iterator[BatchCounts]:
    builder = _BookBuilder(options, rules, products)
    with engine.connect() as connection, _loading(connection):
        for batch in todo:
            rows = builder.build(batch, start)
            _write(connection, rows)
            yield BatchCounts.of(rows)


@contextmanager
def _loading(connection: Connection) -> Iterator[Connection]:
    if connection.dialect.name != "sqlite":
        yield connection
        return
    # Index inserts of a large book need far more than SQLite's default 2 MB page cache. The rows
    # refer to each other by construction (a loan's lines follow it in its batch), and checking
    # each reference costs a lookup per row: seed_book checks them all once, after the load.
    connection.exec_driver_sql("PRAGMA cache_size = -262144")
    connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
    connection.commit()
    try:
        yield connection
    finally:
        connection.rollback()
        connection.exec_driver_sql("PRAGMA foreign_keys = ON")
        connection.exec_driver_sql("PRAGMA cache_size = -2000")
        connection.commit()


def _write(connection: Connection, rows: _Rows) -> None:
    writer = _BulkWriter(connection)
    with connection.begin():
        for table, columns, values in rows.tables():
            writer.write(table, columns, values)


# -- worker processes -----------------------------------------------------------------------------


def _in_workers(
    engine: Engine,
    options: SeedOptions,
    rules: DelinquencyRules,
    products: Products,
    start: date,
    todo: Sequence[SeedBatch],
    workers: int,
) -> Iterator[BatchCounts]:
    # Fresh interpreters (spawn): nothing of this process's connections or threads is inherited.
    context = multiprocessing.get_context("spawn")
    turn = _Turn(context.Condition(), context.Value("q", 0, lock=False), context.Value("b", 0, lock=False))
    url = engine.url.render_as_string(hide_password=False)
    with ProcessPoolExecutor(
        max_workers=min(workers, len(todo)),
        mp_context=context,
        initializer=_start_worker,
        initargs=(url, options, rules, products, start, turn),
    ) as pool:
        yield from pool.map(_build_and_write, todo)


@dataclass
class _Turn:
    """Whose batch is written next, shared by the worker processes."""

    condition: Any
    next_batch: Any
    failed: Any

    def wait_for(self, index: int) -> None:
        with self.condition:
            ready = self.condition.wait_for(
                lambda: self.next_batch.value == index or self.failed.value, TURN_TIMEOUT_SECONDS
            )
            if self.failed.value:
                raise RuntimeError(f"batch {index} not written: an earlier batch failed")
            if not ready:
                raise TimeoutError(f"batch {index} waited {TURN_TIMEOUT_SECONDS:.0f} s for its turn")

    def pass_on(self, *, failed: bool = False) -> None:
        with self.condition:
            if failed:
                self.failed.value = 1
            else:
                self.next_batch.value += 1
            self.condition.notify_all()


_worker: dict[str, Any] = {}


def _start_worker(
    url: str,
    options: SeedOptions,
    rules: DelinquencyRules,
    products: Products,
    start: date,
    turn: _Turn,
) -> None:
    connection = make_engine(url).connect()
    _loading(connection).__enter__()  # for the process's life: the connection ends with it
    _worker.update(
        builder=_BookBuilder(options, rules, products), connection=connection, start=start, turn=turn
    )


def _build_and_write(batch: SeedBatch) -> BatchCounts:
    turn: _Turn = _worker["turn"]
    try:
        rows = _worker["builder"].build(batch, _worker["start"])
        turn.wait_for(batch.index)
        _write(_worker["connection"], rows)
    except BaseException:
        turn.pass_on(failed=True)
        raise
    turn.pass_on()
    return BatchCounts.of(rows)


def merged_plans(results: Sequence[BatchCounts]) -> dict[date, list[PlannedPayment]]:
    planned: dict[date, list[PlannedPayment]] = defaultdict(list)
    for counts in results:
        for day, payments in counts.planned.items():
            planned[day].extend(payments)
    return planned
