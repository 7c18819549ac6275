"""A real PostgreSQL server for the whole test session (and Redis where a test asks for it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.servers import PostgresServer, RedisServer, start_postgres, start_redis


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # One xdist worker runs every integration test, so one server serves them all.
    for item in items:
        if "tests/integration/" in str(item.path):
            item.add_marker(pytest.mark.xdist_group("integration"))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture
def pg_url(postgres: PostgresServer, request: pytest.FixtureRequest) -> str:
    """A fresh, empty database on the shared server for each test."""
    name = "t_" + "".join(ch if ch.isalnum() else "_" for ch in request.node.name.lower())[:50]
    return postgres.create_database(f"{name}_{id(request) % 100000}")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = start_redis()
    yield server
    server.stop()
