"""Concurrent postings, reversals and closes on PostgreSQL, and the API on a book the seeder made."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select, text

from lenddesk.app import create_app
from lenddesk.core import audit, auth
from lenddesk.core.db import Base, make_engine, session_factory, upgrade_database
from lenddesk.core.policy import get_policy
from lenddesk.desk import jobs as desk_jobs
from lenddesk.ledger import jobs as ledger_jobs
from lenddesk.ledger.models import Loan, ScheduleLine
from lenddesk.ledger.seed import SeedOptions, seed_book
from lenddesk.negotiation.models import Agreement
from tests.ledger import concurrency
from tests.ledger.concurrency import PASSWORD, TODAY, bearer, live_server, post_over_http, repayment_body


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    upgrade_database(pg_url)
    engine = make_engine(pg_url)
    concurrency.create_users(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_app(pg_engine: Engine) -> FastAPI:
    get_policy.cache_clear()
    return create_app(engine=pg_engine)


def test_concurrent_postings_reversals_and_closes_conserve_money_on_postgres(pg_engine: Engine) -> None:
    concurrency.postings_reversals_and_closes(pg_engine)


def test_32_repayments_at_once_on_one_loan_over_http_on_postgres(pg_engine: Engine, pg_app: FastAPI) -> None:
    with live_server(pg_app) as base_url:
        concurrency.many_repayments_on_one_loan(pg_engine, base_url, count=32)


def test_the_same_reference_at_once_answers_the_first_result_on_postgres(
    pg_engine: Engine, pg_app: FastAPI
) -> None:
    with live_server(pg_app) as base_url:
        concurrency.same_reference_at_once(pg_engine, base_url)
        concurrency.same_reference_different_payloads_at_once(pg_engine, base_url)


def test_a_primary_key_clash_is_named_as_such_not_as_a_reference_conflict(
    pg_engine: Engine, pg_app: FastAPI
) -> None:
    ((_, contract),) = concurrency.create_loans(pg_engine, 1)
    with live_server(pg_app) as base_url:
        headers = bearer(base_url, "team_lead")  # a team lead needs no ticket
        assert post_over_http(base_url, headers, repayment_body(contract, "first")).status_code == 201
        with pg_engine.begin() as connection:  # what the old seeder left behind: a sequence behind its rows
            connection.exec_driver_sql("SELECT setval(pg_get_serial_sequence('repayments', 'id'), 1, false)")
        clash = post_over_http(base_url, headers, repayment_body(contract, "second"))
        assert clash.status_code == 409, clash.text
        assert clash.json()["code"] == "integrity_conflict"
        assert clash.json()["details"] == {"constraint": "pk_repayments"}
        retry = post_over_http(base_url, headers, repayment_body(contract, "second"))
        assert retry.status_code == 201, retry.text  # nothing was half-written by the refused attempt


def test_the_callers_read_without_a_transaction_leaves_none_of_the_pool_in_autocommit(
    pg_engine: Engine, pg_app: FastAPI
) -> None:
    """The repayment route reads its caller with no transaction (`auth.allow_for_own_transaction`); the
    connection goes back to the pool transactional, or a posting on it would lock the loan for nothing."""
    ((_, contract),) = concurrency.create_loans(pg_engine, 1)
    with live_server(pg_app) as base_url:
        headers = bearer(base_url, "team_lead")
        for index in range(3):
            posted = post_over_http(base_url, headers, repayment_body(contract, f"pooled-{index}"))
            assert posted.status_code == 201, posted.text
    pool = pg_engine.pool
    connections = [pg_engine.raw_connection() for _ in range(pool.checkedin())]
    try:
        assert connections and not any(connection.driver_connection.autocommit for connection in connections)
    finally:
        for connection in connections:
            connection.close()


# -- a book made by the seeder ---------------------------------------------------------------------


def sequences_behind_their_rows(engine: Engine) -> dict[str, tuple[int, int]]:
    """Tables whose next id from the sequence would collide with a row: {table: (max id, next id)}."""
    behind = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if "id" not in table.c:
                continue
            sequence = connection.scalar(text(f"SELECT pg_get_serial_sequence('{table.name}', 'id')"))
            if sequence is None:
                continue
            top = connection.scalar(text(f"SELECT MAX(id) FROM {table.name}"))
            last, called = connection.execute(text(f"SELECT last_value, is_called FROM {sequence}")).one()
            next_id = last + 1 if called else last
            if top is not None and next_id <= top:
                behind[table.name] = (top, next_id)
    return behind


@pytest.fixture
def seeded_pg(pg_engine: Engine) -> Engine:
    seed_book(pg_engine, SeedOptions(borrowers=300, business_date=TODAY, simulate_days=20, seed=3))
    with session_factory(pg_engine)() as session:
        desk_jobs.seed_demo(session, borrowers=300)
        session.commit()
    return pg_engine


def open_loans_with_instalments_due(engine: Engine, count: int) -> list[tuple[int, str]]:
    with session_factory(engine)() as session:
        rows = session.execute(
            select(Loan.id, Loan.contract_number)
            .where(
                Loan.status.in_(("current", "overdue")),
                Loan.id.in_(select(ScheduleLine.loan_id).where(ScheduleLine.due_on > TODAY)),
                Loan.id.in_(select(ScheduleLine.loan_id).where(ScheduleLine.due_on <= TODAY)),
            )
            .order_by(Loan.id)
            .limit(count)
        ).all()
    assert len(rows) == count
    return [(row.id, row.contract_number) for row in rows]


def test_post_reverse_and_settle_over_the_api_on_a_seeded_postgres_book(
    seeded_pg: Engine, pg_app: FastAPI
) -> None:
    (paid_loan, paid_contract), (settled_loan, settled_contract) = open_loans_with_instalments_due(
        seeded_pg, 2
    )
    before = concurrency.assert_conserved(seeded_pg, [paid_loan, settled_loan])
    with session_factory(seeded_pg)() as session:
        auth.create_user(
            session, actor=audit.Actor.system("tests"), username="lead2", password=PASSWORD, role="team_lead"
        )
        session.commit()
    with live_server(pg_app) as base_url:
        # A lead posts and asks (agents need a ticket of the borrower's); another lead approves.
        agent, lead = bearer(base_url, "team_lead"), bearer(base_url, "lead2")
        posted = post_over_http(base_url, agent, repayment_body(paid_contract, "seeded-flow-1", "100.00"))
        assert posted.status_code == 201, posted.text
        repayment_id = posted.json()["id"]
        requested = httpx.post(
            f"{base_url}/api/v1/ledger/repayments/{repayment_id}/reversal",
            json={"reason": "重复入账"},
            headers=agent,
        )
        assert requested.status_code == 200, requested.text
        approved = httpx.post(
            f"{base_url}/api/v1/ledger/repayments/{repayment_id}/reversal/approve", headers=lead
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "reversed"

        quote = httpx.get(f"{base_url}/api/v1/ledger/loans/{settled_contract}/settlement-quote", headers=lead)
        assert quote.status_code == 200, quote.text
        total = quote.json()["settlement"]["total"]
        body = repayment_body(settled_contract, "seeded-settle-1", total, kind="early_full")
        settled = post_over_http(base_url, agent, body)
        assert settled.status_code == 201, settled.text
        loan = httpx.get(f"{base_url}/api/v1/ledger/loans/{settled_contract}", headers=lead)
        assert loan.json()["status"] == "settled"
    after = concurrency.assert_conserved(seeded_pg, [paid_loan])
    assert after[paid_loan] == before[paid_loan]  # posted and reversed: back where it was


def test_the_demo_negotiations_on_postgres_leave_every_sequence_past_its_rows(pg_engine: Engine) -> None:
    """The window's player posts repayments through the ledger between the seeder's own, whose ids
    it writes itself: neither may take the other's id, and every agreement's money is conserved."""
    options = SeedOptions(
        borrowers=300, business_date=TODAY, simulate_days=25, seed=3, players=ledger_jobs.DEMO_PLAYERS
    )
    seed_book(pg_engine, options)
    with session_factory(pg_engine)() as session:
        loan_ids = list(session.scalars(select(Agreement.loan_id)))
        statuses = set(session.scalars(select(Agreement.status)))
    assert loan_ids and "kept" in statuses, statuses
    concurrency.assert_conserved(pg_engine, loan_ids)
    behind = sequences_behind_their_rows(pg_engine)
    behind.pop("negotiation_chain_head", None)  # one row, always id 1: never taken from its sequence
    assert behind == {}
