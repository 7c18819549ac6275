"""Concurrent writers on one SQLite file: serialised by the write gate, nothing lost, no deadlock."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import text

from lenddesk.core.db import make_engine

INSERTS_PER_WORKER = 150


def hammer(url: str, tag: str) -> int:
    """Many threads each doing a read and two writes in one transaction, as request handlers do."""
    engine = make_engine(url)

    def one(index: int) -> None:
        with engine.begin() as connection:
            connection.execute(text("SELECT COUNT(*) FROM rows")).scalar_one()
            connection.execute(text("INSERT INTO rows (tag, n) VALUES (:tag, :n)"), {"tag": tag, "n": index})
            connection.execute(text("UPDATE total SET n = n + 1"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(INSERTS_PER_WORKER)))
    engine.dispose()
    return INSERTS_PER_WORKER


def test_two_processes_of_threads_write_without_losing_a_row(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gate.db'}"
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE rows (tag TEXT NOT NULL, n INTEGER NOT NULL)"))
        connection.execute(text("CREATE TABLE total (n INTEGER NOT NULL)"))
        connection.execute(text("INSERT INTO total VALUES (0)"))
    context = multiprocessing.get_context("spawn")
    started = time.perf_counter()
    with context.Pool(2) as pool:
        done = pool.starmap(hammer, [(url, "a"), (url, "b")])
    elapsed = time.perf_counter() - started
    with engine.connect() as connection:
        inserted = connection.execute(text("SELECT COUNT(*) FROM rows")).scalar_one()
        total = connection.execute(text("SELECT n FROM total")).scalar_one()
    engine.dispose()
    assert sum(done) == inserted == total == 2 * INSERTS_PER_WORKER
    assert elapsed < 60


def test_a_thread_writing_on_two_connections_does_not_deadlock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested.db'}"
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE a (x INTEGER)"))
        connection.execute(text("CREATE TABLE b (x INTEGER)"))
    with engine.begin() as first:
        first.execute(text("INSERT INTO a VALUES (1)"))
        with engine.begin() as second:  # waits on SQLite's busy timeout, not on the gate
            second.execute(text("SELECT COUNT(*) FROM b")).scalar_one()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM a")).scalar_one() == 1
    engine.dispose()


def gate_is_taken(path: Path) -> bool:
    import fcntl
    import os

    descriptor = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)
    return False


def test_the_gate_is_held_from_the_first_write_until_commit_or_rollback(tmp_path: Path) -> None:
    database = tmp_path / "held.db"
    engine = make_engine(f"sqlite:///{database}")
    gate = Path(f"{database.resolve()}.writelock")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    assert not gate_is_taken(gate)
    with engine.connect() as connection:
        connection.execute(text("SELECT COUNT(*) FROM t"))
        assert not gate_is_taken(gate), "reads do not take the gate"
        connection.execute(text("INSERT INTO t VALUES (1)"))
        assert gate_is_taken(gate)
        connection.commit()
        assert not gate_is_taken(gate)
        connection.execute(text("INSERT INTO t VALUES (2)"))
        assert gate_is_taken(gate)
        connection.rollback()
        assert not gate_is_taken(gate)
    engine.dispose()


def test_a_commit_on_another_thread_leaves_the_gate_working_for_the_next_writer(tmp_path: Path) -> None:
    """FastAPI runs a route and its commit on different pool threads; the gate must follow the connection."""
    database = tmp_path / "threads.db"
    engine = make_engine(f"sqlite:///{database}")
    gate = Path(f"{database.resolve()}.writelock")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    with ThreadPoolExecutor(max_workers=1) as route_thread:
        first = engine.connect()
        route_thread.submit(first.execute, text("INSERT INTO t VALUES (1)")).result()
        first.commit()  # on this thread, as the request's session dependency does
        first.close()
        assert not gate_is_taken(gate)
        second = engine.connect()
        route_thread.submit(second.execute, text("INSERT INTO t VALUES (2)")).result()
        assert gate_is_taken(gate), "the next write on the route's thread must take the gate again"
        second.commit()
        second.close()
    assert not gate_is_taken(gate)
    engine.dispose()
