"""Builds the book's batches and writes them: in this process, or in worker processes.

Building a batch is Python work (its rows and their state at the window start); writing it is the
database's. With workers, each process builds a batch of its own, reserves the ids of its rows in
batch order (a moment's wait at most for the batch before it to be built), and writes: on
PostgreSQL side by side, on SQLite one batch at a time (one writer), in whatever order the
batches are ready. The ids are those one process writing the batches in order would give.
"""

from __future__ import annotations

import multiprocessing
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine

from lenddesk.core.db import make_engine
from lenddesk.core.gc_threshold import raised_for_bulk_work
from lenddesk.ledger.delinquency import ChargeTerms, DelinquencyRules
from lenddesk.ledger.seed._common import ProductSpec, SeedOptions
from lenddesk.ledger.seed.builder import PlannedPayment, SeedBatch, _BookBuilder, _Rows
from lenddesk.ledger.seed.writer import _BulkWriter

Products = list[tuple[ProductSpec, int, ChargeTerms]]
TURN_TIMEOUT_SECONDS = 1800.0  # a worker waits this long for the batch before its own, at most
# The tables whose ids are reserved batch by batch (borrowers' and loans' follow from the borrower).
NUMBERED = (
    "borrower_contacts", "schedule_lines", "repayments", "bucket_transitions", "settlement_certificates",
)  # fmt: skip


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
    load = _Load(options, rules, products, start, batches(options.borrowers, options.batch_borrowers))
    last_ids = _last_ids(engine)
    if workers <= 1 or len(load.todo) <= 1 or _in_memory(engine):
        loaded = _in_this_process(engine, load, last_ids)
    else:
        loaded = _in_workers(engine, load, workers, last_ids)
    results = []
    for done, counts in enumerate(loaded, start=1):
        results.append(counts)
        if progress:
            progress(done, len(load.todo))
    return results


@dataclass(frozen=True)
class _Load:
    """What every builder of the book's batches needs, in this process or in a worker."""

    options: SeedOptions
    rules: DelinquencyRules
    products: Products
    start: date
    todo: Sequence[SeedBatch]

    def builder(self) -> _BookBuilder:
        return _BookBuilder(self.options, self.rules, self.products)


def _last_ids(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        return [
            connection.exec_driver_sql(f"SELECT COALESCE(MAX(id), 0) FROM {table}").scalar_one()
            for table in NUMBERED
        ]


def _in_memory(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")


def _in_this_process(engine: Engine, load: _Load, last_ids: list[int]) -> Iterator[BatchCounts]:
    builder = load.builder()
    with engine.connect() as connection, _loading(connection):
        for batch in load.todo:
            with raised_for_bulk_work():  # a batch's rows are hundreds of thousands of live tuples
                rows = builder.build(batch, load.start)
                counts = _row_counts(rows)
                first_ids = [last + 1 for last in last_ids]
                last_ids = [last + count for last, count in zip(last_ids, counts, strict=True)]
                _write(connection, rows, first_ids)
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


def _row_counts(rows: _Rows) -> list[int]:
    written = {table: len(values) for table, _, values in rows.tables()}
    return [written[table] for table in NUMBERED]


def _write(connection: Connection, rows: _Rows, first_ids: list[int]) -> None:
    """The batch's rows, those of the NUMBERED tables with ids from their reserved first one on."""
    first = dict(zip(NUMBERED, first_ids, strict=True))
    writer = _BulkWriter(connection)
    with connection.begin():
        for table, columns, values in rows.tables():
            if table in first:
                start = first[table]
                columns, values = ("id", *columns), [(start + i, *row) for i, row in enumerate(values)]
            writer.write(table, columns, values)


# -- worker processes -----------------------------------------------------------------------------


def _in_workers(engine: Engine, load: _Load, workers: int, last_ids: list[int]) -> Iterator[BatchCounts]:
    # Fresh interpreters (spawn): nothing of this process's connections or threads is inherited.
    context = multiprocessing.get_context("spawn")
    ids = _Reservations.shared(context, last_ids)
    one_writer = context.Lock() if engine.dialect.name == "sqlite" else None
    url = engine.url.render_as_string(hide_password=False)
    with ProcessPoolExecutor(
        max_workers=min(workers, len(load.todo)),
        mp_context=context,
        initializer=_start_worker,
        initargs=(url, load, ids, one_writer),
    ) as pool:
        yield from pool.map(_build_and_write, load.todo)


@dataclass
class _Reservations:
    """The last id taken in each NUMBERED table, and which batch reserves next: shared by the
    worker processes so that ids follow batch order whatever order the batches are built in."""

    condition: Any
    next_batch: Any
    failed: Any
    last_ids: Any

    @classmethod
    def shared(cls, context: Any, last_ids: list[int]) -> _Reservations:
        return cls(
            context.Condition(),
            context.Value("q", 0, lock=False),
            context.Value("b", 0, lock=False),
            context.Array("q", last_ids, lock=False),
        )

    def reserve(self, index: int, counts: list[int]) -> list[int]:
        """The first id of each NUMBERED table for batch `index`, once every batch before it has
        reserved its own."""
        with self.condition:
            ready = self.condition.wait_for(
                lambda: self.next_batch.value == index or self.failed.value, TURN_TIMEOUT_SECONDS
            )
            if self.failed.value:
                raise RuntimeError(f"batch {index} not written: an earlier batch failed")
            if not ready:
                raise TimeoutError(f"batch {index} waited {TURN_TIMEOUT_SECONDS:.0f} s for its turn")
            first_ids = [last + 1 for last in self.last_ids]
            for position, count in enumerate(counts):
                self.last_ids[position] += count
            self.next_batch.value += 1
            self.condition.notify_all()
            return first_ids

    def fail(self) -> None:
        with self.condition:
            self.failed.value = 1
            self.condition.notify_all()


_worker: dict[str, Any] = {}


def _start_worker(url: str, load: _Load, ids: _Reservations, one_writer: Any) -> None:
    connection = make_engine(url).connect()
    _loading(connection).__enter__()  # for the process's life: the connection ends with it
    _worker.update(
        builder=load.builder(),
        connection=connection,
        start=load.start,
        ids=ids,
        one_writer=one_writer or nullcontext(),
    )


def _build_and_write(batch: SeedBatch) -> BatchCounts:
    ids: _Reservations = _worker["ids"]
    try:
        with raised_for_bulk_work():
            rows = _worker["builder"].build(batch, _worker["start"])
            first_ids = ids.reserve(batch.index, _row_counts(rows))
            with _worker["one_writer"]:
                _write(_worker["connection"], rows, first_ids)
    except BaseException:
        ids.fail()
        raise
    return BatchCounts.of(rows)


def merged_plans(results: Sequence[BatchCounts]) -> dict[date, list[PlannedPayment]]:
    planned: dict[date, list[PlannedPayment]] = defaultdict(list)
    for counts in results:
        for day, payments in counts.planned.items():
            planned[day].extend(payments)
    return planned
