"""Every row the seeder writes, ids included, in a canonical form comparable across databases."""

from __future__ import annotations

from sqlalchemy import Engine, text

from tests.support.naive_cob import _plain

BOOK_QUERIES = {
    "borrowers": "SELECT id, name, id_number, mobile, email, wechat_openid FROM borrowers ORDER BY id",
    "contacts": "SELECT id, borrower_id, relation, name, mobile FROM borrower_contacts ORDER BY id",
    "loans": "SELECT id, borrower_id, principal_fen, status, bucket, days_past_due, cost_charged_fen,"
    " outstanding_principal_fen FROM loans ORDER BY id",
    "lines": "SELECT id, loan_id, period, due_on, penalty_fen, late_fee_fen, paid_principal_fen,"
    " paid_interest_fen, paid_off_on FROM schedule_lines ORDER BY id",
    "repayments": "SELECT id, loan_id, channel, external_reference, amount_fen, value_date, received_at,"
    " allocation FROM repayments ORDER BY id",
    "transitions": "SELECT id, loan_id, business_date, from_bucket, to_bucket FROM bucket_transitions"
    " ORDER BY id",
    "certificates": "SELECT id, number, loan_id, settled_on, total_paid_fen FROM settlement_certificates"
    " ORDER BY id",
}


PORTABLE_QUERIES = {
    **BOOK_QUERIES,
    "repayments": "SELECT id, loan_id, channel, external_reference, amount_fen, value_date FROM repayments"
    " ORDER BY id",
}


def book(engine: Engine) -> dict[str, list[tuple]]:
    """The rows as plain values (dates as ISO strings, numbers as ints). On PostgreSQL the
    repayments' receipt time and allocation are left out: timestamptz and jsonb print differently
    from SQLite's text, which does not make them differ."""
    queries = BOOK_QUERIES if engine.dialect.name == "sqlite" else PORTABLE_QUERIES
    with engine.connect() as connection:
        return {
            name: [tuple(_plain(value) for value in row) for row in connection.execute(text(sql))]
            for name, sql in queries.items()
        }
