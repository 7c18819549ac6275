"""Postings on plain rows: the posting engine's own rules, read and written with SQLAlchemy Core.

The hot paths (a single repayment over HTTP, a chunk of a repayment file) read their loans and
schedule lines as plain rows in one statement each, run the very same posting rules on them
(`posting._apply_repayment` — the waterfall of `allocation.allocate` — and `posting._restate`),
and write only what changed, each kind of row in one executemany: the repayments (`INSERT …
RETURNING id`), the schedule lines and loans (`UPDATE … WHERE id = ?`), the day's bucket
transitions (an upsert), the settlement certificates and the audit entries. No ORM objects, no
autoflush: a fixed number of statements however many lines and loans.

Callers lock first (`locking.begin_write`; on PostgreSQL `load` takes the loans `FOR UPDATE` in id
order) and own the transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import attrgetter
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, insert, not_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lenddesk.core import audit, bulk
from lenddesk.core.db import utcnow
from lenddesk.ledger import transitions
from lenddesk.ledger.models import (
    BucketTransition,
    Loan,
    Product,
    Repayment,
    ScheduleLine,
    SettlementCertificate,
)
from lenddesk.ledger.owed import owes_clause
from lenddesk.ledger.service.posting import _apply_repayment, _Book, _restate, certificate_number

_loans = Loan.__table__
_lines = ScheduleLine.__table__
_repayments = Repayment.__table__
_products = Product.__table__
_certificates = SettlementCertificate.__table__
_transitions = BucketTransition.__table__

# What the posting rules read of a loan, and what they may change (written back when changed).
LOAN_READ = (
    "id",
    "contract_number",
    "borrower_id",
    "product_id",
    "principal_fen",
    "annual_rate",
    "method",
    "disbursed_on",
)
LOAN_WRITTEN = (
    "status",
    "days_past_due",
    "bucket",
    "oldest_unpaid_due_on",
    "next_due_on",
    "outstanding_principal_fen",
    "cost_charged_fen",
    "principal_days_repaid",
    "early_repayment_fees_fen",
    "credit_balance_fen",
    "settled_on",
)
LINE_READ = (
    "id",
    "loan_id",
    "period",
    "due_on",
    "waived_penalty_fen",
    "waived_late_fee_fen",
    "waived_interest_fen",
)
LINE_WRITTEN = (
    "principal_fen",
    "interest_fen",
    "penalty_fen",
    "late_fee_fen",
    "paid_principal_fen",
    "paid_interest_fen",
    "paid_penalty_fen",
    "paid_late_fee_fen",
    "paid_off_on",
)

# The single posting's statements, built once: building a statement and its cache key costs more
# Python than running it, and all of it would be spent under the loan's lock (SQLite's write gate).
_LOAN_COLUMNS = [_loans.c[name] for name in LOAN_READ + LOAN_WRITTEN]
_LINE_COLUMNS = [_lines.c[name] for name in LINE_READ + LINE_WRITTEN]
_LOAN_BY_CONTRACT = (
    select(*_LOAN_COLUMNS, *[column.label(f"product_{column.name}") for column in _products.c])
    .join(_products, _products.c.id == _loans.c.product_id)
    .where(_loans.c.contract_number == bindparam("contract_number"))
    .with_for_update(of=_loans)
)
# The lines with, on each row, the repayment holding the reference and the count of later payments:
# read after the lock (a new statement sees what the lock's previous holder committed).
_REFERENCE_TAKEN = (
    select(_repayments.c.id)
    .where(
        _repayments.c.channel == bindparam("channel"),
        _repayments.c.external_reference == bindparam("reference"),
    )
    .scalar_subquery()
)
_LATER_PAYMENTS = (
    select(func.count(_repayments.c.id))
    .where(
        _repayments.c.loan_id == bindparam("loan_id"),
        _repayments.c.status != "reversed",
        _repayments.c.value_date > bindparam("value_date"),
    )
    .scalar_subquery()
)
_LINES_AND_PAYMENTS = (
    select(*_LINE_COLUMNS, _REFERENCE_TAKEN, _LATER_PAYMENTS)
    .where(_lines.c.loan_id == bindparam("loan_id"))
    .order_by(_lines.c.period)
)
_PAYMENTS = select(_REFERENCE_TAKEN, _LATER_PAYMENTS)  # the same for a loan without lines
_INSERT_ONCE = {
    dialect: insert_of(_repayments)
    .on_conflict_do_nothing(index_elements=["channel", "external_reference"])
    .returning(_repayments.c.id)
    for dialect, insert_of in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


def _changeable_on_or_after(since: date) -> Any:
    """The schedule lines a regular repayment dated `since` or later can change, or must see: those
    due after `since` (the next instalment is payable early), not paid off, or owing (`owed`)."""
    return or_(_lines.c.due_on > since, _lines.c.paid_off_on.is_(None), owes_clause(_lines))


@dataclass(frozen=True)
class ContractRead:
    """What a single posting reads under the loan's lock: the book, and the payments that decide
    how it posts — the repayment already holding its reference, and how many are dated later."""

    book: _Book
    reference_taken_by: int | None
    later_payments: int


class _Stored:
    """A row as plain attributes (the names of the ORM columns), remembering what was read.

    Slots, and each subclass unpacks its row in one assignment: a chunk builds tens of thousands
    of these, and the posting rules read their attributes many times over."""

    __slots__ = ("_read",)
    id: int
    READ: tuple[str, ...] = ()
    WRITTEN: tuple[str, ...] = ()
    NAMES: tuple[str, ...] = ()
    written_values: Callable[[Any], tuple[Any, ...]]
    _read: tuple[Any, ...]

    def changed(self) -> dict[str, Any] | None:
        """The written columns (and `_id`) when any of them changed since the read, else None."""
        now = self.written_values(self)
        if now == self._read:
            return None
        return {"_id": self.id, **dict(zip(self.WRITTEN, now, strict=True))}


class LoanRow(_Stored):
    READ, WRITTEN, NAMES = LOAN_READ, LOAN_WRITTEN, LOAN_READ + LOAN_WRITTEN
    __slots__ = NAMES
    written_values = staticmethod(attrgetter(*LOAN_WRITTEN))

    def __init__(self, row: Row[Any] | tuple[Any, ...]) -> None:
        """`row` holds LOAN_READ then LOAN_WRITTEN, in that order."""
        values = tuple(row)
        (
            self.id,
            self.contract_number,
            self.borrower_id,
            self.product_id,
            self.principal_fen,
            self.annual_rate,
            self.method,
            self.disbursed_on,
            self.status,
            self.days_past_due,
            self.bucket,
            self.oldest_unpaid_due_on,
            self.next_due_on,
            self.outstanding_principal_fen,
            self.cost_charged_fen,
            self.principal_days_repaid,
            self.early_repayment_fees_fen,
            self.credit_balance_fen,
            self.settled_on,
        ) = values
        self._read = values[8:]


class LineRow(_Stored):
    READ, WRITTEN, NAMES = LINE_READ, LINE_WRITTEN, LINE_READ + LINE_WRITTEN
    __slots__ = NAMES
    written_values = staticmethod(attrgetter(*LINE_WRITTEN))

    def __init__(self, row: Row[Any] | tuple[Any, ...]) -> None:
        """`row` holds LINE_READ then LINE_WRITTEN, in that order."""
        values = tuple(row)
        (
            self.id,
            self.loan_id,
            self.period,
            self.due_on,
            self.waived_penalty_fen,
            self.waived_late_fee_fen,
            self.waived_interest_fen,
            self.principal_fen,
            self.interest_fen,
            self.penalty_fen,
            self.late_fee_fen,
            self.paid_principal_fen,
            self.paid_interest_fen,
            self.paid_penalty_fen,
            self.paid_late_fee_fen,
            self.paid_off_on,
        ) = values
        self._read = values[7:]


@dataclass(eq=False)
class NewRepayment:
    """A repayment posted on rows: `id` is known once `RowPostings.write` inserted it."""

    loan_id: int
    channel: str
    external_reference: str
    amount_fen: int
    value_date: date
    kind: str = "regular"
    allocation: list[dict[str, Any]] | None = None
    id: int | None = None
    posted_by: str = ""
    status: str = "posted"
    reversal_reason: str | None = None
    reversal_requested_by: str | None = None
    reversal_approved_by: str | None = None
    received_at: datetime | None = None


@dataclass
class RowPostings:
    """The postings of one transaction on plain rows, written together by `write`."""

    session: Session
    actor: audit.Actor
    today: date
    books: dict[int, _Book] = field(default_factory=dict)
    _buckets_read: dict[int, str] = field(default_factory=dict)
    _new: list[NewRepayment] = field(default_factory=list)
    _audits: list[dict[str, Any] | tuple[NewRepayment, dict[str, Any]]] = field(default_factory=list)
    _settled: list[LoanRow] = field(default_factory=list)

    def _connection(self) -> Connection:
        """The session's connection for a prebuilt statement, with the session's pending ORM changes
        flushed first, as `Session.execute` does (for less Python than going through it)."""
        if self.session.autoflush:
            self.session.flush()
        return self.session.connection()

    def load(
        self,
        loan_ids: list[int],
        *,
        products: dict[int, Row[Any]] | None = None,
        since: date | None = None,
    ) -> dict[int, _Book]:
        """Read (and on PostgreSQL lock, in id order) the loans and their lines: one statement each,
        and one for the products unless given.

        With `since`, for regular repayments dated `since` or later only: the lines paid off and due
        by then are left out (no such repayment changes them), and the principal paid on them is
        summed in the database instead (one more statement)."""
        ids = sorted(set(loan_ids))
        if not ids:
            return {}
        columns = [_loans.c[name] for name in LOAN_READ + LOAN_WRITTEN]
        dialect = self.session.get_bind().dialect
        loans = [
            LoanRow(row)
            for row in self.session.execute(
                select(*columns)
                .where(bulk.one_of(_loans.c.id, ids, dialect))
                .order_by(_loans.c.id)
                .with_for_update()
            ).all()
        ]
        if products is None:
            products = {row.id: row for row in self.session.execute(select(_products))}
        of_loans = bulk.one_of(_lines.c.loan_id, ids, dialect)
        changeable = [] if since is None else [_changeable_on_or_after(since)]
        lines: dict[int, list[Any]] = {loan.id: [] for loan in loans}
        line_columns = [_lines.c[name] for name in LINE_READ + LINE_WRITTEN]
        for row in self.session.execute(
            select(*line_columns).where(of_loans, *changeable).order_by(_lines.c.loan_id, _lines.c.period)
        ).all():  # fetchall, not row by row
            line = LineRow(row)
            lines[line.loan_id].append(line)
        left_out = {} if since is None else self._principal_paid_on_lines_left_out(of_loans, since)
        for loan in loans:
            self.books[loan.id] = _Book(
                loan=loan,  # type: ignore[arg-type]
                product=products[loan.product_id],  # type: ignore[arg-type]
                lines=lines[loan.id],
                principal_paid_on_lines_left_out_fen=left_out.get(loan.id, 0),
                lines_left_out=since is not None,
            )
            self._buckets_read[loan.id] = loan.bucket
        return {loan.id: self.books[loan.id] for loan in loans}

    def _principal_paid_on_lines_left_out(self, of_loans: Any, since: date) -> dict[int, int]:
        rows = self.session.execute(
            select(_lines.c.loan_id, func.sum(_lines.c.paid_principal_fen))
            .where(of_loans, not_(_changeable_on_or_after(since)))
            .group_by(_lines.c.loan_id)
        ).all()
        return {loan_id: int(paid) for loan_id, paid in rows}

    def load_contract(
        self, contract_number: str, *, channel: str, reference: str, value_date: date
    ) -> ContractRead | None:
        """One loan by its contract number with its product, locked, in one statement; then its
        lines with the repayment holding (`channel`, `reference`) and the count of payments dated
        after `value_date` in another (the single posting's reads)."""
        connection = self._connection()
        row = connection.execute(_LOAN_BY_CONTRACT, {"contract_number": contract_number}).first()
        if row is None:
            return None
        width = len(_LOAN_COLUMNS)
        loan = LoanRow(row[:width])
        product = SimpleNamespace(**dict(zip(_products.c.keys(), row[width:], strict=True)))
        parameters = {
            "loan_id": loan.id,
            "channel": channel,
            "reference": reference,
            "value_date": value_date,
        }
        rows = connection.execute(_LINES_AND_PAYMENTS, parameters).all()
        lines: list[Any] = [LineRow(line[: len(_LINE_COLUMNS)]) for line in rows]
        taken, later = rows[0][-2:] if rows else connection.execute(_PAYMENTS, parameters).one()
        book = _Book(loan=loan, product=product, lines=lines)  # type: ignore[arg-type]
        self.books[loan.id] = book
        self._buckets_read[loan.id] = loan.bucket
        return ContractRead(book, taken, later)

    def insert_repayment_once(self, repayment: NewRepayment) -> bool:
        """Insert `repayment` unless its (channel, reference) is taken (another writer, meanwhile):
        `INSERT … ON CONFLICT DO NOTHING RETURNING id`, no savepoint. False when it was taken."""
        connection = self._connection()
        inserted = connection.execute(
            _INSERT_ONCE[connection.dialect.name], self._repayment_values(repayment, utcnow())
        ).scalar()
        if inserted is None:
            return False
        repayment.id = inserted
        return True

    def add_audit(self, entry: dict[str, Any]) -> None:
        """An audit entry (`audit.entry_values`) written with this transaction's postings, in order."""
        self._audits.append(entry)

    def post(self, book: _Book, repayment: NewRepayment, audit_extra: dict[str, Any] | None = None) -> None:
        """Apply `repayment` to `book` by the posting rules (raises as a single posting would)."""
        _apply_repayment(book, repayment, replaying=False)  # type: ignore[arg-type]
        self._new.append(repayment)
        restated = _restate(book, today=self.today, settled_on=repayment.value_date)
        assert not restated.reopened  # a new repayment never re-opens a settled loan
        if restated.settled:
            self._settled.append(book.loan)  # type: ignore[arg-type]
        if restated.after != restated.before:
            self._audits.append(
                audit.entry_values(
                    self.actor, "loan.status", ("loan", repayment.loan_id), restated.before, restated.after
                )
            )
        self._audits.append((repayment, audit_extra or {}))

    def write(self) -> None:
        """Write every posting of this transaction: a fixed number of statements (once, at its end)."""
        self._insert_repayments()
        self._update(_lines, [book.lines for book in self.books.values()])
        self._update(_loans, [[book.loan] for book in self.books.values()])
        self._record_transitions()
        self._issue_certificates()
        audit.insert_entries(self.session, [self._audit_values(entry) for entry in self._audits])
        self._expire_stale_objects()
        self._new, self._audits, self._settled = [], [], []

    def _expire_stale_objects(self) -> None:
        """ORM objects of these loans the caller's session holds were written past: expire them
        (no statement; the next access reads them again)."""
        loan_ids = set(self.books)
        for instance in list(self.session.identity_map.values()):
            if isinstance(instance, Loan):
                key = instance.__dict__.get("id")
            elif isinstance(instance, ScheduleLine | BucketTransition | SettlementCertificate):
                key = instance.__dict__.get("loan_id")
            else:
                continue
            if key in loan_ids:
                self.session.expire(instance)

    def _repayment_values(self, new: NewRepayment, received: Any) -> dict[str, Any]:
        new.posted_by, new.received_at = self.actor.name, received
        return {
            "loan_id": new.loan_id,
            "channel": new.channel,
            "external_reference": new.external_reference,
            "amount_fen": new.amount_fen,
            "value_date": new.value_date,
            "received_at": received,
            "kind": new.kind,
            "status": "posted",
            "allocation": new.allocation,
            "posted_by": self.actor.name,
        }

    def _insert_repayments(self) -> None:
        """One executemany, then the new ids by (channel, reference) in one read (SQLite cannot
        return the ids of a multi-row insert in parameter order: it would insert row by row)."""
        pending = [new for new in self._new if new.id is None]
        if not pending:
            return
        received = utcnow()
        rows = [self._repayment_values(new, received) for new in pending]
        bulk.insert_rows(self._connection(), _repayments, rows)
        ids: dict[tuple[str, str], int] = {}
        for channel in sorted({new.channel for new in pending}):
            references = [new.external_reference for new in pending if new.channel == channel]
            for repayment_id, reference in self.session.execute(
                select(_repayments.c.id, _repayments.c.external_reference).where(
                    _repayments.c.channel == channel,
                    bulk.one_of(
                        _repayments.c.external_reference, references, self.session.get_bind().dialect
                    ),
                )
            ).all():
                ids[(channel, reference)] = repayment_id
        for new in pending:
            new.id = ids[(new.channel, new.external_reference)]

    def _update(self, table: Any, groups: list[list[Any]]) -> None:
        changed = [values for rows in groups for row in rows if (values := row.changed()) is not None]
        if not changed:
            return
        bulk.update_by_id(self._connection(), table, changed)  # SET every written column

    def _record_transitions(self) -> None:
        """The day's bucket move of each loan whose bucket changed (`transitions.record`'s rule:
        first bucket of the day kept, newest taken, a round trip removed), set-based."""
        moves = {
            loan_id: book.loan
            for loan_id, book in self.books.items()
            if book.loan.bucket != self._buckets_read[loan_id]
        }
        if not moves:
            return
        ahead = set(
            self.session.scalars(
                select(_transitions.c.loan_id).where(
                    _transitions.c.loan_id.in_(sorted(moves)), _transitions.c.business_date > self.today
                )
            )
        )
        plain = []
        for loan_id, loan in moves.items():
            values = {
                "loan_id": loan_id,
                "business_date": self.today,
                "from_bucket": self._buckets_read[loan_id],
                "to_bucket": loan.bucket,
                "days_past_due": loan.days_past_due,
            }
            if loan_id in ahead:  # the close is catching up: the single rule supersedes later rows
                transitions.record(self.session, **values)
            else:
                plain.append(values)
        if plain:
            dialect = self.session.get_bind().dialect.name
            self.session.execute(transitions.upsert(dialect), plain)
            self.session.execute(
                transitions.drop_round_trips(self.today, [values["loan_id"] for values in plain]),
                execution_options={"synchronize_session": False},
            )
        for loan_id, loan in moves.items():
            self._buckets_read[loan_id] = loan.bucket

    def _issue_certificates(self) -> None:
        """A certificate for each loan settled here, with what was paid on it (`_issue_certificate`)."""
        if not self._settled:
            return
        ids = [loan.id for loan in self._settled]
        paid = dict(
            self.session.execute(
                select(_repayments.c.loan_id, func.coalesce(func.sum(_repayments.c.amount_fen), 0))
                .where(_repayments.c.loan_id.in_(ids), _repayments.c.status != "reversed")
                .group_by(_repayments.c.loan_id)
            ).all()
        )
        issued = utcnow()
        self.session.execute(
            insert(_certificates),
            [
                {
                    "number": certificate_number(loan.id, loan.settled_on),
                    "loan_id": loan.id,
                    "settled_on": loan.settled_on,
                    "total_paid_fen": int(paid.get(loan.id, 0)),
                    "issued_at": issued,
                }
                for loan in self._settled
            ],
        )

    def _audit_values(self, entry: dict[str, Any] | tuple[NewRepayment, dict[str, Any]]) -> dict[str, Any]:
        if isinstance(entry, dict):
            return entry
        new, extra = entry
        return audit.entry_values(
            self.actor,
            "repayment.post",
            ("loan", new.loan_id),
            None,
            {
                "repayment_id": new.id,
                "channel": new.channel,
                "reference": new.external_reference,
                "amount_fen": new.amount_fen,
                "value_date": new.value_date,
                "kind": new.kind,
                "allocation": new.allocation,
                **extra,
            },
        )
