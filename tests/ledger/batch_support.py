"""Repayment files for the batch tests: a book of loans, files built from lines, and the checks
that money was applied once per reference (shared by the SQLite and PostgreSQL tests)."""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.db import session_factory
from lenddesk.ledger.models import Loan, Repayment, ScheduleLine
from lenddesk.ledger.service.batches import import_batch
from tests.ledger.book import add_loan, add_product

DISBURSED = date(2026, 1, 10)
TODAY = date(2026, 4, 20)
ADMIN = audit.Actor(user_id=None, name="admin", role="admin")


def make_loans(engine: Engine, count: int) -> list[str]:
    """`count` loans disbursed on DISBURSED; their contract numbers."""
    with Session(engine) as session:
        product = add_product(session)
        contracts = [add_loan(session, product, disbursed_on=DISBURSED).contract_number for _ in range(count)]
        session.commit()
    return contracts


def csv_file(lines: list[tuple[str, str, str, str]]) -> bytes:
    body = "\n".join(",".join(cells) for cells in lines)
    return ("reference,contract_number,amount,value_date\n" + body + "\n").encode()


def run_import(engine: Engine, content: bytes, **options: object):  # type: ignore[no-untyped-def]
    return import_batch(
        session_factory(engine),
        actor=ADMIN,
        channel="auto_debit",
        content=content,
        today=TODAY,
        **options,  # type: ignore[arg-type]
    )


def paid_by_loan(engine: Engine) -> dict[str, tuple[int, int, int, int, int]]:
    """Per contract: what its lines were paid (principal, interest, penalty, late fee) and its credit."""
    with Session(engine) as session:
        rows = session.execute(
            select(
                Loan.contract_number,
                func.sum(ScheduleLine.paid_principal_fen),
                func.sum(ScheduleLine.paid_interest_fen),
                func.sum(ScheduleLine.paid_penalty_fen),
                func.sum(ScheduleLine.paid_late_fee_fen),
                func.max(Loan.credit_balance_fen),
            )
            .join(ScheduleLine, ScheduleLine.loan_id == Loan.id)
            .group_by(Loan.contract_number)
        ).all()
    return {row[0]: tuple(int(value or 0) for value in row[1:]) for row in rows}  # type: ignore[misc]


def repayments_by_reference(engine: Engine) -> dict[str, list[int]]:
    with Session(engine) as session:
        rows = session.execute(select(Repayment.external_reference, Repayment.amount_fen)).all()
    found: dict[str, list[int]] = {}
    for reference, amount in rows:
        found.setdefault(reference, []).append(amount)
    return found


def import_at_once(engine: Engine, contents: list[bytes], *, chunk_size: int) -> list[object]:
    """Import every file in its own thread, released together by a barrier: the outcomes (in the
    order they finished); any exception fails the caller."""
    barrier = threading.Barrier(len(contents))
    outcomes: list[object] = []
    errors: list[BaseException] = []

    def worker(content: bytes) -> None:
        try:
            barrier.wait()
            outcomes.append(run_import(engine, content, chunk_size=chunk_size))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(content,)) for content in contents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return outcomes


def overlapping_imports_apply_each_reference_once(engine: Engine) -> None:
    """Two files sharing half their lines, imported at the same moment: every reference applied once,
    every loan paid exactly the sum of its distinct lines."""
    contracts = make_loans(engine, 6)
    lines = [
        (f"R{index:04d}", contracts[index % len(contracts)], "150.00", f"2026-03-{1 + index % 20:02d}")
        for index in range(60)
    ]
    import_at_once(engine, [csv_file(lines[:40]), csv_file(lines[20:])], chunk_size=7)
    found = repayments_by_reference(engine)
    assert sorted(found) == sorted(reference for reference, *_ in lines)
    assert all(amounts == [15000] for amounts in found.values())
    paid = paid_by_loan(engine)
    for contract in contracts:
        expected = 15000 * sum(1 for _, line_contract, _, _ in lines if line_contract == contract)
        assert sum(paid[contract]) == expected


def overlapping_files_on_many_loans_apply_each_reference_once(engine: Engine) -> None:
    """Two files imported at the same moment on the set-based path (no line back-dated): half their
    lines shared, and a few references the two files use for different payments. Every reference is
    applied once, each loan is paid exactly its applied lines, and every line has its result."""
    contracts = make_loans(engine, 40)
    shared = [
        (f"S{n:04d}", contracts[n % 40], f"{20 + n % 7}.{n % 100:02d}", "2026-04-20") for n in range(150)
    ]
    only_first = [(f"F{n:04d}", contracts[(n * 3) % 40], "35.00", "2026-04-20") for n in range(150)]
    only_second = [(f"G{n:04d}", contracts[(n * 7) % 40], "41.10", "2026-04-20") for n in range(150)]
    clash_first = [(f"X{n}", contracts[n], "12.00", "2026-04-20") for n in range(5)]
    clash_second = [(f"X{n}", contracts[20 + n], "13.00", "2026-04-20") for n in range(5)]
    first = csv_file(shared[:75] + only_first + clash_first + shared[75:])
    second = csv_file(shared[75:] + clash_second + only_second + shared[:75])
    outcomes = import_at_once(engine, [first, second], chunk_size=40)
    counts = [outcome.counts for outcome in outcomes]  # type: ignore[attr-defined]
    assert sorted(sum(count.values()) for count in counts) == [305, 305]
    assert sum(count.get("refused", 0) for count in counts) == 5  # one file lost each clash
    assert "pending" not in counts[0] and "pending" not in counts[1]
    found = repayments_by_reference(engine)
    assert all(len(amounts) == 1 for amounts in found.values())
    applied = {}
    for reference, contract, amount, _ in shared + only_first + only_second + clash_first + clash_second:
        if reference in found and found[reference] == [round(float(amount) * 100)]:
            applied[reference] = (contract, found[reference][0])
    assert len(applied) == len(found) == 150 + 150 + 150 + 5
    paid = paid_by_loan(engine)
    for contract in contracts:
        assert sum(paid[contract]) == sum(fen for owner, fen in applied.values() if owner == contract)
