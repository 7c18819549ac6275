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
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Date, Engine, bindparam, column, func, insert, select, text, update
from sqlalchemy import table as table_clause
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from lenddesk.core.db import utcnow
from lenddesk.core.errors import Conflict
from lenddesk.core.policy import Policy, get_policy
from lenddesk.ledger import after_close, transitions
from lenddesk.ledger.delinquency import (
    CAP_SCALE,
    DAYS_IN_YEAR,
    PERCENT_SCALE,
    RATE_SCALE,
    ChargeTerms,
    DelinquencyRules,
    standing_case_sql,
)
from lenddesk.ledger.locking import lock_loan_range
from lenddesk.ledger.models import CobChunk, CobRun, Product
from lenddesk.ledger.owed import owes_sql

Progress = Callable[[date, int, int], None]
StepHook = Callable[[str, int], None]

_runs = CobRun.__table__
_chunks = CobChunk.__table__
_work = table_clause("cob_work", column("loan_id"), column("old_bucket"), column("new_bucket"), column("dpd"))

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
                statements=_Statements(connection.dialect.name, DelinquencyRules.from_policy(policy)),
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
    statements: _Statements
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
    lock_loan_range(connection, low, high)  # before reading: postings on these loans wait
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
    values = {"run_id": run_id, "low": low, "high": high, "counts": {}}
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    claimed = connection.execute(dialect_insert(_chunks).values(**values).on_conflict_do_nothing()).rowcount
    return claimed == 1


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


def _prepare(connection: Connection, statements: _Statements) -> None:
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


_OWES = owes_sql("s")
_OWES_PRINCIPAL_OR_INTEREST = owes_sql("s", ("interest", "principal"))


