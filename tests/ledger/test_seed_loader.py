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
from lenddesk.ledger.seed.loader import _Turn
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


def shared_turn() -> _Turn:
    context = multiprocessing.get_context("spawn")
    return _Turn(context.Condition(), context.Value("q", 0, lock=False), context.Value("b", 0, lock=False))


def test_batches_are_written_in_order_whatever_order_they_are_built_in() -> None:
    turn, written = shared_turn(), []
    barrier = threading.Barrier(4)

    def write(index: int) -> None:
        barrier.wait()
        turn.wait_for(index)
        written.append(index)
        turn.pass_on()

    threads = [threading.Thread(target=write, args=(index,)) for index in (3, 1, 2, 0)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert written == [0, 1, 2, 3]


def test_a_failed_batch_stops_the_ones_waiting_behind_it() -> None:
    turn, outcome = shared_turn(), []

    def later_batch() -> None:
        try:
            turn.wait_for(1)
        except RuntimeError as error:
            outcome.append(str(error))

    waiting = threading.Thread(target=later_batch)
    waiting.start()
    turn.pass_on(failed=True)  # batch 0 failed while building
    waiting.join(timeout=10)
    assert outcome == ["batch 1 not written: an earlier batch failed"]
