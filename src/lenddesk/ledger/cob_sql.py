"""The close of business's SQL for one chunk of loan ids (`ledger/cob.py` runs it): the work tables,
and one set-based statement per concern, built once per run for one dialect and one set of rules.

Why each statement is shaped as it is (join order, CROSS JOIN on SQLite, ANALYZE of the work tables
on PostgreSQL) is said beside it; the rules themselves are those of `delinquency.close_loan_day`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Date, bindparam, column, select, text
from sqlalchemy import table as table_clause

from lenddesk.ledger import transitions
from lenddesk.ledger.delinquency import (
    CAP_SCALE,
    DAYS_IN_YEAR,
    PERCENT_SCALE,
    RATE_SCALE,
    DelinquencyRules,
    standing_case_sql,
)
from lenddesk.ledger.owed import owes_sql

_work = table_clause("cob_work", column("loan_id"), column("old_bucket"), column("new_bucket"), column("dpd"))

_OWES = owes_sql("s")
_OWES_PRINCIPAL_OR_INTEREST = owes_sql("s", ("interest", "principal"))


class ChunkStatements:
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
        candidates = (
            "SELECT id FROM loans WHERE id > :lo AND id <= :hi"
            " AND (status = 'overdue' OR (status = 'current'"
            " AND (oldest_unpaid_due_on < :d OR next_due_on <= :d)))"
        )
        if self.dialect == "postgresql":
            # The loan lock (ledger/locking.py) on exactly the loans the chunk will change, taken
            # before anything about them is read: postings on them wait for the chunk, and a row
            # changed meanwhile is checked against the condition again once its writer commits.
            # Locking the chunk's whole id range instead wrote a lock into every loan of the book
            # each day (a tenth of them change).
            yield (
                "select",
                f"WITH locked AS ({candidates} ORDER BY id FOR UPDATE)"
                " INSERT INTO cob_ids (loan_id) SELECT id FROM locked",
            )
        else:
            # SQLite: the chunk's transaction holds the write gate from its first statement.
            yield "select", f"INSERT INTO cob_ids (loan_id) {candidates}"
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
