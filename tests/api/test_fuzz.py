"""Schemathesis over the whole OpenAPI document, signed in as an admin and as an agent.

Every operation gets the examples, coverage (boundary and out-of-range values, wrong types, missing
fields, other methods) and fuzzing phases against a small demo book on SQLite. Each generated request
is sent twice, once per role, and each answer must be no 5xx, a documented status code, the
documented content type and a body matching the documented schema.

Runs in `make test` (its own xdist group). For a longer hunt:
    LENDDESK_FUZZ_EXAMPLES=500 LENDDESK_FUZZ_SEED=$RANDOM .venv/bin/pytest tests/api/test_fuzz.py -q
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, select, update

from lenddesk.app import create_app
from lenddesk.core import auth
from lenddesk.core.db import make_engine, session_factory
from lenddesk.core.models import User
from lenddesk.core.policy import get_policy
from lenddesk.desk import jobs as desk_jobs
from lenddesk.ledger import jobs as ledger_jobs

pytestmark = pytest.mark.xdist_group("fuzz")

FUZZ_ROLES = ("admin", "agent")
DEMO_BORROWERS = 20
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": int(os.environ.get("LENDDESK_FUZZ_SEED", "20261130")),
        "generation": {"max-examples": int(os.environ.get("LENDDESK_FUZZ_EXAMPLES", "10"))},
        "phases": {"stateful": {"enabled": False}},
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "status_code_conformance": {"enabled": True},
            "content_type_conformance": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
        },
    }
)
# The document only: the requests go to `fuzz_app`, which has the seeded database behind it.
schema = schemathesis.openapi.from_dict(create_app(database_url="sqlite://").openapi(), config=CONFIG)


@pytest.fixture(scope="module")
def fuzz_engine(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The users of the template database plus the demo seed: a small book, teams, tickets."""
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    shutil.copy(template_db, path)
    engine = make_engine(f"sqlite:///{path}")
    for seeder in (ledger_jobs, desk_jobs):
        with session_factory(engine)() as session:
            seeder.seed_demo(session, borrowers=DEMO_BORROWERS)
            session.commit()
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def fuzz_app(fuzz_engine: Engine) -> FastAPI:
    get_policy.cache_clear()
    return create_app(engine=fuzz_engine)


def signed_in_headers(engine: Engine) -> list[dict[str, str]]:
    """Fresh bearer tokens for the admin and the agent.

    The admin's requests may disable or re-role either account (PATCH /api/v1/users/{id} with a
    small id); put them back first so that every request is tried with the role it is meant for.
    """
    headers = []
    with session_factory(engine)() as session:
        for role in FUZZ_ROLES:
            session.execute(update(User).where(User.username == role).values(role=role, active=True))
            user = session.scalars(select(User).where(User.username == role)).one()
            headers.append({"Authorization": f"Bearer {auth.issue_token(user)}"})
        session.commit()
    return headers


@schema.parametrize()
@settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case, fuzz_engine: Engine, fuzz_app: FastAPI) -> None:  # type: ignore[no-untyped-def]
    for headers in signed_in_headers(fuzz_engine):
        case.call_and_validate(headers=headers, app=fuzz_app)
