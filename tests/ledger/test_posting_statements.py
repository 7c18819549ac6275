"""The repayment hot path stays cheap: the statements one posting costs are pinned here, so a change
that adds a round trip under SQLite's single write gate (or the loan's lock) shows up as a failure —
in the service, and over HTTP with the caller's sign-in and access check."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from lenddesk.core.calendar import business_today
from lenddesk.core.models import AuditEntry
from lenddesk.ledger.models import Loan, Repayment, ScheduleLine
from lenddesk.ledger.service import post_repayment
from tests.ledger.batch_support import ADMIN
from tests.ledger.book import add_loan, add_product

TODAY = date(2026, 4, 20)
Post = Callable[[str, str, int], int]


@pytest.fixture
def count_statements(engine: Engine, session: Session) -> Iterator[Post]:
    """`post(contract, reference, amount_fen)` → the statements it cost, other than BEGIN/COMMIT."""
    statements: list[str] = []

    def listen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listen)

    def post(contract: str, reference: str, amount_fen: int) -> int:
        statements.clear()
        post_repayment(
            session,
            actor=ADMIN,
            contract_number=contract,
            channel="bank_transfer",
            external_reference=reference,
            amount_fen=amount_fen,
            value_date=TODAY,
            today=TODAY,
        )
        session.commit()
        counted = [s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))]
        return len(counted)

    yield post
    event.remove(engine, "before_cursor_execute", listen)


def test_a_repayment_costs_six_statements_however_many_instalments_it_pays(
    count_statements: Post, session: Session
) -> None:
    """The loan with its product (locked), its lines with the reference and later payments, the
    repayment inserted, the lines and the loan updated (only rows that changed), the audit: nothing
    read back, no flush."""
    product = add_product(session)
    loan = add_loan(session, product, disbursed_on=TODAY - timedelta(days=10))
    session.commit()
    contract = loan.contract_number
    assert count_statements(contract, "P-1", 10_000) == 5  # interest only: the loan row is unchanged
    assert count_statements(contract, "P-2", 350_000) == 6  # several instalments, in one update
    assert count_statements(contract, "P-3", 1) == 5
    assert count_statements(contract, "P-1", 10_000) == 3  # the same payment again: read, not posted
    paid = session.scalar(
        select(
            func.sum(
                ScheduleLine.paid_principal_fen
                + ScheduleLine.paid_interest_fen
                + ScheduleLine.paid_penalty_fen
                + ScheduleLine.paid_late_fee_fen
            )
        ).where(ScheduleLine.loan_id == loan.id)
    )
    credit = session.scalar(select(Loan.credit_balance_fen).where(Loan.id == loan.id))
    assert paid + credit == 360_001  # every fen on a line or in credit
    assert session.scalar(select(func.count()).select_from(Repayment)) == 3
    audited = session.scalar(select(func.count()).where(AuditEntry.action == "repayment.post"))
    assert audited == 3


def test_a_repayment_over_http_costs_the_sign_in_read_and_the_posting_alone(
    engine: Engine, session: Session, client: TestClient, as_role: Callable[[str], dict[str, str]]
) -> None:
    """A team lead's posting: the user read (token still valid, role), then the posting's five — the
    access rule needs no read of its own for a role that needs no case, and its `borrower.write`
    entry goes into the posting's audit insert, ahead of `repayment.post`."""
    today = business_today()
    product = add_product(session)
    loan = add_loan(session, product, disbursed_on=today - timedelta(days=10))
    session.commit()
    headers = as_role("team_lead")
    statements: list[str] = []

    def listen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    body = {
        "contract_number": loan.contract_number.lower(),  # read as the contract it names
        "channel": "alipay",
        "external_reference": "HTTP-1",
        "amount": "100.00",
        "value_date": today.isoformat(),
    }
    event.listen(engine, "before_cursor_execute", listen)
    try:
        posted = client.post("/api/v1/ledger/repayments", json=body, headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert posted.status_code == 201, posted.text
    assert posted.json()["contract_number"] == loan.contract_number
    assert len(statements) == 6, "\n".join(statements)
    entries = session.execute(
        select(AuditEntry.action, AuditEntry.entity_type, AuditEntry.entity_id, AuditEntry.after)
        .where(AuditEntry.actor_name == "team_lead", AuditEntry.action != "auth.sign_in")
        .order_by(AuditEntry.id)
    ).all()
    assert [(action, kind, key) for action, kind, key, _ in entries] == [
        ("borrower.write", "borrower", str(loan.borrower_id)),
        ("repayment.post", "loan", str(loan.id)),
    ]
    assert entries[0].after == {
        "surface": "api",
        "action": "repayment",
        "contract_number": loan.contract_number,
    }
