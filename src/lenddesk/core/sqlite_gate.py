"""One writer at a time on a SQLite file, woken the moment the previous writer commits.

SQLite lets one connection write at a time; the others wait in its busy handler, which polls with
sleeps of up to 100 ms. Under concurrent requests (several threads in each of several uvicorn
workers) that polling, not the work, sets the tail latency. Every LendDesk connection to a file
database therefore passes a gate before its first write statement and leaves it after COMMIT or
ROLLBACK: waiting writers sleep (in the kernel) and wake in turn.

The gate has two parts: a lock inside the process, then an exclusive `flock` on
`<database>.writelock` shared by the processes. Both belong to the connection, not to a thread:
FastAPI runs a request's route and its commit on different threads of its pool, so the thread that
takes the gate is often not the one that gives it back.

A thread that writes on a second connection while its first connection holds the gate would wait
for itself; like SQLite's own busy timeout, the gate then gives up with "database is locked".

SQLite's automatic WAL checkpoint runs inside the COMMIT that crosses its threshold and takes
milliseconds (it writes the pages back and syncs), all of it while that writer holds the gate. Gated
connections turn it off and instead run a PASSIVE checkpoint (which never blocks writers) after
every CHECKPOINT_EVERY write transactions of the process, once the gate is released.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from typing import Any

WAIT_SECONDS = 30.0  # the same as PRAGMA busy_timeout
CHECKPOINT_EVERY = 200  # write transactions of this process; about SQLite's default of 1,000 pages


class _Gate:
    """The gate of one database file in this process."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0
        self._writes_since_checkpoint = 0

    def enter(self) -> None:
        if not self.lock.acquire(timeout=WAIT_SECONDS):
            raise sqlite3.OperationalError("database is locked (waited for the write gate)")
        try:
            fcntl.flock(self._descriptor(), fcntl.LOCK_EX)
        except BaseException:
            self.lock.release()
            raise

    def leave(self) -> bool:
        """Open the gate; True when this process is due to checkpoint the WAL."""
        self._writes_since_checkpoint += 1  # still under the lock
        due = self._writes_since_checkpoint >= CHECKPOINT_EVERY
        if due:
            self._writes_since_checkpoint = 0
        try:
            fcntl.flock(self._descriptor(), fcntl.LOCK_UN)
        finally:
            self.lock.release()
        return due

    def _descriptor(self) -> int:
        # A forked child must not share the parent's open file description (it would share the lock).
        if self._fd is None or self._pid != os.getpid():
            self._fd, self._pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
        return self._fd


_gates: dict[str, _Gate] = {}
_gates_lock = threading.Lock()


def _gate_for(path: str) -> _Gate:
    with _gates_lock:
        return _gates.setdefault(path, _Gate(path))


class GatedConnection(sqlite3.Connection):
    """A sqlite3 connection that serialises its write transactions through the gate of its file."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._gate: _Gate | None = None
        self._gate_held = False

    def open_gate(self, path: str) -> None:
        self._gate = _gate_for(path)
        self.execute("PRAGMA wal_autocheckpoint=0")

    def acquire_gate(self) -> None:
        if self._gate is None or self._gate_held:
            return
        self._gate.enter()
        self._gate_held = True

    def release_gate(self) -> bool:
        """Leave the gate if this connection holds it; True when a checkpoint is due."""
        if self._gate_held and self._gate is not None:
            self._gate_held = False
            return self._gate.leave()
        return False

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            checkpoint_due = self.release_gate()
        if checkpoint_due:
            self.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.release_gate()

    def close(self) -> None:
        self.release_gate()
        super().close()


_READ_ONLY_PREFIXES = ("SELECT", "PRAGMA", "EXPLAIN")


def before_execute(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
    """SQLAlchemy `before_cursor_execute` hook: take the gate before the first write statement."""
    connection = cursor.connection
    if isinstance(connection, GatedConnection) and not statement.lstrip()[:7].upper().startswith(
        _READ_ONLY_PREFIXES
    ):
        connection.acquire_gate()
