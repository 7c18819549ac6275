"""The seeder's load: worker processes make the same book as one process, and the indexes it
defers while loading always come back."""

from __future__ import annotations

import multiprocessing
import shutil
import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect

from lenddesk.core.db import Base, make_engine
from lenddesk.core.policy import Policy
from lenddesk.ledger.seed import SeedOptions, seed_book
from lenddesk.ledger.seed.loader import NUMBERED, _Reservations
from lenddesk.ledger.seed.writer import BULK_TABLES, check_references, defer_indexes
from tests.support.seeded_book import BOOK_QUERIES, book

AS_OF = date(2026, 6, 30)
# Four batches of 60 borrowers: two workers each build two and write them in turn.
OPTIONS = SeedOptions(borrowers=240, business_date=AS_OF, simulate_days=4, seed=7, batch_borrowers=60)


def seeded(template_db: Path, directory: Path, workers: int) -> Engine:
    path = directory / "book.db"
    shutil.copy(template_db, path)
    engine = make_engine(f"sqlite:///{path}")
    seed_book(engine, SeedOptions(**{**OPTIONS.__dict__, "workers": workers}), policy=Policy())
    return engine


def index_names(engine: Engine) -> set[str]:
    inspector = inspect(engine)
    return {index["name"] for table in BULK_TABLES for index in inspector.get_indexes(table)}


def model_index_names() -> set[str]:
    return {str(index.name) for table in BULK_TABLES for index in Base.metadata.tables[table].indexes}


def test_two_workers_make_the_book_one_process_makes(
    template_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    alone = seeded(template_db, tmp_path_factory.mktemp("one"), workers=1)
    side_by_side = seeded(template_db, tmp_path_factory.mktemp("two"), workers=2)
    expected, actual = book(alone), book(side_by_side)
    assert len(expected["loans"]) == 360  # 1.5 loans per borrower
    assert all(expected[name] for name in BOOK_QUERIES)
    assert actual == expected
    # Dense ids, in batch order: the database numbered the rows as one writer would.
    for name in ("contacts", "lines", "repayments", "certificates"):
        assert [row[0] for row in actual[name]] == list(range(1, len(actual[name]) + 1))
    for engine in (alone, side_by_side):
        engine.dispose()


def test_the_load_leaves_every_index_of_the_models_in_place(
    template_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    engine = seeded(template_db, tmp_path_factory.mktemp("indexes"), workers=2)
    assert model_index_names() <= index_names(engine)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_a_load_that_died_gets_its_indexes_back_from_the_next_seed(
    template_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    engine = seeded(template_db, tmp_path_factory.mktemp("died"), workers=1)
    with engine.begin() as connection:
        defer_indexes(connection)  # as a load that died before restoring them leaves the book
    assert not model_index_names() & index_names(engine)
    report = seed_book(engine, OPTIONS, policy=Policy())
    assert report.skipped  # the book has loans: nothing is seeded twice …
    assert model_index_names() <= index_names(engine)  # … but the indexes are back
    engine.dispose()


def test_a_reference_to_a_missing_row_is_caught_after_an_unchecked_load(
    template_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    engine = seeded(template_db, tmp_path_factory.mktemp("refs"), workers=1)
    with engine.begin() as connection:
        check_references(connection)  # the seeded book is whole
        connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE schedule_lines SET loan_id = 999999 WHERE id = 5")
    with engine.begin() as connection, pytest.raises(RuntimeError, match="schedule_lines row 5"):
        check_references(connection)
    engine.dispose()


def shared_reservations() -> _Reservations:
    return _Reservations.shared(multiprocessing.get_context("spawn"), [0] * len(NUMBERED))


def test_ids_are_reserved_in_batch_order_whatever_order_the_batches_are_built_in() -> None:
    ids, reserved = shared_reservations(), {}
    barrier = threading.Barrier(4)
    rows_of_batch = {0: 5, 1: 7, 2: 1, 3: 4}  # each batch's rows in every numbered table

    def build_and_reserve(index: int) -> None:
        barrier.wait()
        reserved[index] = ids.reserve(index, [rows_of_batch[index]] * len(NUMBERED))

    threads = [threading.Thread(target=build_and_reserve, args=(index,)) for index in (3, 1, 2, 0)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert {index: first[0] for index, first in reserved.items()} == {0: 1, 1: 6, 2: 13, 3: 14}
    assert list(ids.last_ids) == [17] * len(NUMBERED)


def test_a_failed_batch_stops_the_ones_waiting_behind_it() -> None:
    ids, outcome = shared_reservations(), []

    def later_batch() -> None:
        try:
            ids.reserve(1, [1] * len(NUMBERED))
        except RuntimeError as error:
            outcome.append(str(error))

    waiting = threading.Thread(target=later_batch)
    waiting.start()
    ids.fail()  # batch 0 failed while building
    waiting.join(timeout=10)
    assert outcome == ["batch 1 not written: an earlier batch failed"]
