"""The ledger's read interface in SQL, for other rooms' set-based jobs (docs/ARCHITECTURE.md).

A job that walks the whole book (the collections plan after the close, the negotiation step) cannot
call `account_summary` a million times; it runs one statement per step instead. The parts of that
statement that read the ledger's tables are built here, by the room that owns them, and embedded by
the caller: the caller names no ledger table and no ledger column. Each function returns SQL text
(subqueries, conditions, expressions) over the caller's aliases and bind parameters, so the caller's
statement stays one statement for the database to plan. Read-only, pure: no session, no clock.

Repayments count as paid when `posted` for the borrower-level sums (what collections judges promises
and propensity by) and when not `reversed` for a loan's sums (what a negotiated agreement counts).
"""

from __future__ import annotations

from dataclasses import dataclass

from lenddesk.ledger.owed import owed_sql

__all__ = [
    "BookLoans",
    "borrower_has_loan",
    "borrower_repaid_fen",
    "borrower_repayment_count",
    "borrowers_overdue_or_due_between",
    "due_line_record",
    "loan_repaid_fen",
    "overdue_borrower_record",
    "overdue_borrowers",
    "preferred_message_channel",
    "repayment_counts_of_overdue_borrowers",
]


def borrowers_overdue_or_due_between(start: str, end: str) -> str:
    """A subquery of `borrower_id`s with an overdue loan or a current loan due between `start` and
    `end` (SQL expressions, e.g. bind parameters), each once."""
    return (
        "SELECT DISTINCT borrower_id FROM loans"
        f" WHERE status = 'overdue' OR (status = 'current' AND next_due_on >= {start} AND next_due_on"
        f" <= {end})"
    )


def preferred_message_channel(borrower: str, default: str) -> str:
    """An expression: the message channel the borrower `borrower` (a SQL expression) chose — `sms` or
    `app`, or `email` when they have an address — else `default` (a channel name, quoted here).
    Only the chosen rows' borrowers are looked up (one primary-key read each)."""
    quoted = "'" + default.replace("'", "''") + "'"
    return (
        "COALESCE((SELECT CASE WHEN pb.preferred_channel IN ('sms', 'app') THEN pb.preferred_channel"
        " WHEN pb.preferred_channel = 'email' AND pb.email IS NOT NULL AND pb.email <> '' THEN 'email' END"
        f" FROM borrowers pb WHERE pb.id = {borrower}), {quoted})"
    )


def overdue_borrowers(as_of: str) -> str:
    """A subquery, one row per borrower with an overdue loan: `borrower_id`, `dpd` (their worst days
    past due) and `owed` (fen still owed on their overdue loans' lines due by `as_of`)."""
    return (
        f"SELECT l.borrower_id, MAX(l.days_past_due) AS dpd, SUM({owed_sql('s')}) AS owed"
        f"  FROM loans l JOIN schedule_lines s ON s.loan_id = l.id AND s.due_on <= {as_of}"
        "  WHERE l.status = 'overdue' GROUP BY l.borrower_id"
    )


def due_line_record(as_of: str) -> str:
    """A subquery, one row per borrower with an overdue loan: `borrower_id`, `due_lines` (instalments
    of all their loans fallen due by `as_of`) and `ontime_lines` (of those, paid off by their date)."""
    return (
        "SELECT l.borrower_id, COUNT(*) AS due_lines,"
        "  SUM(CASE WHEN s.paid_off_on IS NOT NULL AND s.paid_off_on <= s.due_on THEN 1 ELSE 0 END)"
        "   AS ontime_lines"
        f"  FROM loans l JOIN schedule_lines s ON s.loan_id = l.id AND s.due_on <= {as_of}"
        "  WHERE l.borrower_id IN (SELECT borrower_id FROM loans WHERE status = 'overdue')"
        "  GROUP BY l.borrower_id"
    )


def overdue_borrower_record(as_of: str) -> str:
    """A subquery, one row per borrower with an overdue loan, in one pass over their loans' lines
    due by `as_of`: `borrower_id`, `dpd` and `owed` (as `overdue_borrowers`: over the overdue
    loans), `due_lines` and `ontime_lines` (as `due_line_record`: over all their loans)."""
    return (
        "SELECT l.borrower_id,"
        "  MAX(CASE WHEN l.status = 'overdue' THEN l.days_past_due END) AS dpd,"
        f"  SUM(CASE WHEN l.status = 'overdue' THEN {owed_sql('s')} ELSE 0 END) AS owed,"
        "  COUNT(*) AS due_lines,"
        "  SUM(CASE WHEN s.paid_off_on IS NOT NULL AND s.paid_off_on <= s.due_on THEN 1 ELSE 0 END)"
        "   AS ontime_lines"
        f"  FROM loans l JOIN schedule_lines s ON s.loan_id = l.id AND s.due_on <= {as_of}"
        "  WHERE l.borrower_id IN (SELECT borrower_id FROM loans WHERE status = 'overdue')"
        "  GROUP BY l.borrower_id"
    )


