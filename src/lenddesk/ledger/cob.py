"""The daily close of business (日终批处理): days past due, buckets, status, penalty and late-fee
accrual under the cost cap, write-off, and bucket transitions — set-based SQL over loan-id chunks.

How it stays fast: most loans have nothing due on a given day, so a chunk only picks the loans
that must change — overdue ones (index on status, oldest_unpaid_due_on) and those with an
instalment falling due (index on next_due_on) — into a temporary work table, and then runs one
statement per concern over that set. Nothing loops over loans in Python.

How it stays correct: the rules are those of `delinquency.close_loan_day` (its reference, in
exact integer arithmetic, so SQLite and PostgreSQL agree to the fen). Each chunk is one
transaction that also records itself in `cob_chunks`: a run killed at any point redoes only the
chunks without a row and ends in the same state as an uninterrupted run. A date that is done is
never run again, and dates run in order (missed dates are caught up).

How it uses the machine: on PostgreSQL `workers` connections close chunks side by side (chunks are
disjoint id ranges, each claimed by inserting its row), and then run the after-close steps that do
not read each other side by side (`after_close`). SQLite has one writer: one connection does all.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Date, Engine, bindparam, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from lenddesk.core.db import insert_for, utcnow
from lenddesk.core.errors import Conflict
from lenddesk.core.policy import Policy, get_policy
from lenddesk.ledger import after_close
from lenddesk.ledger.cob_sql import ChunkStatements
from lenddesk.ledger.delinquency import ChargeTerms, DelinquencyRules
from lenddesk.ledger.models import CobChunk, CobRun, Product

Progress = Callable[[date, int, int], None]
StepHook = Callable[[str, int], None]

_runs = CobRun.__table__
_chunks = CobChunk.__table__

JULIAN_DAY_OF_ORDINAL_ZERO = 1721424.5  # julianday('0001-01-01') − 1


@dataclass
class CobSummary:
    """What one or more closes of business did (counts and amounts in fen)."""

    business_dates: list[date] = field(default_factory=list)
    loans_processed: int = 0
    newly_overdue: int = 0
    cured: int = 0
    written_off: int = 0
    settled: int = 0
    transitions: int = 0
    interest_due_fen: int = 0
    penalty_fen: int = 0
    late_fee_fen: int = 0
    cap_excess_fen: int = 0
    chunks: int = 0
    duration_seconds: float = 0.0
    # Wall seconds per step, in the order they ran: the ledger's own (credit balances, aging the
    # book chunk by chunk) and then every after-close step under its registered name.
    step_seconds: dict[str, float] = field(default_factory=dict)

    COUNTERS = (
        "loans_processed",
        "newly_overdue",
        "cured",
        "written_off",
        "settled",
        "transitions",
        "interest_due_fen",
        "penalty_fen",
        "late_fee_fen",
        "cap_excess_fen",
    )

    def add(self, counts: dict[str, Any]) -> None:
        for name in self.COUNTERS:
            setattr(self, name, getattr(self, name) + int(counts.get(name) or 0))
        self.chunks += int(counts.get("chunks") or 0)

    def counters(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in (*self.COUNTERS, "chunks")}

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["business_dates"] = [day.isoformat() for day in self.business_dates]
        return data


class CobOutOfOrder(Conflict):
    default_code = "cob_out_of_order"


class CobBusy(Conflict):
    default_code = "cob_busy"


def engine_of(target: Engine | sessionmaker[Session] | Session) -> Engine:
    if isinstance(target, Engine):
        return target
    if isinstance(target, Session):
        return target.get_bind()  # type: ignore[return-value]
    return target.kw["bind"]


# -- the run --------------------------------------------------------------------------------------


def run_cob(
    target: Engine | sessionmaker[Session] | Session,
    business_date: date,
    *,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    policy: Policy | None = None,
    on_step: StepHook | None = None,
    workers: int | None = None,
) -> CobSummary:
    """Close `business_date`, first catching up every missed date since the last closed one.

    Idempotent: a date already closed is skipped. `on_step(stage, chunk_index)` is called inside
    each chunk's transaction (tests use it to simulate a crash mid-chunk). `workers` (default:
    policy `ledger.cob_workers`) connections close on PostgreSQL; SQLite always closes with one.
    """
    engine = engine_of(target)
    policy = policy or get_policy()
    started = time.perf_counter()
    summary = CobSummary()
    with engine.connect() as connection:
        dates = dates_to_close(connection, business_date)
        if dates:
            closing = _Closing(
                engine=engine,
                statements=ChunkStatements(connection.dialect.name, DelinquencyRules.from_policy(policy)),
                chunk_size=chunk_size or policy.ledger.cob_chunk_size,
                workers=1 if connection.dialect.name == "sqlite" else (workers or policy.ledger.cob_workers),
                progress=progress,
                on_step=on_step,
            )
            _prepare(connection, closing.statements)
            try:
                for day in dates:
                    summary.add(_close_date(connection, closing, day, summary.step_seconds))
                    summary.business_dates.append(day)
            finally:
                _drop_work_tables(connection)
    summary.duration_seconds = round(time.perf_counter() - started, 3)
    summary.step_seconds = {name: round(value, 3) for name, value in summary.step_seconds.items()}
    return summary


def dates_to_close(connection: Connection, business_date: date) -> list[date]:
    """The dates to close, in order, to bring the book to `business_date` (empty if it is closed)."""
    rows = connection.execute(
        select(_runs.c.business_date, _runs.c.status).order_by(_runs.c.business_date)
    ).all()
    connection.rollback()
    done = [row.business_date for row in rows if row.status == "done"]
    running = [row.business_date for row in rows if row.status != "done"]
    if business_date in done:
        return []
    last_done = done[-1] if done else None
    if last_done is not None and business_date < last_done:
        raise CobOutOfOrder(
            f"日终必须按日期顺序运行：{business_date} 早于最近完成的日终 {last_done}",
            f"Close of business runs in date order: {business_date} is before the last closed date"
            f" {last_done}",
            details={"last_closed": last_done.isoformat()},
        )
    if running and running[0] > business_date:
        raise CobOutOfOrder(
            f"{running[0]} 的日终尚未完成，不能先运行 {business_date}",
            f"The close of {running[0]} is unfinished; {business_date} cannot run before it",
        )
    start = last_done + timedelta(days=1) if last_done else (running[0] if running else business_date)
    return [start + timedelta(days=offset) for offset in range((business_date - start).days + 1)]


@dataclass
class _Closing:
    """What every date of one `run_cob` closes with."""

    engine: Engine
    statements: ChunkStatements
    chunk_size: int
    workers: int
    progress: Progress | None
    on_step: StepHook | None


def _close_date(
    connection: Connection, closing: _Closing, day: date, step_seconds: dict[str, float]
) -> dict[str, Any]:
    run_id, start, counts, chunk_size = _open_run(connection, day, closing.chunk_size)
    started = time.perf_counter()
    _apply_credit_balances(connection, day)
    _add_seconds(step_seconds, LEDGER_CREDIT_STEP, started)
    aging_started = time.perf_counter()
    with connection.begin():
        max_id = connection.scalar(text("SELECT MAX(id) FROM loans")) or 0
        _load_terms(connection, day, closing.statements.rules)
        done = set(connection.scalars(select(_chunks.c.low).where(_chunks.c.run_id == run_id)))
    chunks = _Chunks(
        [(low, low + chunk_size) for low in range(start, max_id, chunk_size) if low not in done],
        first=start,
        size=chunk_size,
        max_id=max_id,
        done=len(done),
    )
    if closing.progress:
        closing.progress(day, chunks.position(), max_id)
    _close_chunks(connection, closing, run_id, day, chunks)
    _add_seconds(step_seconds, LEDGER_AGING_STEP, aging_started)
    with connection.begin():
        for chunk_counts in connection.scalars(select(_chunks.c.counts).where(_chunks.c.run_id == run_id)):
            for name, value in chunk_counts.items():
                counts[name] = int(counts.get(name, 0)) + int(value)
        end = connection.scalar(select(func.max(_chunks.c.high)).where(_chunks.c.run_id == run_id))
    # other rooms' steps, idempotent per date
    counts.update(after_close.run_steps(connection, day, step_seconds, workers=closing.workers))
    counts["duration_seconds"] = round(time.perf_counter() - started, 3)
    with connection.begin():
        connection.execute(
            update(_runs)
            .where(_runs.c.id == run_id)
            .values(status="done", finished_at=utcnow(), summary=counts, last_loan_id=max(end or 0, start))
        )
    return counts


class _Chunks:
    """The chunks of a date still to close, handed out one at a time (to any worker thread)."""

    def __init__(
        self, ranges: list[tuple[int, int]], *, first: int, size: int, max_id: int, done: int
    ) -> None:
        self.ranges, self.first, self.size, self.max_id = ranges, first, size, max_id
        self._pending: Iterator[tuple[int, int]] = iter(ranges)
        self._done = done
        self._lock = threading.Lock()
        self.failed = False

    def next(self) -> tuple[int, int] | None:
        with self._lock:
            return None if self.failed else next(self._pending, None)

    def index(self, low: int) -> int:
        return (low - self.first) // self.size

    def finished_one(self) -> int:
        with self._lock:
            self._done += 1
            return self.position()

    def position(self) -> int:
        return min(self.first + self._done * self.size, self.max_id)


def _close_chunks(connection: Connection, closing: _Closing, run_id: int, day: date, chunks: _Chunks) -> None:
    workers = min(closing.workers, len(chunks.ranges))
    if workers <= 1:
        _close_chunks_on(connection, closing, run_id, day, chunks)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cob") as pool:
        futures = [pool.submit(_worker, closing, run_id, day, chunks) for _ in range(workers)]
        for future in futures:
            future.result()


def _worker(closing: _Closing, run_id: int, day: date, chunks: _Chunks) -> None:
    """One more connection closing chunks (PostgreSQL): its own work tables and terms."""
    with closing.engine.connect() as connection:
        _prepare(connection, closing.statements)
        try:
            with connection.begin():
                _load_terms(connection, day, closing.statements.rules)
            _close_chunks_on(connection, closing, run_id, day, chunks)
        finally:
            _drop_work_tables(connection)


def _close_chunks_on(
    connection: Connection, closing: _Closing, run_id: int, day: date, chunks: _Chunks
) -> None:
    try:
        while (chunk := chunks.next()) is not None:
            low, high = chunk
            _close_chunk(connection, closing, run_id, day, low, high, chunks.index(low))
            position = chunks.finished_one()
            if closing.progress:
                closing.progress(day, position, chunks.max_id)
    except BaseException:
        chunks.failed = True  # the other workers stop after their chunk; the run resumes later
        raise


LEDGER_CREDIT_STEP = "ledger.credit_balances"
LEDGER_AGING_STEP = "ledger.aging"


def _add_seconds(step_seconds: dict[str, float], name: str, started: float) -> None:
    step_seconds[name] = step_seconds.get(name, 0.0) + time.perf_counter() - started


def _apply_credit_balances(connection: Connection, day: date) -> None:
    """Let credit from over-payments pay what falls due today before anything is judged overdue.

    Only loans holding credit are read (a handful a day), through the ledger's own posting rules;
    a re-run after a crash finds the credit already used and changes nothing.
    """
    from lenddesk.ledger.service import apply_credit_balances

    with Session(bind=connection) as session:
        apply_credit_balances(session, business_date=day)
        session.commit()


def _open_run(connection: Connection, day: date, chunk_size: int) -> tuple[int, int, dict[str, Any], int]:
    """The run row of `day`: a new one, or the unfinished one left by a crash (resumed).

    Returns its id, the loan id its chunks start after, the counts carried over and the chunk size:
    a resumed run keeps the size its done chunks were cut to, whatever this run was given.
    """
    with connection.begin():
        row = connection.execute(
            select(_runs.c.id, _runs.c.last_loan_id, _runs.c.summary).where(_runs.c.business_date == day)
        ).first()
        if row is not None:
            cut = connection.execute(
                select(_chunks.c.low, _chunks.c.high).where(_chunks.c.run_id == row.id).limit(1)
            ).first()
            # A cursor left by a run from before chunk rows (migration 0021) carried its counts.
            carried = dict(row.summary or {}) if row.last_loan_id else {}
            return row.id, row.last_loan_id, carried, (cut.high - cut.low) if cut else chunk_size
    try:
        with connection.begin():
            run_id = connection.execute(
                insert(_runs)
                .values(business_date=day, status="running", last_loan_id=0, started_at=utcnow(), summary={})
                .returning(_runs.c.id)
            ).scalar_one()
    except IntegrityError as exc:
        raise CobBusy(
            f"{day} 的日终正在另一个进程中运行", f"The close of {day} is running in another process"
        ) from exc
    return run_id, 0, {}, chunk_size


def _close_chunk(
    connection: Connection,
    closing: _Closing,
    run_id: int,
    day: date,
    low: int,
    high: int,
    chunk_index: int,
) -> None:
    """Close loans with low < id ≤ high in one transaction, retried on a serialisation conflict."""
    for attempt in range(3):
        try:
            with connection.begin():
                _chunk_body(connection, closing, run_id, day, low, high, chunk_index)
                return
        except DBAPIError as exc:
            serialisation = getattr(exc.orig, "sqlstate", None) in ("40001", "40P01")
            if not serialisation or attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _chunk_body(
    connection: Connection,
    closing: _Closing,
    run_id: int,
    day: date,
    low: int,
    high: int,
    chunk_index: int,
) -> None:
    # Claiming the chunk first takes the write lock (SQLite) / the key's lock (PostgreSQL): another
    # worker or process closing the same date waits, then finds the chunk's row and leaves it.
    if not _claim(connection, run_id, low, high):
        return
    # jd: the business date's Julian day number, so SQLite parses only the column's date per row.
    params = {"d": day, "lo": low, "hi": high, "jd": day.toordinal() + JULIAN_DAY_OF_ORDINAL_ZERO}
    _empty_chunk_tables(connection)
    for stage, statement in closing.statements.chunk_steps:
        connection.execute(statement, params)
        if closing.on_step:
            closing.on_step(stage, chunk_index)
    row = connection.execute(closing.statements.summary).one()
    counts = {name: int(value or 0) for name, value in row._mapping.items()}
    counts["chunks"] = 1
    connection.execute(
        update(_chunks).where(_chunks.c.run_id == run_id, _chunks.c.low == low).values(counts=counts)
    )


def _claim(connection: Connection, run_id: int, low: int, high: int) -> bool:
    """Insert the chunk's row; False when it is there already (done, or done meanwhile)."""
    claim = insert_for(connection)(_chunks).values(run_id=run_id, low=low, high=high, counts={})
    return connection.execute(claim.on_conflict_do_nothing()).rowcount == 1


