"""Scenarios for recoveries, refunds and waivers shared by the SQLite and PostgreSQL tests.

Every scenario takes an engine, builds its own loan through the service, and returns what the
assertions need; the concurrent ones run callers on threads released together by a barrier.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.db import session_factory
from lenddesk.core.errors import LendDeskError
from lenddesk.core.policy import Policy
from lenddesk.ledger import service
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.models import CreditRefund, Loan, Product, Recovery, ScheduleLine, Waiver
from tests.ledger import factories

DISBURSED = date(2026, 1, 15)
FIRST_DUE = date(2026, 2, 15)
AGENT = factories.AGENT
LEAD = factories.LEAD
LEAD2 = audit.Actor(user_id=None, name="lead2", role="team_lead")
COLLECTOR = audit.Actor(user_id=None, name="collector", role="collector")


def new_loan(engine: Engine, *, product_code: str = "PEN", **product: Any) -> str:
    """A 12 000.00 loan on a product with a 30.00 late fee; returns its contract number."""
    with session_factory(engine)() as session:
        if session.scalar(select(Product.id).where(Product.code == product_code)) is None:
            factories.product(session, code=product_code, late_fee_fixed_fen=3000, **product)
        loan = factories.loan(session, product_code=product_code, disbursed_on=DISBURSED)
        session.commit()
        return loan.contract_number


def close_until(engine: Engine, day: date) -> None:
    run_cob(engine, DISBURSED, policy=Policy())
    run_cob(engine, day, policy=Policy())


def loan_of(session: Session, contract: str) -> Loan:
    session.expire_all()
    return service.loan_by_contract(session, contract)


def lines_of(session: Session, loan_id: int) -> list[ScheduleLine]:
    return list(
        session.scalars(
            select(ScheduleLine).where(ScheduleLine.loan_id == loan_id).order_by(ScheduleLine.period)
        )
    )


def pay(session: Session, contract: str, amount_fen: int, on: date, reference: str) -> None:
    service.post_repayment(
        session,
        actor=AGENT,
        contract_number=contract,
        channel="alipay",
        external_reference=reference,
        amount_fen=amount_fen,
        value_date=on,
        today=on,
    )


def write_off(engine: Engine, contract: str, on: date) -> None:
    """Mark the loan written off as the close of business would (its lines stay as they are)."""
    with session_factory(engine)() as session:
        loan = service.loan_by_contract(session, contract)
        loan.status, loan.written_off_on, loan.bucket = "written_off", on, "WO"
        session.commit()


@dataclass
class Outcome:
    ok: list[Any]
    refused: list[LendDeskError]


def together(engine: Engine, calls: list[Callable[[Session], Any]]) -> Outcome:
    """Run each call on its own thread and session at the same moment; commit each that succeeds."""
    barrier = threading.Barrier(len(calls))
    ok: list[Any] = []
    refused: list[LendDeskError] = []
    unexpected: list[BaseException] = []
    lock = threading.Lock()

    def run(call: Callable[[Session], Any]) -> None:
        with session_factory(engine)() as session:
            barrier.wait()
            try:
                result = call(session)
                session.commit()
                with lock:
                    ok.append(result)
            except LendDeskError as exc:
                session.rollback()
                with lock:
                    refused.append(exc)
            except BaseException as exc:  # a lost lock or a deadlock shows up here
                session.rollback()
                with lock:
                    unexpected.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a caller hung"
    assert not unexpected, unexpected
    return Outcome(ok, refused)


# --- scenarios ------------------------------------------------------------------------------------


def concurrent_recoveries(engine: Engine, callers: int = 6) -> dict[str, int]:
    """`callers` recoveries at once on one written-off loan; together they pay more than is owed."""
    contract = new_loan(engine, product_code="REC")
    write_off(engine, contract, date(2026, 9, 1))
    with session_factory(engine)() as session:
        owed = service.written_off_balance_fen(session, loan_of(session, contract))
    share = owed // (callers - 1)  # callers − 1 of them already cover everything

    def recover(index: int) -> Callable[[Session], Any]:
        return lambda session: service.post_recovery(
            session,
            actor=COLLECTOR,
            contract_number=contract,
            channel="bank_transfer",
            external_reference=f"R{contract}-{index}",
            amount_fen=share,
            value_date=date(2026, 9, 2),
            today=date(2026, 9, 2),
        )

    outcome = together(engine, [recover(i) for i in range(callers)])
    with session_factory(engine)() as session:
        loan = loan_of(session, contract)
        recovered = service.recovered_fen(session, loan.id)
        rows = session.scalar(select(func.count(Recovery.id)).where(Recovery.loan_id == loan.id))
        return {
            "owed": owed,
            "posted": share * len(outcome.ok),
            "refused": len(outcome.refused),
            "recovered": recovered,
            "rows": int(rows or 0),
            "credit": loan.credit_balance_fen,
            "settled": int(loan.status == "settled"),
        }


def overpaid_loan(engine: Engine, credit_fen: int, product_code: str = "REF") -> str:
    """A loan whose borrower paid the first two instalments and `credit_fen` more (a credit balance)."""
    contract = new_loan(engine, product_code=product_code)
    with session_factory(engine)() as session:
        loan = loan_of(session, contract)
        first, second = lines_of(session, loan.id)[:2]
        owed = sum(line.principal_fen + line.interest_fen for line in (first, second))
        pay(session, contract, owed + credit_fen, FIRST_DUE, f"P{contract}")
        session.commit()
        assert loan_of(session, contract).credit_balance_fen == credit_fen
    return contract


def concurrent_refund_approvals(engine: Engine, callers: int = 6) -> dict[str, int]:
    """Several leads approve the same refund at once, and several refunds exceed the credit together.

    500.00 of credit: "same" asks 100.00, each other 200.00, so whichever order the approvals take,
    "same" fits (two others use 400.00 at most) and exactly two others are paid.
    """
    contract = overpaid_loan(engine, 50_000)
    with session_factory(engine)() as session:
        same, _ = service.request_refund(
            session, actor=AGENT, contract_number=contract, amount_fen=10_000, reference="same", reason="多还"
        )
        others = [
            service.request_refund(
                session,
                actor=AGENT,
                contract_number=contract,
                amount_fen=20_000,
                reference=f"o{i}",
                reason="多还",
            )[0].id
            for i in range(callers - 1)
        ]
        session.commit()
        same_id = same.id
    approvers = [audit.Actor(user_id=None, name=f"lead{i}", role="team_lead") for i in range(callers)]
    calls: list[Callable[[Session], Any]] = [
        (lambda session, a=a: service.approve_refund(session, actor=a, refund_id=same_id)) for a in approvers
    ]
    calls += [
        (lambda session, a=a, r=r: service.approve_refund(session, actor=a, refund_id=r))
        for a, r in zip(approvers, others, strict=False)
    ]
    outcome = together(engine, calls)
    with session_factory(engine)() as session:
        loan = loan_of(session, contract)
        paid = session.scalar(
            select(func.coalesce(func.sum(CreditRefund.amount_fen), 0)).where(
                CreditRefund.loan_id == loan.id, CreditRefund.status == "paid"
            )
        )
        return {
            "credit": loan.credit_balance_fen,
            "paid": int(paid or 0),
            "refused": len(outcome.refused),
            "same_paid_once": int(
                sum(1 for refund, duplicate in outcome.ok if refund.id == same_id and not duplicate)
            ),
        }


def concurrent_waivers(engine: Engine, callers: int = 6) -> dict[str, int]:
    """Waivers of late fee at once whose sum is more than the late fee owed."""
    contract = new_loan(engine, product_code="WAV")
    close_until(engine, FIRST_DUE + timedelta(days=10))
    today = FIRST_DUE + timedelta(days=10)
    with session_factory(engine)() as session:
        loan = loan_of(session, contract)
        owed = service.waivable_fen(lines_of(session, loan.id), "late_fee", today)
        loan_id = loan.id
    assert owed == 3000
    calls: list[Callable[[Session], Any]] = [
        (
            lambda session: service.waive(
                session,
                loan_id=loan_id,
                component="late_fee",
                amount_fen=1000,
                reason="客户困难",
                requested_by=AGENT,
                today=today,
            )
        )
        for _ in range(callers)
    ]
    outcome = together(engine, calls)
    with session_factory(engine)() as session:
        lines = lines_of(session, loan_id)
        applied = session.scalar(
            select(func.coalesce(func.sum(Waiver.amount_fen), 0)).where(
                Waiver.loan_id == loan_id, Waiver.status == "applied"
            )
        )
        return {
            "owed_before": owed,
            "applied": int(applied or 0),
            "on_lines": sum(line.waived_late_fee_fen for line in lines),
            "left": service.waivable_fen(lines, "late_fee", today),
            "ok": len(outcome.ok),
            "refused": len(outcome.refused),
        }


def waivers_past_the_limit_at_once(
    engine: Engine, *, people: int, each: int, amount_fen: int = 4_000
) -> dict[str, Any]:
    """`people` agents each send `each` interest waivers of `amount_fen` at once on one loan.

    Together they pass the single-person limit (100.00) per person; what each applied alone must
    stay within it and the rest must wait for a second person (status "requested").
    """
    contract = new_loan(engine, product_code="LIM")
    today = FIRST_DUE + timedelta(days=70)  # three instalments due: about 500.00 of interest owed
    agents = [audit.Actor(user_id=None, name=f"agent{i}", role="agent") for i in range(people)]

    def ask(agent: audit.Actor) -> Callable[[Session], Any]:
        return lambda session: (
            service.request_waiver(
                session,
                actor=agent,
                contract_number=contract,
                component="interest",
                amount_fen=amount_fen,
                reason="客户困难",
                today=today,
            ).status
        )

    outcome = together(engine, [ask(agent) for agent in agents for _ in range(each)])
    with session_factory(engine)() as session:
        loan = loan_of(session, contract)
        rows = session.execute(
            select(Waiver.requested_by, Waiver.status, Waiver.amount_fen, Waiver.approved_by).where(
                Waiver.loan_id == loan.id
            )
        ).all()
        on_lines = sum(line.waived_interest_fen for line in lines_of(session, loan.id))
    per_person = {
        agent.name: {
            "applied_alone": sum(
                amount for by, status, amount, approver in rows
                if by == agent.name and status == "applied" and approver == agent.name
            ),
            "held": sum(1 for by, status, _, _ in rows if by == agent.name and status == "requested"),
        }
        for agent in agents
    }  # fmt: skip
    return {
        "per_person": per_person,
        "on_lines": on_lines,
        "applied": sum(amount for _, status, amount, _ in rows if status == "applied"),
        "refused": len(outcome.refused),
        "answers": sorted(outcome.ok),
    }