def repayment_counts_of_overdue_borrowers(start: str, end: str) -> str:
    """A subquery, one row per borrower with an overdue loan and posted repayments valued
    `start`..`end`: `borrower_id`, `repayments` (their count, over all the borrower's loans)."""
    return (
        "SELECT l.borrower_id, COUNT(*) AS repayments FROM loans l JOIN repayments r ON r.loan_id = l.id"
        f"  WHERE r.status = 'posted' AND r.value_date >= {start} AND r.value_date <= {end}"
        "  AND l.borrower_id IN (SELECT borrower_id FROM loans WHERE status = 'overdue')"
        "  GROUP BY l.borrower_id"
    )


def borrower_repayment_count(borrower: str, start: str, end: str) -> str:
    """A scalar subquery: posted repayments of `borrower` (an expression) valued `start`..`end`."""
    return (
        "(SELECT COUNT(*) FROM loans l JOIN repayments r ON r.loan_id = l.id"
        f"   WHERE l.borrower_id = {borrower} AND r.status = 'posted'"
        f"   AND r.value_date >= {start} AND r.value_date <= {end})"
    )


def borrower_repaid_fen(borrower: str, start: str, end: str) -> str:
    """A scalar subquery: fen of posted repayments of `borrower` valued `start`..`end` (0 if none)."""
    return (
        "(SELECT COALESCE(SUM(r.amount_fen), 0) FROM repayments r JOIN loans l ON l.id = r.loan_id"
        f" WHERE l.borrower_id = {borrower} AND r.status = 'posted'"
        f" AND r.value_date >= {start} AND r.value_date <="
        f" {end})"
    )


def borrower_has_reversal(borrower: str, start: str, end: str) -> str:
    """A condition: `borrower` (an expression) has a reversed repayment valued `start`..`end`."""
    return (
        "EXISTS (SELECT 1 FROM loans l JOIN repayments r ON r.loan_id = l.id"
        f" WHERE l.borrower_id = {borrower} AND r.status = 'reversed'"
        f" AND r.value_date >= {start} AND r.value_date <= {end})"
    )


def loan_repaid_fen(loan: str, start: str, end: str) -> str:
    """A scalar subquery: fen repaid on `loan` (an expression), not reversed, valued `start`..`end`."""
    return (
        "(SELECT COALESCE(SUM(r.amount_fen), 0) FROM repayments r"
        f" WHERE r.loan_id = {loan} AND r.status <> 'reversed'"
        f" AND r.value_date >= {start} AND r.value_date <= {end})"
    )


def borrower_has_loan(borrower: str, status: str) -> str:
    """A condition: `borrower` (an expression) has a loan in `status` (current, overdue, written_off …)."""
    return f"EXISTS (SELECT 1 FROM loans l WHERE l.borrower_id = {borrower} AND l.status = '{status}')"


@dataclass(frozen=True)
class BookLoans:
    """The book's loans as a row source of another room's statement, under `alias`.

    `source` goes into the caller's FROM; the properties are the columns the caller may select or
    join on; the methods are the conditions and amounts it may filter and insert by.
    """

    alias: str = "l"

    @property
    def source(self) -> str:
        return f"loans {self.alias}"

    @property
    def id(self) -> str:
        return f"{self.alias}.id"

    @property
    def borrower_id(self) -> str:
        return f"{self.alias}.borrower_id"

    @property
    def days_past_due(self) -> str:
        return f"{self.alias}.days_past_due"

    @property
    def next_due_on(self) -> str:
        return f"{self.alias}.next_due_on"

    @property
    def oldest_unpaid_due_on(self) -> str:
        return f"{self.alias}.oldest_unpaid_due_on"

    def overdue(self) -> str:
        return f"{self.alias}.status = 'overdue'"

    def overdue_since_between(self, first: str, last: str) -> str:
        """Overdue loans whose oldest unpaid instalment fell due from `first` to `last`: one range
        of the (status, oldest unpaid) index, where a condition on days past due reads every
        overdue loan (days past due = the business date − that due date, set by the close)."""
        return (
            f"{self.alias}.status = 'overdue'"
            f" AND {self.alias}.oldest_unpaid_due_on BETWEEN {first} AND {last}"
        )

    def current_and_due_on(self, day: str) -> str:
        return f"{self.alias}.status = 'current' AND {self.alias}.next_due_on = {day}"

    def without_auto_debit(self) -> str:
        """Condition: the loan has never been repaid by auto-debit (so it has no mandate to rely on)."""
        return (
            f"NOT EXISTS (SELECT 1 FROM repayments r WHERE r.loan_id = {self.alias}.id"
            " AND r.channel = 'auto_debit')"
        )

    def owed_on_next_due_date(self) -> str:
        """A scalar subquery: fen still owed on the loan's lines due on its next due date."""
        return (
            f"(SELECT COALESCE(SUM({owed_sql('s')}), 0) FROM schedule_lines s"
            f" WHERE s.loan_id = {self.alias}.id AND s.due_on = {self.alias}.next_due_on)"
        )

    def owed_due_by(self, day: str) -> str:
        """A scalar subquery: fen still owed on the loan's lines due by `day`."""
        return (
            f"(SELECT COALESCE(SUM({owed_sql('s')}), 0) FROM schedule_lines s"
            f" WHERE s.loan_id = {self.alias}.id AND s.due_on <= {day})"
        )
