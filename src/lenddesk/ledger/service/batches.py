"""Bulk repayment files: each line posted once by its reference, chunk by chunk, resumable.

A file becomes a batch (the same bytes on the same channel are the same batch) whose lines are
stored first; then chunks of pending lines are applied, each chunk in one transaction that also
records its lines' results — a run killed at any point leaves whole chunks applied and the rest
pending, and importing the file again resumes there.

A chunk is set-based in its reads and writes: the loans of its lines are locked together (in id
order), their references, lines and latest repayments read in one statement each, and the
postings written in batches. The money goes through the ledger's own posting rules
(`posting._apply_repayment`, `_refresh_loan`: the waterfall of a single repayment); a loan whose
lines in the chunk would be back-dated behind a later repayment is posted line by line through
`post_repayment`, which re-allocates in value-date order, as a single posting would.
"""

from __future__ import annotations

import csv
import hashlib
import io
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from lenddesk.core import audit, bulk
from lenddesk.core.db import make_engine, session_factory, utcnow
from lenddesk.core.errors import LendDeskError, Unprocessable
from lenddesk.core.gc_threshold import raised_for_bulk_work
from lenddesk.ledger import batch_file
from lenddesk.ledger.locking import begin_write
from lenddesk.ledger.models import Loan, Repayment, RepaymentBatch, RepaymentBatchLine
from lenddesk.ledger.service.posting_rows import NewRepayment, RowPostings
from lenddesk.ledger.service.reference import CHANNELS, STATUS_LABELS_ZH
from lenddesk.ledger.service.repayments import post_repayment

ChunkHook = Callable[[int], None]
_lines_table = RepaymentBatchLine.__table__
_repayments = Repayment.__table__
RESULT_COLUMNS = (
    "line_no",
    "reference",
    "contract_number",
    "amount",
    "value_date",
    "status",
    "reason_code",
    "reason_zh",
    "reason_en",
    "repayment_id",
)


@dataclass
class BatchOutcome:
    batch_id: int
    lines: int
    counts: dict[str, int] = field(default_factory=dict)
    resumed: bool = False


@dataclass(frozen=True)
class _Result:
    line_id: int
    status: str
    code: str | None = None
    zh: str | None = None
    en: str | None = None
    repayment: Any = None  # the repayment (its id is known once the chunk is written)


def import_batch(
    factory: sessionmaker[Session],
    *,
    actor: audit.Actor,
    channel: str,
    content: bytes,
    today: date,
    filename: str = "",
    chunk_size: int = 2000,
    after_chunk: ChunkHook | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
) -> BatchOutcome:
    """Import a repayment file on `channel`: create its batch (or find it) and apply what is pending
    (`run_batch`: in `workers` processes at once on PostgreSQL)."""
    if channel not in CHANNELS:
        raise Unprocessable(
            f"未知的还款渠道：{channel}（可选：{', '.join(CHANNELS)}）",
            f"Unknown repayment channel: {channel} (one of: {', '.join(CHANNELS)})",
            code="unknown_channel",
        )
    with raised_for_bulk_work():  # a file's lines parsed and stored at once (as in `_run_share`)
        try:
            lines = batch_file.read_lines(batch_file.decode(content))
        except batch_file.BadFile as exc:
            raise Unprocessable(exc.message_zh, exc.message_en, code="batch_file_unreadable") from exc
        batch_id, resumed = _create_or_find(factory, actor, channel, content, filename, lines, today)
    counts = run_batch(
        factory,
        batch_id,
        actor=actor,
        chunk_size=chunk_size,
        after_chunk=after_chunk,
        progress=progress,
        workers=workers,
    )
    return BatchOutcome(batch_id, len(lines), counts, resumed)