class _Statements:
    """The chunk's SQL for one dialect and one set of rules (built once per run)."""

    def __init__(self, dialect: str, rules: DelinquencyRules) -> None:
        self.dialect = dialect
        self.rules = rules
        date_type = "DATE" if dialect == "postgresql" else "TEXT"
        self.work_tables = [
            "CREATE TEMP TABLE IF NOT EXISTS cob_ids (loan_id INTEGER PRIMARY KEY)",
            "CREATE TEMP TABLE IF NOT EXISTS cob_terms (product_id INTEGER PRIMARY KEY,"
            " penalty_multiple INTEGER, daily_rate_e10 BIGINT, multiple_e8 BIGINT, fee_fixed BIGINT,"
            f" fee_pct_e8 BIGINT, cap_ppm BIGINT, fee_due_on {date_type}, penalty_before {date_type})",
            "CREATE TEMP TABLE IF NOT EXISTS cob_work (loan_id INTEGER PRIMARY KEY, product_id INTEGER,"
            f" basis BIGINT, outstanding BIGINT, disbursed_on {date_type}, elapsed INTEGER DEFAULT 0,"
            " annual_rate NUMERIC(12, 8),"
            " cost_before BIGINT, annual_e8 BIGINT,"
            f" old_status VARCHAR(16), old_bucket VARCHAR(8), old_next_due {date_type},"
            f" oldest_unpaid {date_type}, new_next_due {date_type}, interest_due BIGINT,"
            f" last_paid_off {date_type}, owed_lines INTEGER, dpd INTEGER DEFAULT 0,"
            " new_status VARCHAR(16), new_bucket VARCHAR(8), headroom BIGINT DEFAULT 0,"
            " rate_e10 BIGINT DEFAULT 0, fees BIGINT DEFAULT 0, penalties BIGINT DEFAULT 0,"
            " excess BIGINT DEFAULT 0, later_principal BIGINT)",
            "CREATE TEMP TABLE IF NOT EXISTS cob_reserve (loan_id INTEGER PRIMARY KEY, margin BIGINT)",
            "CREATE TEMP TABLE IF NOT EXISTS cob_line_work (line_id INTEGER PRIMARY KEY, loan_id INTEGER,"
            " period INTEGER, fee BIGINT, penalty BIGINT)",
            "CREATE TEMP TABLE IF NOT EXISTS cob_charge (line_id INTEGER PRIMARY KEY, loan_id INTEGER,"
            " fee BIGINT, penalty BIGINT, wanted BIGINT)",
        ]
        self.chunk_steps = [
            (stage, self._text(sql) if isinstance(sql, str) else sql) for stage, sql in self._chunk_sql()
        ]
        self.summary = text(
            "SELECT COUNT(*) AS loans_processed,"
            " SUM(CASE WHEN old_status = 'current' AND new_status = 'overdue' THEN 1 ELSE 0 END)"
            " AS newly_overdue,"
            " SUM(CASE WHEN old_status = 'overdue' AND new_status IN ('current', 'settled')"
            " THEN 1 ELSE 0 END)"
            " AS cured,"
            " SUM(CASE WHEN new_status = 'written_off' THEN 1 ELSE 0 END) AS written_off,"
            " SUM(CASE WHEN new_status = 'settled' THEN 1 ELSE 0 END) AS settled,"
            " SUM(CASE WHEN old_bucket <> new_bucket THEN 1 ELSE 0 END) AS transitions,"
            " SUM(interest_due) AS interest_due_fen, SUM(penalties) AS penalty_fen,"
            " SUM(fees) AS late_fee_fen, SUM(excess) AS cap_excess_fen FROM cob_work"
        )

    @staticmethod
    def _text(sql: str) -> Any:
        statement = text(sql)
        return statement.bindparams(bindparam("d", type_=Date)) if ":d" in sql else statement

    def days_since(self, earlier: str) -> str:
        """Whole days from `earlier` (a date column) to the business date :d."""
        if self.dialect == "postgresql":
            return f"(CAST(:d AS DATE) - {earlier})"
        return f"CAST(julianday(:d) - julianday({earlier}) AS INTEGER)"

    def days_until(self, later: str) -> str:
        """Whole days from the business date :d to `later` (a date column)."""
        if self.dialect == "postgresql":
            return f"({later} - CAST(:d AS DATE))"
        return f"CAST(julianday({later}) - :jd AS INTEGER)"

    def rounded(self, numerator: str, denominator: int) -> str:
        """numerator / denominator rounded with the system rule, in integer arithmetic."""
        if self.rules.rounding == "half_up":
            return f"((({numerator}) * 2 + {denominator}) / {2 * denominator})"
        quotient, remainder = f"(({numerator}) / {denominator})", f"(({numerator}) % {denominator})"
        return (
            f"(CASE WHEN {remainder} * 2 > {denominator} OR ({remainder} * 2 = {denominator}"
            f" AND {quotient} % 2 = 1) THEN {quotient} + 1 ELSE {quotient} END)"
        )

    def _chunk_sql(self) -> Iterable[tuple[str, Any]]:
        rules = self.rules
        base = "(s.principal_fen - s.paid_principal_fen)"
        if rules.penalty_base == "principal_and_interest":
            base = (
                "(s.principal_fen - s.paid_principal_fen + s.interest_fen - s.paid_interest_fen"
                " - s.waived_interest_fen)"
            )
        # One pass over the chunk's id range: overdue loans, loans newly past due, loans with an
        # instalment falling due. Everything else (most of the book) is not touched.
        yield (
            "select",
            "INSERT INTO cob_ids (loan_id) SELECT id FROM loans WHERE id > :lo AND id <= :hi"
            " AND (status = 'overdue' OR (status = 'current'"
            " AND (oldest_unpaid_due_on < :d OR next_due_on <= :d)))",
        )
        if self.dialect == "postgresql":
            # Temporary tables have no statistics until analysed; without them PostgreSQL
            # plans the joins below as if the work table were large (a scan of all loans).
            yield "analyse_ids", "ANALYZE cob_ids"
        yield (
            "aggregate",
            "INSERT INTO cob_work (loan_id, product_id, basis, outstanding, disbursed_on, cost_before,"
            " annual_rate, old_status, old_bucket, old_next_due, oldest_unpaid, new_next_due, interest_due,"
            " last_paid_off, owed_lines, later_principal)"
            # Grouped by the driving table's key, the loan's own columns wrapped in MAX(): SQLite then
            # streams the groups in id order instead of sorting them.
            " SELECT c.loan_id, MAX(l.product_id),"
            # (the loan's own columns as they are: per-loan arithmetic is done once, below)
            " MAX(l.principal_days_repaid), MAX(l.outstanding_principal_fen), MAX(l.disbursed_on),"
            " MAX(l.early_repayment_fees_fen) + SUM(s.penalty_fen + s.late_fee_fen"
            " + CASE WHEN s.due_on <= :d THEN s.interest_fen ELSE 0 END),"
            " MAX(l.annual_rate),"
            " MAX(l.status), MAX(l.bucket), MAX(l.next_due_on),"
            f" MIN(CASE WHEN {_OWES} THEN s.due_on END),"
            " MIN(CASE WHEN s.due_on > :d THEN s.due_on END),"
            " SUM(CASE WHEN s.due_on >= l.next_due_on AND s.due_on <= :d THEN s.interest_fen ELSE 0 END),"
            " MAX(s.paid_off_on),"
            f" SUM(CASE WHEN {_OWES} THEN 1 ELSE 0 END),"
            # The principal of the instalments not yet due, for the cap's reserve below.
            " SUM(CASE WHEN s.due_on > :d THEN s.principal_fen - s.paid_principal_fen ELSE 0 END)"
            # CROSS JOIN fixes the join order on SQLite (the work table drives; PostgreSQL plans
            # it as an ordinary join).
            " FROM cob_ids c CROSS JOIN loans l CROSS JOIN schedule_lines s"
            " WHERE l.id = c.loan_id AND s.loan_id = c.loan_id GROUP BY c.loan_id",
        )
        if self.dialect == "postgresql":
            yield "analyse_work", "ANALYZE cob_work"
        # basis: the principal-days actually outstanding up to :d (ledger/costcap.py).
        elapsed = f"(CASE WHEN disbursed_on < :d THEN {self.days_since('disbursed_on')} ELSE 0 END)"
        yield (
            "days_past_due",
            f"UPDATE cob_work SET dpd = CASE WHEN oldest_unpaid < :d THEN {self.days_since('oldest_unpaid')}"
            f" ELSE 0 END, elapsed = {elapsed}, basis = basis + outstanding * {elapsed},"
            f" annual_e8 = CAST(ROUND(annual_rate * {PERCENT_SCALE}) AS BIGINT)",
        )
        status, bucket = standing_case_sql(rules, days="dpd", settled_when="owed_lines = 0")
        yield "classify", f"UPDATE cob_work SET new_status = {status}, new_bucket = {bucket}"
        limit = (
            "CASE WHEN cob_work.basis > 0 THEN cob_work.basis * t.cap_ppm"
            f" / {DAYS_IN_YEAR * CAP_SCALE} ELSE 0 END"
        )
        multiple_rate = self.rounded("t.multiple_e8 * cob_work.annual_e8", DAYS_IN_YEAR * 10**6)
        yield (
            "headroom",
            f"UPDATE cob_work SET headroom = {limit} - cob_work.cost_before,"
            f" rate_e10 = CASE WHEN t.penalty_multiple = 1 THEN {multiple_rate} ELSE t.daily_rate_e10 END"
            " FROM cob_terms t WHERE t.product_id = cob_work.product_id AND cob_work.new_status = 'overdue'",
        )
        # Keep room for the contractual interest still to fall due: at each later due date j the
        # total must stay within that date's cap as well, on the principal-days projected with
        # every later instalment k repaid on its due date (costcap.headroom_fen):
        #   basis_j = basis + Σ_{k≤j} p_k (due_k − d) + (Σ_k p_k − Σ_{k≤j} p_k) (due_j − d).
        days_to_due = self.days_until("s.due_on")
        unpaid = "(s.principal_fen - s.paid_principal_fen)"
        running = (
            "OVER (PARTITION BY s.loan_id ORDER BY s.period ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
        )
        yield (
            "reserve",
            "INSERT INTO cob_reserve (loan_id, margin) SELECT f.loan_id,"
            f" MIN(f.basis_then * f.cap_ppm / {DAYS_IN_YEAR * CAP_SCALE} - f.cumulative)"
            " FROM (SELECT w.loan_id, t.cap_ppm,"
            # (SUM is NUMERIC on PostgreSQL: back to an integer so the division truncates.)
            f" CAST(w.basis + SUM({unpaid} * {days_to_due}) {running}"
            f" + (w.later_principal - SUM({unpaid}) {running}) * {days_to_due} AS BIGINT)"
            " AS basis_then,"
            f" SUM(s.interest_fen) {running} AS cumulative"
            # CROSS JOIN: the work table drives on SQLite. A loan already at its cap today gets
            # nothing whatever the reserve: its lines are not read again.
            " FROM cob_work w CROSS JOIN cob_terms t CROSS JOIN schedule_lines s"
            " WHERE t.product_id = w.product_id AND s.loan_id = w.loan_id"
            " AND w.new_status = 'overdue' AND w.headroom > 0 AND s.due_on > :d) f GROUP BY f.loan_id",
        )
        yield (
            "reserve_headroom",
            "UPDATE cob_work SET headroom = r.margin - cob_work.cost_before"
            " FROM cob_reserve r WHERE r.loan_id = cob_work.loan_id"
            " AND r.margin - cob_work.cost_before < cob_work.headroom",
        )
        fee = self.rounded("(s.principal_fen + s.interest_fen) * t.fee_pct_e8", PERCENT_SCALE)
        penalty = self.rounded(f"{base} * w.rate_e10", RATE_SCALE)
        yield (
            "charges",
            "INSERT INTO cob_line_work (line_id, loan_id, period, fee, penalty)"
            " SELECT s.id, s.loan_id, s.period,"
            f" CASE WHEN s.due_on = t.fee_due_on THEN t.fee_fixed + {fee} ELSE 0 END,"
            f" CASE WHEN {base} > 0 THEN {penalty} ELSE 0 END"
            " FROM cob_work w JOIN cob_terms t ON t.product_id = w.product_id"
            " JOIN schedule_lines s ON s.loan_id = w.loan_id"
            " WHERE w.new_status = 'overdue' AND s.due_on < t.penalty_before"
            f" AND {_OWES_PRINCIPAL_OR_INTEREST}",
        )
        # The cost cap, oldest instalment first (late fee before penalty within an instalment).
        yield (
            "cap",
            "INSERT INTO cob_charge (line_id, loan_id, fee, penalty, wanted)"
            " SELECT y.line_id, y.loan_id, CASE WHEN y.allowed >= y.fee THEN y.fee ELSE y.allowed END,"
            " y.allowed - CASE WHEN y.allowed >= y.fee THEN y.fee ELSE y.allowed END, y.fee + y.penalty"
            " FROM (SELECT x.line_id, x.loan_id, x.fee, x.penalty,"
            " CASE WHEN w.headroom - x.before_sum >= x.fee + x.penalty THEN x.fee + x.penalty"
            " WHEN w.headroom - x.before_sum > 0 THEN w.headroom - x.before_sum ELSE 0 END AS allowed"
            " FROM (SELECT lw.line_id, lw.loan_id, lw.fee, lw.penalty,"
            " COALESCE(SUM(lw.fee + lw.penalty) OVER (PARTITION BY lw.loan_id ORDER BY lw.period"
            " ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before_sum"
            " FROM cob_line_work lw WHERE lw.fee + lw.penalty > 0) x"
            " JOIN cob_work w ON w.loan_id = x.loan_id) y",
        )
        yield (
            "lines",
            "UPDATE schedule_lines SET late_fee_fen = schedule_lines.late_fee_fen + c.fee,"
            " penalty_fen = schedule_lines.penalty_fen + c.penalty"
            " FROM cob_charge c WHERE schedule_lines.id = c.line_id AND c.fee + c.penalty > 0",
        )
        yield (
            "totals",
            "UPDATE cob_work SET fees = a.fee, penalties = a.penalty, excess = a.wanted - a.fee - a.penalty"
            " FROM (SELECT loan_id, SUM(fee) AS fee, SUM(penalty) AS penalty, SUM(wanted) AS wanted"
            " FROM cob_charge GROUP BY loan_id) a WHERE cob_work.loan_id = a.loan_id",
        )
        yield (
            "loans",
            "UPDATE loans SET status = w.new_status, days_past_due = w.dpd, bucket = w.new_bucket,"
            " oldest_unpaid_due_on = w.oldest_unpaid,"
            " next_due_on = CASE WHEN w.new_status IN ('settled', 'written_off') THEN NULL"
            " ELSE w.new_next_due END,"
            # Recounted from the lines, so interest paid before its due date's close still counts.
            " cost_charged_fen = w.cost_before - loans.early_repayment_fees_fen + w.fees + w.penalties,"
            " settled_on = CASE WHEN w.new_status = 'settled' THEN COALESCE(w.last_paid_off, :d)"
            " ELSE loans.settled_on END,"
            " written_off_on = CASE WHEN w.new_status = 'written_off' THEN :d ELSE loans.written_off_on END"
            " FROM cob_work w WHERE loans.id = w.loan_id AND loans.id > :lo AND loans.id <= :hi",
        )
        # When this close is catching up, postings of a later date may have moved a loan and recorded
        # that ahead of it: the loan began this date in the bucket the first of those rows left.
        yield (
            "transitions_ahead",
            "UPDATE cob_work SET old_bucket = (SELECT t.from_bucket FROM bucket_transitions t"
            " WHERE t.loan_id = cob_work.loan_id AND t.business_date > :d ORDER BY t.business_date LIMIT 1)"
            " WHERE cob_work.loan_id IN (SELECT loan_id FROM bucket_transitions WHERE business_date > :d)",
        )
        # A posting or reversal may have written today's transition already: upsert, last state wins.
        moved = select(_work.c.loan_id).where(_work.c.old_bucket != _work.c.new_bucket)
        day = bindparam("d", type_=Date)
        yield (
            "transitions",
            transitions.upsert(
                self.dialect,
                source=moved.add_columns(day, _work.c.old_bucket, _work.c.new_bucket, _work.c.dpd),
            ),
        )
        yield "transitions_net", transitions.drop_round_trips(day, moved)
        # Rows ahead of this date are superseded: closing the later dates re-derives them.
        yield (
            "transitions_superseded",
            "DELETE FROM bucket_transitions WHERE business_date > :d"
            " AND loan_id IN (SELECT loan_id FROM cob_work)",
        )


def last_closed_date(connection: Connection) -> date | None:
    return connection.scalar(select(func.max(_runs.c.business_date)).where(_runs.c.status == "done"))
