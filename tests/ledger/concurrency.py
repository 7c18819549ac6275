"""Concurrent writers on one book, shared by the SQLite tests and the PostgreSQL integration tests.

Threads start together at a `threading.Barrier`; afterwards money must be conserved on every loan:
what was posted and not reversed = what the lines show paid + the loan's credit balance.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lenddesk.core import audit, auth
from lenddesk.core.calendar import business_today
from lenddesk.core.db import session_factory, unit_of_work
from lenddesk.core.roles import ROLES
from lenddesk.ledger import service
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.models import Loan, Product, Repayment, ScheduleLine
from tests.ledger import factories
from tests.support.servers import free_port

PASSWORD = "correct-horse-1"
TODAY = business_today()
DISBURSED = TODAY - timedelta(days=75)  # two instalments already due


def create_users(engine: Engine) -> None:
    with session_factory(engine)() as session:
        for role in ROLES:
            auth.create_user(
                session, actor=audit.Actor.system("tests"), username=role, password=PASSWORD, role=role
            )
        session.commit()


def create_loans(engine: Engine, count: int) -> list[tuple[int, str]]:
    """A product and `count` loans of 12,000.00 with two instalments due: (id, contract number)."""
    with session_factory(engine)() as session:
        if session.scalar(select(Product.id).where(Product.code == "XJD12")) is None:
            factories.product(session)
        loans = [factories.loan(session, disbursed_on=DISBURSED) for _ in range(count)]
        session.commit()
        return [(loan.id, loan.contract_number) for loan in loans]


def run_together(tasks: list[Callable[[], Any]], *, jitter_seconds: float = 0.0, seed: int = 0) -> list[Any]:
    """Run every task on its own thread, released at once by a barrier; results or exceptions."""
    barrier = threading.Barrier(len(tasks))
    results: list[Any] = [None] * len(tasks)
    delays = random.Random(seed)
    pauses = [delays.uniform(0, jitter_seconds) for _ in tasks]

    def runner(index: int) -> None:
        barrier.wait()
        time.sleep(pauses[index])
        try:
            results[index] = tasks[index]()
        except Exception as exc:  # reported to the test, which decides what was allowed
            results[index] = exc

    threads = [threading.Thread(target=runner, args=(index,)) for index in range(len(tasks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    return results


@dataclass(frozen=True)
class Money:
    posted: int  # repayments not reversed
    on_lines: int  # paid on the schedule lines
    credit: int

    @property
    def conserved(self) -> bool:
        return self.posted == self.on_lines + self.credit


def money_of(session: Session, loan_id: int) -> Money:
    posted = session.scalar(
        select(func.coalesce(func.sum(Repayment.amount_fen), 0)).where(
            Repayment.loan_id == loan_id, Repayment.status != "reversed"
        )
    )
    on_lines = session.scalar(
        select(
            func.coalesce(
                func.sum(
                    ScheduleLine.paid_principal_fen
                    + ScheduleLine.paid_interest_fen
                    + ScheduleLine.paid_penalty_fen
                    + ScheduleLine.paid_late_fee_fen
                ),
                0,
            )
        ).where(ScheduleLine.loan_id == loan_id)
    )
    credit = session.scalar(select(Loan.credit_balance_fen).where(Loan.id == loan_id))
    return Money(int(posted or 0), int(on_lines or 0), int(credit or 0))


def assert_conserved(engine: Engine, loan_ids: list[int]) -> dict[int, Money]:
    with session_factory(engine)() as session:
        money = {loan_id: money_of(session, loan_id) for loan_id in loan_ids}
    lost = {loan_id: figures for loan_id, figures in money.items() if not figures.conserved}
    assert not lost, f"money not conserved: {lost}"
    return money


def post(engine: Engine, contract: str, reference: str, amount_fen: int = 10_000) -> int:
    with unit_of_work(engine) as session:
        result = service.post_repayment(
            session,
            actor=factories.AGENT,
            contract_number=contract,
            channel="alipay",
            external_reference=reference,
            amount_fen=amount_fen,
            value_date=TODAY,
            today=TODAY,
        )
        return result.repayment.id


def request_reversal(engine: Engine, repayment_id: int) -> None:
    with unit_of_work(engine) as session:
        service.request_reversal(session, actor=factories.AGENT, repayment_id=repayment_id, reason="错账")


def approve_reversal(engine: Engine, repayment_id: int) -> None:
    with unit_of_work(engine) as session:
        service.approve_reversal(session, actor=factories.LEAD, repayment_id=repayment_id, today=TODAY)


def postings_reversals_and_closes(engine: Engine, *, rounds: int = 3, posters_per_loan: int = 4) -> None:
    """Rounds of concurrent postings, reversal approvals and a close of business on the same loans.

    Each round: every loan gets `posters_per_loan` new repayments of 100.00 while a team lead
    approves the reversal of one of its earlier repayments and the close of business runs (a new
    business date each round). Money must be conserved after every round, every posting applied
    once and every reversal undone exactly.
    """
    loans = create_loans(engine, 3)
    loan_ids = [loan_id for loan_id, _ in loans]
    first_close = TODAY - timedelta(days=rounds - 1)
    for round_index in range(rounds):
        to_reverse = {}
        for loan_id, contract in loans:
            repayment_id = post(engine, contract, f"pre-{round_index}-{loan_id}", 25_000)
            request_reversal(engine, repayment_id)
            to_reverse[loan_id] = repayment_id
        before = assert_conserved(engine, loan_ids)
        tasks: list[Callable[[], Any]] = []
        for loan_id, contract in loans:
            for poster in range(posters_per_loan):
                reference = f"r{round_index}-{loan_id}-{poster}"
                tasks.append(lambda contract=contract, reference=reference: post(engine, contract, reference))
            tasks.append(lambda repayment_id=to_reverse[loan_id]: approve_reversal(engine, repayment_id))
        close_day = first_close + timedelta(days=round_index)
        tasks.append(lambda day=close_day: run_cob(engine, day, chunk_size=2))
        results = run_together(tasks, jitter_seconds=0.02, seed=round_index)
        failures = [result for result in results if isinstance(result, Exception)]
        assert not failures, failures
        after = assert_conserved(engine, loan_ids)
        for loan_id in loan_ids:
            gained = after[loan_id].posted - before[loan_id].posted
            assert gained == posters_per_loan * 10_000 - 25_000, (loan_id, before[loan_id], after[loan_id])


# -- over HTTP --------------------------------------------------------------------------------------


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """The app under a real uvicorn server on a free port, in a thread of this process."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the live server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def bearer(base_url: str, role: str) -> dict[str, str]:
    response = httpx.post(f"{base_url}/api/v1/auth/token", data={"username": role, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def repayment_body(contract: str, reference: str, amount: str = "100.00", **extra: Any) -> dict[str, Any]:
    return {
        "contract_number": contract,
        "channel": "alipay",
        "external_reference": reference,
        "amount": amount,
        "value_date": TODAY.isoformat(),
        **extra,
    }


def post_over_http(base_url: str, headers: dict[str, str], body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{base_url}/api/v1/ledger/repayments", json=body, headers=headers, timeout=60)


def many_repayments_on_one_loan(engine: Engine, base_url: str, *, count: int = 32) -> None:
    """`count` repayments of 100.00 at once on one loan: every one applied exactly once."""
    ((loan_id, contract),) = create_loans(engine, 1)
    headers = bearer(base_url, "team_lead")  # a team lead needs no ticket
    bodies = [repayment_body(contract, f"many-{index}") for index in range(count)]
    responses = run_together([lambda body=body: post_over_http(base_url, headers, body) for body in bodies])
    statuses = [getattr(response, "status_code", repr(response)) for response in responses]
    assert statuses == [201] * count, statuses
    assert len({response.json()["id"] for response in responses}) == count
    money = assert_conserved(engine, [loan_id])[loan_id]
    assert money.posted == count * 10_000
    with session_factory(engine)() as session:
        stored = session.scalar(select(func.count(Repayment.id)).where(Repayment.loan_id == loan_id))
    assert stored == count


def same_reference_at_once(engine: Engine, base_url: str, *, senders: int = 8) -> None:
    """The same payment sent `senders` times at once: one posting, the first result to every sender."""
    ((loan_id, contract),) = create_loans(engine, 1)
    headers = bearer(base_url, "team_lead")  # a team lead needs no ticket
    body = repayment_body(contract, "same-ref-1", "321.00")
    responses = run_together([lambda: post_over_http(base_url, headers, body) for _ in range(senders)])
    statuses = sorted(getattr(response, "status_code", repr(response)) for response in responses)
    assert statuses == [200] * (senders - 1) + [201], statuses
    answers = [response.json() for response in responses]
    first = next(
        answer for answer, response in zip(answers, responses, strict=True) if response.status_code == 201
    )
    for answer in answers:
        assert {**answer, "duplicate": False} == first
    money = assert_conserved(engine, [loan_id])[loan_id]
    assert money.posted == 32_100


def same_reference_different_payloads_at_once(engine: Engine, base_url: str, *, senders: int = 6) -> None:
    """One reference, different amounts or loans, at once: one is posted, the others get 409."""
    loans = create_loans(engine, 2)
    headers = bearer(base_url, "team_lead")  # a team lead needs no ticket
    bodies = [
        repayment_body(loans[index % 2][1], "clash-ref-1", f"{100 + index}.00") for index in range(senders)
    ]
    responses = run_together([lambda body=body: post_over_http(base_url, headers, body) for body in bodies])
    statuses = sorted(getattr(response, "status_code", repr(response)) for response in responses)
    assert statuses == [201] + [409] * (senders - 1), statuses
    codes = {response.json()["code"] for response in responses if response.status_code == 409}
    assert codes == {"reference_reused"}
    assert_conserved(engine, [loan_id for loan_id, _ in loans])
