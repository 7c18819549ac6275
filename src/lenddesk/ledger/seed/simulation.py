"""The simulation window: planned payments posted before each day's close of business."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Connection, Date, Engine, bindparam, text

from lenddesk.ledger.owed import COLUMNS, owed_components, owed_fen, owes_sql
from lenddesk.ledger.seed.builder import REPAYMENT_COLUMNS, PlannedPayment, _noon, _repayment_row
from lenddesk.ledger.seed.writer import _BulkWriter

# -- the simulation window -----------------------------------------------------------------------


class PaymentSimulation:
    """Posts the planned payments of a day (whole instalments or a share, oldest first, penalty →
    late fee → interest → principal) before that day's close of business."""

    def __init__(
        self,
        engine: Engine,
        planned: dict[date, list[PlannedPayment]],
        next_repayment_id: int | None = None,
        seed: int = 0,
    ) -> None:
        self.engine = engine
        self.planned = planned
        if next_repayment_id is None:
            with engine.connect() as connection:
                next_repayment_id = (connection.scalar(text("SELECT MAX(id) FROM repayments")) or 0) + 1
        self.next_id = next_repayment_id
        self.random = random.Random(seed + 1)

    def post_payments(self, day: date) -> int:
        payments = self.planned.get(day, [])
        if not payments:
            return 0
        loan_ids = sorted({payment.loan_id for payment in payments})
        with self.engine.begin() as connection:
            # A window player may have posted repayments through the ledger's service since.
            self.next_id = max(
                self.next_id, (connection.scalar(text("SELECT MAX(id) FROM repayments")) or 0) + 1
            )
            lines = self._owed_lines(connection, loan_ids)
            line_updates, repayment_rows, principal_paid = [], [], defaultdict(int)
            principal_days_paid: dict[int, int] = defaultdict(int)
            for payment in payments:
                owed = lines.get(payment.loan_id, [])
                if payment.periods:
                    chosen = [line for line in owed if line["period"] in payment.periods]
                    budget = sum(owed_fen(line) for line in chosen)
                else:
                    chosen = [line for line in owed if line["due_on"] < day]
                    budget = int(sum(owed_fen(line) for line in chosen) * payment.share)
                allocation = _allocate(chosen, budget)
                if not allocation:
                    continue
                for line, paid in allocation:
                    line_updates.append(
                        {"id": line["id"], **paid, "paid_off_on": day if owed_fen(line) == 0 else None}
                    )
                    principal_paid[payment.loan_id] += paid["d_principal"]
                    principal_days_paid[payment.loan_id] += (
                        paid["d_principal"] * (day - line["disbursed"]).days
                    )
                amount = sum(sum(paid.values()) for _, paid in allocation)
                detail = [
                    {"period": line["period"], **{key[2:]: value for key, value in paid.items()}}
                    for line, paid in allocation
                ]
                repayment_rows.append(
                    _repayment_row(
                        self.next_id, payment.loan_id, payment.channel, amount, day, detail, self.random
                    )
                )
                self.next_id += 1
            if line_updates:
                connection.execute(
                    text(
                        "UPDATE schedule_lines SET paid_penalty_fen = paid_penalty_fen + :d_penalty,"
                        " paid_late_fee_fen = paid_late_fee_fen + :d_late_fee,"
                        " paid_interest_fen = paid_interest_fen + :d_interest,"
                        " paid_principal_fen = paid_principal_fen + :d_principal,"
                        " paid_off_on = COALESCE(:paid_off_on, paid_off_on) WHERE id = :id"
                    ).bindparams(bindparam("paid_off_on", type_=Date)),
                    line_updates,
                )
            if principal_paid:
                connection.execute(
                    text(
                        "UPDATE loans SET outstanding_principal_fen = outstanding_principal_fen - :paid,"
                        " principal_days_repaid = principal_days_repaid + :days WHERE id = :id"
                    ),
                    [
                        {"id": loan_id, "paid": paid, "days": principal_days_paid[loan_id]}
                        for loan_id, paid in principal_paid.items()
                    ],
                )
            writer = _BulkWriter(connection)
            writer.write("repayments", ("id", *REPAYMENT_COLUMNS), repayment_rows)
            writer.finish()  # explicit ids: move the sequence past them, or new postings collide
            # What the repayment service maintains on posting: the oldest instalment still owed.
            for start in range(0, len(loan_ids), 500):
                ids = ", ".join(str(loan_id) for loan_id in loan_ids[start : start + 500])
                connection.execute(
                    text(
                        "UPDATE loans SET oldest_unpaid_due_on = (SELECT MIN(s.due_on) FROM schedule_lines s"
                        f" WHERE s.loan_id = loans.id AND {_OWES_SQL}) WHERE id IN ({ids})"
                        " AND status IN ('current', 'overdue')"
                    )
                )
                # Paid in full: settled at once (a loan settled from a bucket is a cure to M0).
                settled = (
                    f"id IN ({ids}) AND status IN ('current', 'overdue') AND oldest_unpaid_due_on IS NULL"
                )
                connection.execute(
                    text(
                        "INSERT INTO bucket_transitions (loan_id, business_date, from_bucket, to_bucket,"
                        f" days_past_due) SELECT id, :day, bucket, 'M0', 0 FROM loans WHERE {settled}"
                        " AND bucket <> 'M0'"
                    ).bindparams(bindparam("day", type_=Date)),
                    {"day": day},
                )
                connection.execute(
                    text(
                        "UPDATE loans SET status = 'settled', settled_on = :day, next_due_on = NULL,"
                        f" bucket = 'M0', days_past_due = 0 WHERE {settled}"
                    ).bindparams(bindparam("day", type_=Date)),
                    {"day": day},
                )
        return len(repayment_rows)

    def last_planned_payment(self) -> dict[int, date]:
        """The last day each loan pays something in the window, as planned."""
        last: dict[int, date] = {}
        for day, payments in self.planned.items():
            for payment in payments:
                last[payment.loan_id] = max(day, last.get(payment.loan_id, day))
        return last

    @staticmethod
    def _owed_lines(connection: Connection, loan_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        result: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for start in range(0, len(loan_ids), 500):
            chunk = loan_ids[start : start + 500]
            rows = connection.execute(
                text(
                    f"SELECT {_LINE_COLUMNS}, l.disbursed_on AS disbursed"
                    " FROM schedule_lines s JOIN loans l ON l.id = s.loan_id"
                    f" WHERE s.loan_id IN ({', '.join(str(i) for i in chunk)})"
                    f" AND l.status IN ('current', 'overdue') AND {_OWES_SQL} ORDER BY s.loan_id, s.period"
                )
            ).mappings()
            for row in rows:
                line = dict(row)
                for key in ("due_on", "disbursed"):
                    if isinstance(line[key], str):
                        line[key] = date.fromisoformat(line[key])
                result[line["loan_id"]].append(line)
        return result


_OWES_SQL = owes_sql("s")
# Only what a posting reads: a paying loan's lines, those that still owe (filtered in SQL).
_LINE_COLUMNS = ", ".join(
    f"s.{column}"
    for column in ("id", "loan_id", "period", "due_on", *(c for cols in COLUMNS.values() for c in cols if c))
)


_PARTS = (
    ("d_penalty", "penalty", "paid_penalty_fen"),
    ("d_late_fee", "late_fee", "paid_late_fee_fen"),
    ("d_interest", "interest", "paid_interest_fen"),
    ("d_principal", "principal", "paid_principal_fen"),
)


def _allocate(lines: list[dict[str, Any]], budget: int) -> list[tuple[dict[str, Any], dict[str, int]]]:
    """Oldest instalment first; within one, penalty → late fee → interest → principal. Mutates the
    line dicts so that a second payment of the same day sees what is left."""
    result = []
    for line in lines:
        if budget <= 0:
            break
        paid = {}
        owed = owed_components(line)
        for key, component, already in _PARTS:
            part = min(owed[component], budget)
            paid[key] = part
            line[already] += part
            budget -= part
        if any(paid.values()):
            result.append((line, paid))
    return result


def _issue_certificates(connection: Connection) -> None:
    """A settlement certificate (结清证明) for every settled loan that has none."""
    rows = connection.execute(
        text(
            "SELECT l.id, l.settled_on, SUM(s.paid_principal_fen + s.paid_interest_fen + s.paid_penalty_fen"
            " + s.paid_late_fee_fen) FROM loans l JOIN schedule_lines s ON s.loan_id = l.id"
            " WHERE l.status = 'settled' AND NOT EXISTS (SELECT 1 FROM settlement_certificates c"
            " WHERE c.loan_id = l.id) GROUP BY l.id, l.settled_on ORDER BY l.id"
        )
    ).all()
    certificates = []
    for loan_id, settled_on, total in rows:
        settled = date.fromisoformat(settled_on) if isinstance(settled_on, str) else settled_on
        certificates.append(
            (f"JQ{settled:%Y%m%d}{loan_id:08d}", loan_id, settled, int(total), _noon(settled))
        )
    next_id = (connection.scalar(text("SELECT MAX(id) FROM settlement_certificates")) or 0) + 1
    writer = _BulkWriter(connection)
    writer.write(
        "settlement_certificates",
        ("id", "number", "loan_id", "settled_on", "total_paid_fen", "issued_at"),
        [(next_id + index, *row) for index, row in enumerate(certificates)],
    )
    writer.finish()
