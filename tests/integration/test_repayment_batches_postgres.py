"""Repayment files on PostgreSQL: overlapping files imported at once apply each reference once,
on the back-dated (single posting) and on the set-based path."""

from __future__ import annotations

from sqlalchemy import Engine

from tests.integration.test_ledger_concurrency_postgres import pg_engine  # noqa: F401 - fixture
from tests.ledger.batch_support import (
    overlapping_files_on_many_loans_apply_each_reference_once,
    overlapping_imports_apply_each_reference_once,
)


def test_two_overlapping_files_at_once_apply_each_reference_once_on_postgres(pg_engine: Engine) -> None:  # noqa: F811
    overlapping_imports_apply_each_reference_once(pg_engine)


def test_two_overlapping_files_on_the_set_based_path_at_once_on_postgres(pg_engine: Engine) -> None:  # noqa: F811
    overlapping_files_on_many_loans_apply_each_reference_once(pg_engine)
