"""A repayment file applied chunk by chunk on plain rows gives, line by line, what single repayments
give: the same results, the same schedule lines, loans, repayments, certificates and audit."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lenddesk.core.db import make_engine
from lenddesk.core.errors import LendDeskError
from lenddesk.core.models import AuditEntry
from lenddesk.ledger import batch_file
from lenddesk.ledger.models import BucketTransition, Loan, Repayment, ScheduleLine, SettlementCertificate
from lenddesk.ledger.service import post_repayment
from lenddesk.ledger.service.batches import batch_results
from tests.ledger.batch_support import (
    ADMIN,
    DISBURSED,
    TODAY,
    csv_file,
    overlapping_files_on_many_loans_apply_each_reference_once,
    run_import,
)
from tests.ledger.book import add_loan, add_product


def make_book(engine: Engine) -> list[str]:
    """Two loans of 12 instalments (three due by TODAY) and one of 3 (all due: it can be settled)."""
    with Session(engine) as session:
        long_term, short_term = add_product(session), add_product(session, term=3)
        loans = [add_loan(session, long_term, disbursed_on=DISBURSED) for _ in range(2)]
        loans.append(add_loan(session, short_term, disbursed_on=DISBURSED, principal_fen=300_000))
        session.commit()
        return [loan.contract_number for loan in loans]


def twin(engine: Engine, db_url: str, tmp_path: Path) -> Engine:
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(db_url.removeprefix("sqlite:///"), tmp_path / "twin.db")
    return make_engine(f"sqlite:///{tmp_path / 'twin.db'}")


def post_one_by_one(engine: Engine, lines: list[tuple[str, str, str, str]]) -> list[tuple[str, str]]:
    """Each line through the single-repayment service, one transaction each: (status, reason code)."""
    results = []
    for number, (reference, contract, amount, day) in enumerate(lines, start=1):
        checked = batch_file.check_line(batch_file.FileLine(number, reference, contract, amount, day))
        assert isinstance(checked, batch_file.CheckedLine), checked
        with Session(engine) as session:
            try:
                outcome = post_repayment(
                    session,
                    actor=ADMIN,
                    contract_number=checked.contract_number,
                    channel="auto_debit",
                    external_reference=checked.reference,
                    amount_fen=checked.amount_fen,
                    value_date=checked.value_date,
                    today=TODAY,
                )
            except LendDeskError as error:
                results.append(("refused", error.code))
                continue
            session.commit()
            results.append(("duplicate" if outcome.duplicate else "applied", ""))
    return results


def state(engine: Engine) -> dict[str, Any]:
    """Everything a posting writes, without ids and clock times."""

    def rows(session: Session, *columns: Any, order: Any) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in session.execute(select(*columns).order_by(*order))]

    with Session(engine) as session:
        lines = ScheduleLine.__table__.c
        loans = Loan.__table__.c
        return {
            "lines": rows(
                session, *[c for c in lines if c.name != "id"], order=[lines.loan_id, lines.period]
            ),
            "loans": rows(session, *[c for c in loans if c.name != "created_at"], order=[loans.id]),
            "repayments": rows(
                session,
                Repayment.external_reference,
                Repayment.loan_id,
                Repayment.amount_fen,
                Repayment.value_date,
                Repayment.kind,
                Repayment.status,
                Repayment.allocation,
                order=[Repayment.external_reference],
            ),
            "certificates": rows(
                session,
                SettlementCertificate.number,
                SettlementCertificate.settled_on,
                SettlementCertificate.total_paid_fen,
                order=[SettlementCertificate.number],
            ),
            "transitions": rows(
                session,
                BucketTransition.loan_id,
                BucketTransition.business_date,
                BucketTransition.from_bucket,
                BucketTransition.to_bucket,
                BucketTransition.days_past_due,
                order=[BucketTransition.loan_id, BucketTransition.business_date],
            ),
            "audit": [
                tuple(row)
                for row in session.execute(
                    select(AuditEntry.action, AuditEntry.entity_id, func.count())
                    .where(AuditEntry.action.in_(("repayment.post", "loan.status")))
                    .group_by(AuditEntry.action, AuditEntry.entity_id)
                    .order_by(AuditEntry.action, AuditEntry.entity_id)
                )
            ],
        }


def test_a_file_gives_line_by_line_what_single_repayments_give(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    first, second, short = make_book(engine)
    single = twin(engine, db_url, tmp_path)
    lines = [
        ("A-1", first, "300.00", "2026-04-01"),  # two lines for one loan: applied in file order
        ("A-2", first, "1500.00", "2026-04-20"),
        ("B-1", second, "50000.00", "2026-04-20"),  # over-payment: the rest is credit
        ("A-1", first, "300.00", "2026-04-01"),  # duplicate of the first line
        ("NO-LOAN", "HT-NOSUCH-1", "100.00", "2026-04-20"),  # unknown loan
        ("B-2", second, "10.00", "2026-04-20"),  # after the over-payment, with credit on the loan
        ("A-1", second, "300.00", "2026-04-01"),  # the reference again for another payment
        ("C-1", short, "4000.00", "2026-04-20"),  # settles the short loan: a certificate
        ("C-2", short, "1.00", "2026-04-20"),  # the loan is settled now
        ("A-3", first, "20.00", "2026-04-21"),  # in the future
        ("A-4", first, "75.00", "2026-03-20"),  # back-dated behind A-2: re-allocated by value date
    ]
    outcome = run_import(engine, csv_file(lines), chunk_size=50)
    with Session(engine) as session:
        batched = [(row["status"], row["reason_code"]) for row in batch_results(session, outcome.batch_id)]
    assert batched == post_one_by_one(single, lines)
    assert batched[:9] == [
        ("applied", ""),
        ("applied", ""),
        ("applied", ""),
        ("duplicate", ""),
        ("refused", "contract_not_found"),
        ("applied", ""),
        ("refused", "reference_reused"),
        ("applied", ""),
        ("refused", "loan_settled"),
    ]
    assert state(engine) == state(single)
    with Session(engine) as session:
        (credit,) = session.execute(
            select(Loan.credit_balance_fen).where(Loan.contract_number == second)
        ).one()
        paid = session.scalar(select(func.sum(Repayment.amount_fen)))
        on_lines = session.scalar(
            select(
                func.sum(
                    ScheduleLine.paid_principal_fen
                    + ScheduleLine.paid_interest_fen
                    + ScheduleLine.paid_penalty_fen
                    + ScheduleLine.paid_late_fee_fen
                )
            )
        )
        credits = session.scalar(select(func.sum(Loan.credit_balance_fen)))
    assert credit > 0
    assert paid == on_lines + credits  # every fen of every repayment is on a line or a credit
    single.dispose()


def test_one_chunk_for_a_file_of_one_loan_keeps_file_order_across_chunks(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    first, _, _ = make_book(engine)
    single = twin(engine, db_url, tmp_path)
    lines = [(f"P-{n}", first, f"{37 + 11 * n}.{n:02d}", "2026-04-20") for n in range(9)]
    run_import(engine, csv_file(lines), chunk_size=4)
    assert post_one_by_one(single, lines) == [("applied", "")] * 9
    assert state(engine) == state(single)
    single.dispose()


def test_two_overlapping_files_on_the_set_based_path_at_once(engine: Engine) -> None:
    overlapping_files_on_many_loans_apply_each_reference_once(engine)


def test_a_file_on_loans_with_instalments_paid_off_before_gives_what_single_repayments_give(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    """A chunk reads only the lines its repayments can change: lines paid off before the file are
    left out, and the loan's outstanding principal, next due date and state still come out whole."""
    first, second, short = make_book(engine)
    earlier = [  # paid before the file: the first instalments of each loan, one paid ahead of time
        ("E-1", first, "2300.00", "2026-02-10"),
        ("E-2", second, "1100.00", "2026-02-10"),
        ("E-3", short, "1100.00", "2026-02-10"),
        ("E-4", first, "1200.00", "2026-03-05"),
    ]
    assert post_one_by_one(engine, earlier) == [("applied", "")] * len(earlier)
    single = twin(engine, db_url, tmp_path)
    lines = [
        ("F-1", first, "800.00", "2026-04-18"),
        ("F-2", second, "3000.00", "2026-04-19"),
        ("F-3", short, "5000.00", "2026-04-20"),  # settles it: the certificate counts every payment
        ("F-4", first, "40000.00", "2026-04-20"),  # beyond what is payable: credit
        ("F-5", second, "0.01", "2026-04-20"),
    ]
    outcome = run_import(engine, csv_file(lines), chunk_size=50)
    with Session(engine) as session:
        batched = [(row["status"], row["reason_code"]) for row in batch_results(session, outcome.batch_id)]
    assert batched == post_one_by_one(single, lines) == [("applied", "")] * len(lines)
    assert state(engine) == state(single)
    single.dispose()
