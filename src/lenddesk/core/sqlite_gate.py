"""One writer at a time on a SQLite file, woken the moment the previous writer commits.

SQLite lets one connection write at a time; the others wait in its busy handler, which polls with
sleeps of up to 100 ms. Under concurrent requests (several threads in each of several uvicorn
workers) that polling, not the work, sets the tail latency. Every LendDesk connection to a file
database therefore takes an exclusive `flock` on `<database>.writelock` before its first write
statement and drops it after COMMIT or ROLLBACK: waiting writers sleep in the kernel and wake in
turn. flock locks belong to an open file description, so connections in one process exclude each
other too.

A thread that already holds the gate on one connection and writes on a second one skips the gate
for the second (SQLite's own busy timeout still applies), so nesting cannot deadlock.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from typing import Any

_held = threading.local()


def _held_count() -> int:
    return getattr(_held, "count", 0)


class GatedConnection(sqlite3.Connection):
    """A sqlite3 connection that serialises its write transactions through a file lock."""

    gate_path: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._gate_fd: int | None = None
        self._gate_held = False

    def open_gate(self, path: str) -> None:
        self._gate_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def acquire_gate(self) -> None:
        if self._gate_fd is None or self._gate_held or _held_count() > 0:
            return
        fcntl.flock(self._gate_fd, fcntl.LOCK_EX)
        self._gate_held = True
        _held.count = _held_count() + 1

    def release_gate(self) -> None:
        if self._gate_held and self._gate_fd is not None:
            fcntl.flock(self._gate_fd, fcntl.LOCK_UN)
            self._gate_held = False
            _held.count = _held_count() - 1

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.release_gate()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.release_gate()

    def close(self) -> None:
        self.release_gate()
        if self._gate_fd is not None:
            os.close(self._gate_fd)
            self._gate_fd = None
        super().close()


_READ_ONLY_PREFIXES = ("SELECT", "PRAGMA", "EXPLAIN")


def before_execute(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
    """SQLAlchemy `before_cursor_execute` hook: take the gate before the first write statement."""
    connection = cursor.connection
    if isinstance(connection, GatedConnection) and not statement.lstrip()[:7].upper().startswith(
        _READ_ONLY_PREFIXES
    ):
        connection.acquire_gate()