def _create_or_find(
    factory: sessionmaker[Session],
    actor: audit.Actor,
    channel: str,
    content: bytes,
    filename: str,
    lines: list[batch_file.FileLine],
    today: date,
) -> tuple[int, bool]:
    digest = hashlib.sha256(content).hexdigest()
    for _ in range(2):
        with factory() as session:
            begin_write(session)
            found = session.scalar(
                select(RepaymentBatch.id).where(
                    RepaymentBatch.channel == channel, RepaymentBatch.content_sha256 == digest
                )
            )
            if found is not None:
                return found, True
            batch = RepaymentBatch(
                channel=channel,
                content_sha256=digest,
                filename=filename[:255],
                status="running",
                lines_total=len(lines),
                business_date=today,
                created_by=actor.name,
                counts={},
            )
            session.add(batch)
            try:
                session.flush()
            except IntegrityError:  # the same file imported at the same moment elsewhere: resume that
                session.rollback()
                continue
            if lines:
                bulk.insert_rows(
                    session.connection(),
                    _lines_table,
                    [
                        {
                            "batch_id": batch.id,
                            "line_no": line.line_no,
                            "reference": line.reference,
                            "contract_number": line.contract_number,
                            "amount_text": line.amount,
                            "value_date_text": line.value_date,
                            "status": "pending",
                        }
                        for line in lines
                    ],
                )
            audit.record(
                session,
                actor,
                "repayment_batch.import",
                ("repayment_batch", batch.id),
                None,
                {"channel": channel, "filename": filename[:255], "sha256": digest, "lines": len(lines)},
            )
            session.commit()
            return batch.id, False
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class Share:
    """A worker's part of a batch (PostgreSQL; SQLite runs one share, the whole batch).

    Lines joined by a loan or by a reference fall in one share (`_share_line_numbers`), so one
    worker applies them in file order: the results are those of one worker, whatever the count."""

    index: int = 0
    of: int = 1

    def lock_key(self, batch_id: int) -> int:
        """The advisory lock a run of this share holds per chunk: two runs of one share take turns."""
        digest = hashlib.sha256(f"repayment-batch:{batch_id}:{self.index}/{self.of}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)


WHOLE = Share()
_SHARE_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def run_batch(
    factory: sessionmaker[Session],
    batch_id: int,
    *,
    actor: audit.Actor,
    chunk_size: int = 2000,
    after_chunk: ChunkHook | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
) -> dict[str, int]:
    """Apply the batch's pending lines chunk by chunk; returns its counts by status.

    With `workers` > 1 on PostgreSQL, as many processes (this one and `workers` − 1 spawned) each
    apply one share of the lines at once; on SQLite one writer at a time is all there is."""
    engine = factory.kw["bind"]
    shares = [Share(index, workers) for index in range(workers)]
    if workers <= 1 or engine.dialect.name != "postgresql":
        _run_share(factory, batch_id, actor, chunk_size, WHOLE, after_chunk, progress)
    else:
        url = engine.url.render_as_string(hide_password=False)
        with ProcessPoolExecutor(workers - 1, mp_context=multiprocessing.get_context("spawn")) as pool:
            others = [
                pool.submit(_run_share_apart, url, batch_id, actor, chunk_size, share) for share in shares[1:]
            ]
            _run_share(factory, batch_id, actor, chunk_size, shares[0], after_chunk, progress)
            for other in others:
                other.result()  # a worker's error is this run's: what it left is pending, to resume
    with factory() as session:
        begin_write(session)
        counts = _counts(session, batch_id)
        session.execute(
            update(RepaymentBatch)
            .where(RepaymentBatch.id == batch_id, RepaymentBatch.status == "running")
            .values(status="done", finished_at=utcnow(), counts=counts)
        )
        session.commit()
    return counts


def _run_share(
    factory: sessionmaker[Session],
    batch_id: int,
    actor: audit.Actor,
    chunk_size: int,
    share: Share,
    after_chunk: ChunkHook | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """The share's pending lines, chunk by chunk in file order (the whole batch: the next pending
    lines each time; a share: the next lines of its own, listed once)."""
    with raised_for_bulk_work():
        numbers = _share_line_numbers(factory, batch_id, share) if share.of > 1 else None
        chunk_index = 0
        while True:
            window = (
                None
                if numbers is None
                else numbers[chunk_index * chunk_size : (chunk_index + 1) * chunk_size]
            )
            if window is not None and not window:
                return
            found = _run_chunk_retrying(factory, batch_id, actor, chunk_size, share, window)
            if progress:
                progress(*_progress_of(factory, batch_id))
            if not found and window is None:
                return
            if after_chunk:
                after_chunk(chunk_index)
            chunk_index += 1


def _share_line_numbers(factory: sessionmaker[Session], batch_id: int, share: Share) -> list[int]:
    """The share's line numbers in file order: lines are joined when they name the same contract
    or the same reference, and each group goes to the share of its first line."""
    with factory() as session:
        rows = session.execute(
            select(_lines_table.c.line_no, _lines_table.c.contract_number, _lines_table.c.reference)
            .where(_lines_table.c.batch_id == batch_id)
            .order_by(_lines_table.c.line_no)
        ).all()
    first_line: dict[tuple[str, str], int] = {}  # ("contract" | "reference", value) → a line naming it
    group = {number: number for number, _, _ in rows}

    def root(number: int) -> int:
        while group[number] != number:
            group[number] = group[group[number]]
            number = group[number]
        return number

    for number, contract, reference in rows:
        for key in (("contract", contract), ("reference", reference)):
            other = first_line.setdefault(key, number)
            low, high = sorted((root(number), root(other)))
            group[high] = low  # a group's root is its first line
    return [number for number, _, _ in rows if root(number) % share.of == share.index]


def _run_share_apart(url: str, batch_id: int, actor: audit.Actor, chunk_size: int, share: Share) -> None:
    """A share in a process of its own (spawned: its own engine and connections)."""
    engine = make_engine(url)
    try:
        _run_share(session_factory(engine), batch_id, actor, chunk_size, share)
    finally:
        engine.dispose()


def _progress_of(factory: sessionmaker[Session], batch_id: int) -> tuple[int, int]:
    with factory() as session:
        total = session.scalar(select(RepaymentBatch.lines_total).where(RepaymentBatch.id == batch_id)) or 0
        pending = session.scalar(
            select(func.count())
            .select_from(RepaymentBatchLine)
            .where(RepaymentBatchLine.batch_id == batch_id, RepaymentBatchLine.status == "pending")
        )
        return total - int(pending or 0), total


def _counts(session: Session, batch_id: int) -> dict[str, int]:
    rows = session.execute(
        select(RepaymentBatchLine.status, func.count())
        .where(RepaymentBatchLine.batch_id == batch_id)
        .group_by(RepaymentBatchLine.status)
    ).all()
    return {status: int(count) for status, count in rows}


def _run_chunk_retrying(
    factory: sessionmaker[Session],
    batch_id: int,
    actor: audit.Actor,
    size: int,
    share: Share,
    window: list[int] | None,
) -> bool:
    """One chunk in one transaction; again when PostgreSQL saw another writer take a reference
    (a unique violation) or a serialisation conflict: the retry reads what that writer committed."""
    for attempt in range(5):
        with factory() as session:
            try:
                found = _run_chunk(session, batch_id, actor, size, share, window)
                session.commit()
                return found
            except (IntegrityError, DBAPIError) as exc:
                session.rollback()
                retry = isinstance(exc, IntegrityError) or getattr(exc.orig, "sqlstate", None) in (
                    "40001",
                    "40P01",
                )
                if not retry or attempt == 4:
                    raise
    raise AssertionError("unreachable")  # pragma: no cover


def _run_chunk(
    session: Session, batch_id: int, actor: audit.Actor, size: int, share: Share, window: list[int] | None
) -> bool:
    """Apply the next pending lines (of `window`'s line numbers when given); False when none was."""
    begin_write(session)
    # One chunk of a batch at a time, whoever runs it; or, in shares, one chunk of each share.
    batch = session.scalar(
        select(RepaymentBatch).where(RepaymentBatch.id == batch_id).with_for_update(read=share.of > 1)
    )
    assert batch is not None
    table = _lines_table
    if share.of > 1:
        session.execute(_SHARE_LOCK, {"key": share.lock_key(batch_id)})
    in_window = [] if window is None else [bulk.one_of(table.c.line_no, window, session.get_bind().dialect)]
    pending: list[Any] = session.execute(  # plain rows: id, line_no and the texts as read
        select(
            table.c.id,
            table.c.line_no,
            table.c.reference,
            table.c.contract_number,
            table.c.amount_text,
            table.c.value_date_text,
        )
        .where(table.c.batch_id == batch_id, table.c.status == "pending", *in_window)
        .order_by(table.c.line_no)
        .limit(size)
    ).all()
    if not pending:
        return False
    results = _apply_lines(session, batch, pending, actor)
    session.flush()
    bulk.update_by_id(
        session.connection(),
        _lines_table,
        [
            {
                "_id": r.line_id,
                "status": r.status,
                "reason_code": r.code,
                "reason_zh": r.zh,
                "reason_en": r.en,
                "repayment_id": r.repayment.id if r.repayment is not None else None,
            }
            for r in results
        ],
    )
    return True


def _refused(line_id: int, code: str, zh: str, en: str) -> _Result:
    return _Result(line_id, "refused", code, zh[:255], en[:255])


def _apply_lines(
    session: Session, batch: RepaymentBatch, pending: list[RepaymentBatchLine], actor: audit.Actor
) -> list[_Result]:
    results: dict[int, _Result] = {}
    checked: list[tuple[RepaymentBatchLine, batch_file.CheckedLine]] = []
    for row in pending:
        outcome = batch_file.check_line(
            batch_file.FileLine(
                row.line_no, row.reference, row.contract_number, row.amount_text, row.value_date_text
            )
        )
        if isinstance(outcome, batch_file.Refusal):
            results[row.id] = _refused(row.id, outcome.code, outcome.message_zh, outcome.message_en)
        else:
            checked.append((row, outcome))
    contracts = {line.contract_number for _, line in checked}
    loan_ids = (
        dict(
            session.execute(
                select(Loan.contract_number, Loan.id).where(
                    bulk.one_of(Loan.__table__.c.contract_number, contracts, session.get_bind().dialect)
                )
            ).all()
        )
        if contracts
        else {}
    )
    for row, line in checked:
        if line.contract_number not in loan_ids:
            results[row.id] = _refused(
                row.id,
                "contract_not_found",
                f"合同不存在：{line.contract_number}",
                f"No such contract: {line.contract_number}",
            )
    live = [(row, line) for row, line in checked if row.id not in results]
    if live:
        results.update(_post_lines(session, batch, live, loan_ids, actor))
    return [results[row.id] for row in pending]


@dataclass(frozen=True)
class _Known:
    """A repayment already stored under a reference of the chunk (what a duplicate is checked against)."""

    id: int
    loan_id: int
    amount_fen: int
    value_date: date


def _post_lines(
    session: Session,
    batch: RepaymentBatch,
    lines: list[tuple[RepaymentBatchLine, batch_file.CheckedLine]],
    loan_ids: dict[str, int],
    actor: audit.Actor,
) -> dict[int, _Result]:
    postings = RowPostings(session, actor, batch.business_date)
    since = min(line.value_date for _, line in lines)  # regular repayments only: the earliest
    books = postings.load(
        [loan_ids[line.contract_number] for _, line in lines], since=since
    )  # locked in id order
    references = sorted({line.reference for _, line in lines})
    dialect = session.get_bind().dialect
    seen: dict[str, _Known | NewRepayment | Repayment] = {
        row.external_reference: _Known(row.id, row.loan_id, row.amount_fen, row.value_date)
        for row in session.execute(
            select(
                _repayments.c.external_reference,
                _repayments.c.id,
                _repayments.c.loan_id,
                _repayments.c.amount_fen,
                _repayments.c.value_date,
            ).where(
                _repayments.c.channel == batch.channel,
                bulk.one_of(_repayments.c.external_reference, references, dialect),
            )
        )
    }
    latest = dict(
        session.execute(
            select(_repayments.c.loan_id, func.max(_repayments.c.value_date))
            .where(
                bulk.one_of(_repayments.c.loan_id, sorted(books), dialect), _repayments.c.status != "reversed"
            )
            .group_by(_repayments.c.loan_id)
        ).all()
    )
    back_dated = _back_dated_loans(lines, loan_ids, latest)
    results: dict[int, _Result] = {}
    for row, line in lines:
        loan_id = loan_ids[line.contract_number]
        earlier = seen.get(line.reference)
        if earlier is not None:
            results[row.id] = _duplicate_or_reused(row.id, earlier, loan_id, line)
            continue
        if loan_id in back_dated:
            results[row.id], posted = _post_one(session, batch, row, line, actor)
            if posted is not None:
                seen[line.reference] = posted
            continue
        book = books[loan_id]
        refusal = _refusal_for(book.loan, line, batch.business_date)  # type: ignore[arg-type]
        if refusal is not None:
            results[row.id] = refusal(row.id)
            continue
        repayment = NewRepayment(loan_id, batch.channel, line.reference, line.amount_fen, line.value_date)
        postings.post(book, repayment, {"batch_id": batch.id})
        seen[line.reference] = repayment
        results[row.id] = _Result(row.id, "applied", repayment=repayment)
    postings.write()  # a reference another writer took meanwhile raises here: the chunk is retried
    return results


def _back_dated_loans(
    lines: list[tuple[RepaymentBatchLine, batch_file.CheckedLine]],
    loan_ids: dict[str, int],
    latest: dict[int, date],
) -> set[int]:
    """Loans with a line dated before a repayment already posted or before an earlier line of the
    chunk: those re-allocate in value-date order, through the single posting."""
    running = dict(latest)
    back_dated = set()
    for _, line in lines:
        loan_id = loan_ids[line.contract_number]
        last = running.get(loan_id)
        if last is not None and line.value_date < last:
            back_dated.add(loan_id)
        running[loan_id] = max(last, line.value_date) if last else line.value_date
    return back_dated


def _duplicate_or_reused(
    line_id: int, earlier: _Known | NewRepayment | Repayment, loan_id: int, line: batch_file.CheckedLine
) -> _Result:
    if (earlier.loan_id, earlier.amount_fen, earlier.value_date) == (
        loan_id,
        line.amount_fen,
        line.value_date,
    ):
        return _Result(line_id, "duplicate", repayment=earlier)
    return _refused(
        line_id,
        "reference_reused",
        "该渠道流水号已用于另一笔不同的还款",
        "This channel reference was already used for a different repayment",
    )


def _refusal_for(loan: Loan, line: batch_file.CheckedLine, today: date) -> Callable[[int], _Result] | None:
    """Why a single posting of this line would be refused now (same rules as `post_repayment`)."""
    if loan.status in ("settled", "written_off"):
        zh, en = (
            f"贷款已{STATUS_LABELS_ZH[loan.status]}，不能再入账还款",
            f"The loan is {loan.status.replace('_', ' ')}; no repayment can be posted",
        )
        return lambda line_id: _refused(line_id, f"loan_{loan.status}", zh, en)
    if line.value_date < loan.disbursed_on:
        return lambda line_id: _refused(
            line_id,
            "date_before_disbursement",
            "还款日期不能早于放款日",
            "The value date cannot be before the disbursement date",
        )
    if line.value_date > today:
        return lambda line_id: _refused(
            line_id, "date_in_future", "还款日期不能晚于今天", "The value date cannot be in the future"
        )
    return None


def _post_one(
    session: Session,
    batch: RepaymentBatch,
    row: RepaymentBatchLine,
    line: batch_file.CheckedLine,
    actor: audit.Actor,
) -> tuple[_Result, Repayment | None]:
    try:
        with session.begin_nested():
            outcome = post_repayment(
                session,
                actor=actor,
                contract_number=line.contract_number,
                channel=batch.channel,
                external_reference=line.reference,
                amount_fen=line.amount_fen,
                value_date=line.value_date,
                today=batch.business_date,
            )
    except LendDeskError as error:
        return _refused(row.id, error.code, error.message_zh, error.message_en), None
    status = "duplicate" if outcome.duplicate else "applied"
    return _Result(row.id, status, repayment=outcome.repayment), outcome.repayment


def batch_results(session: Session, batch_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(RepaymentBatchLine)
        .where(RepaymentBatchLine.batch_id == batch_id)
        .order_by(RepaymentBatchLine.line_no)
    )
    return [
        {
            "line_no": row.line_no,
            "reference": row.reference,
            "contract_number": row.contract_number,
            "amount": row.amount_text,
            "value_date": row.value_date_text,
            "status": row.status,
            "reason_code": row.reason_code or "",
            "reason_zh": row.reason_zh or "",
            "reason_en": row.reason_en or "",
            "repayment_id": row.repayment_id or "",
        }
        for row in rows
    ]


def results_csv(rows: list[dict[str, Any]]) -> str:
    """The per-line result file: applied, duplicate or refused (with the reason in Chinese and English)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=RESULT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def find_batch(session: Session, batch_id: int) -> RepaymentBatch | None:
    return session.get(RepaymentBatch, batch_id)
