"""`make demo` shows the product: a freshly seeded small demo has figures on every report, scorecard,
CSAT and strategy page, and its year of history is the same for the same seed and day."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lenddesk.app import create_app
from lenddesk.core.calendar import business_today
from lenddesk.core.db import make_engine, session_factory
from lenddesk.core.policy import get_policy
from lenddesk.desk import jobs as desk_jobs
from lenddesk.ledger import jobs as ledger_jobs
from lenddesk.reports import demo
from lenddesk.reports import jobs as reports_jobs
from lenddesk.reports.states import month_of, shift_month
from tests.conftest import token_for

BORROWERS = 150


def _seed(path: Path, *modules: Any) -> list[Any]:
    engine = make_engine(f"sqlite:///{path}")
    try:
        with session_factory(engine)() as session:
            results = [module.seed_demo(session, borrowers=BORROWERS) for module in modules]
            session.commit()
            return results
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def book_without_history(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's book, desk and month ends, before the year of history is played on it."""
    path = tmp_path_factory.mktemp("demo") / "book.db"
    shutil.copy(template_db, path)
    for module in (ledger_jobs, desk_jobs, reports_jobs):
        _seed(path, module)
    return path


@pytest.fixture(scope="module")
def seeded(book_without_history: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    path = tmp_path_factory.mktemp("demo_a") / "demo.db"
    shutil.copy(book_without_history, path)
    (history,) = _seed(path, demo)
    return path, history


@pytest.fixture
def demo_client(seeded: tuple[Path, Any], tmp_path: Path) -> Iterator[TestClient]:
    path = tmp_path / "demo.db"
    shutil.copy(seeded[0], path)
    engine = make_engine(f"sqlite:///{path}")
    get_policy.cache_clear()
    try:
        with TestClient(create_app(engine=engine)) as client:
            yield client
    finally:
        engine.dispose()


def _get(client: TestClient, role: str, url: str, **params: Any) -> Any:
    response = client.get(url, params=params, headers={"Authorization": f"Bearer {token_for(client, role)}"})
    assert response.status_code == 200, f"{url}: {response.text}"
    return response.json()


def _year() -> dict[str, str]:
    last = shift_month(month_of(business_today()), -1)
    return {"from": shift_month(last, -11), "to": last}


def test_every_report_page_has_figures_on_first_sight(
    demo_client: TestClient, seeded: tuple[Path, Any]
) -> None:
    history = seeded[1]
    assert history.tickets and history.complaints and history.surveys_answered and history.reviews
    assert history.contacts and history.promises
    year = _year()
    roll = _get(demo_client, "team_lead", "/api/v1/reports/roll-rates", **year)
    assert any(month["counts"].get("M1") for month in roll["months"])
    cures = _get(demo_client, "team_lead", "/api/v1/reports/cure-rates", **year)["months"]
    assert any(row["all"]["denominator"] for row in cures)
    assert _get(demo_client, "team_lead", "/api/v1/reports/vintage", **year)["cohorts"]
    promises = _get(demo_client, "team_lead", "/api/v1/reports/promises", **year)["rows"]
    assert sum(row["judged"] for row in promises) and sum(row["kept"] for row in promises)
    csat = _get(demo_client, "team_lead", "/api/v1/reports/csat", **year)
    assert csat["total"]["answered"] and csat["total"]["csat"]["rate"] is not None
    sla = _get(demo_client, "team_lead", "/api/v1/reports/sla", **year)["rows"]
    assert sum(row["resolution"]["achieved"] + row["resolution"]["breached"] for row in sla)
    assert _get(demo_client, "team_lead", "/api/v1/reports/complaints", **year)["rows"]
    collectors = _get(demo_client, "team_lead", "/api/v1/reports/collectors", **year)["rows"]
    assert len(collectors) >= 2 and all(row["contacts"] for row in collectors)
    agents = _get(demo_client, "team_lead", "/api/v1/reports/agents", month=year["to"])["rows"]
    assert agents and any(row["handled"] for row in agents)
    cards = _get(demo_client, "qa", "/api/v1/quality/scorecards", period=year["to"])
    assert any(row["qa_score"] is not None and row["csat"] is not None for row in cards["rows"])
    reviews = _get(demo_client, "qa", "/api/v1/quality/reviews", status="reviewed")
    assert reviews
    feedback = _get(
        demo_client,
        "team_lead",
        "/api/v1/feedback/summary",
        **{"from": f"{year['from']}-01", "to": str(business_today())},
    )
    assert feedback["answered"] and feedback["csat"] is not None
    strategy = _get(
        demo_client, "team_lead", "/api/v1/collections/strategies/report", since=f"{year['from']}-01"
    )
    assert any(arm["accounts"] for arm in strategy["arms"])


def test_the_history_is_the_same_for_the_same_seed_and_day(
    seeded: tuple[Path, Any], book_without_history: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again.db"
    shutil.copy(book_without_history, again)
    (history,) = _seed(again, demo)
    assert history == seeded[1]
    first, second = _figures(seeded[0]), _figures(again)
    assert first == second


def _figures(path: Path) -> str:
    engine = make_engine(f"sqlite:///{path}")
    year = _year()
    try:
        with TestClient(create_app(engine=engine)) as client:
            reports = ("promises", "csat", "sla", "complaints", "collectors")
            figures = {name: _get(client, "team_lead", f"/api/v1/reports/{name}", **year) for name in reports}
    finally:
        engine.dispose()
    return json.dumps(figures, sort_keys=True)