def _empty_chunk_tables(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Not DELETE: a temporary table is never vacuumed, so every chunk's deleted rows, and the
        # row versions each UPDATE of the chunk leaves, stayed in it for every later chunk's scans
        # (8,390 pages for 5,951 rows by the last chunk at 1,000,000 loans). TRUNCATE starts empty.
        connection.exec_driver_sql(f"TRUNCATE {', '.join(CHUNK_TABLES)}")
        return
    for table in CHUNK_TABLES:
        connection.execute(text(f"DELETE FROM {table}"))


# -- work tables and statements -------------------------------------------------------------------

CHUNK_TABLES = ("cob_ids", "cob_work", "cob_reserve", "cob_line_work", "cob_charge")
WORK_TABLES = (*CHUNK_TABLES, "cob_terms")


def _prepare(connection: Connection, statements: ChunkStatements) -> None:
    with connection.begin():
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA temp_store = MEMORY")
            connection.exec_driver_sql("PRAGMA cache_size = -131072")
        else:
            # No JIT for the close and its after-close steps (same connection): their statements
            # are costed high (large joins) and carry long CASE expressions, and compiling those
            # took 9 to 32 s of a 12 to 48 s statement (the collections plan's UPDATE, auto_explain
            # at 100,000 loans) to save milliseconds of execution.
            connection.exec_driver_sql("SET jit = off")
        for ddl in statements.work_tables:
            connection.exec_driver_sql(ddl)


def _drop_work_tables(connection: Connection) -> None:
    if connection.in_transaction():
        connection.rollback()
    with connection.begin():
        for table in WORK_TABLES:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        if connection.dialect.name != "sqlite":
            connection.exec_driver_sql("RESET jit")


def _load_terms(connection: Connection, day: date, rules: DelinquencyRules) -> None:
    """One row per product: its terms in integer units and the day's grace-period cut-offs."""
    connection.execute(text("DELETE FROM cob_terms"))
    products = connection.execute(select(Product.__table__)).all()
    rows = [_terms_row(product, day, rules) for product in products]
    if rows:
        connection.execute(
            text(
                "INSERT INTO cob_terms (product_id, penalty_multiple, daily_rate_e10, multiple_e8, fee_fixed,"
                " fee_pct_e8, cap_ppm, fee_due_on, penalty_before) VALUES (:product_id, :penalty_multiple,"
                " :daily_rate_e10, :multiple_e8, :fee_fixed, :fee_pct_e8, :cap_ppm, :fee_due_on,"
                " :penalty_before)"
            ).bindparams(bindparam("fee_due_on", type_=Date), bindparam("penalty_before", type_=Date)),
            rows,
        )


def _terms_row(product: Any, day: date, rules: DelinquencyRules) -> dict[str, Any]:
    terms = ChargeTerms.of_product(product)
    return {
        "product_id": product.id,
        "penalty_multiple": 1 if terms.penalty_mode == "multiple" else 0,
        "daily_rate_e10": terms.penalty_daily_rate_e10,
        "multiple_e8": terms.penalty_multiple_e8,
        "fee_fixed": terms.late_fee_fixed_fen,
        "fee_pct_e8": terms.late_fee_percent_e8,
        "cap_ppm": rules.cap_ppm(terms),
        # The late fee falls on the first day after grace; penalty accrues from that day on.
        "fee_due_on": day - timedelta(days=terms.grace_days + 1),
        "penalty_before": day - timedelta(days=terms.grace_days),
    }


def last_closed_date(connection: Connection) -> date | None:
    return connection.scalar(select(func.max(_runs.c.business_date)).where(_runs.c.status == "done"))
