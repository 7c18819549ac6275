"""Concurrent postings, reversals and closes on the same loans (SQLite; PostgreSQL in integration)."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from tests.ledger import concurrency


def test_concurrent_postings_reversals_and_closes_conserve_money(engine: Engine) -> None:
    concurrency.postings_reversals_and_closes(engine)


def test_32_repayments_at_once_on_one_loan_over_http_are_each_applied_once(
    engine: Engine, app: FastAPI
) -> None:
    with concurrency.live_server(app) as base_url:
        concurrency.many_repayments_on_one_loan(engine, base_url, count=32)


def test_the_same_reference_sent_at_once_answers_the_first_result_to_every_sender(
    engine: Engine, app: FastAPI
) -> None:
    with concurrency.live_server(app) as base_url:
        concurrency.same_reference_at_once(engine, base_url)


def test_one_reference_with_different_payloads_at_once_posts_one_and_refuses_the_rest(
    engine: Engine, app: FastAPI
) -> None:
    with concurrency.live_server(app) as base_url:
        concurrency.same_reference_different_payloads_at_once(engine, base_url)
