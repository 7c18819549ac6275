"""A small book closed day by day through 2026-03-31, built once per module and copied per test.

Loans (12 monthly instalments, 3 grace days), closed day by day from 2025-08-15 to 2026-03-31:
- A  disbursed 01-15, never pays                        Feb M1 (13 days)  → Mar M2 (44 days)
- B  disbursed 01-15, pays every instalment on its day  Feb M0            → Mar M0
- C  disbursed 01-15, pays on time, repays all 03-10    Feb M0            → Mar settled
- D  disbursed 03-20                                    not on the book at the end of Feb
- E  disbursed 01-15, misses 02-15, pays it 03-10 (M0), misses 03-15: Feb M1 → Mar M1
- F  disbursed 02-01, never pays                        Mar: exactly 30 days (DPD30+, not PAR30)
- G  disbursed 2025-08-15, never pays                   Feb M6+           → Mar WO
- H  disbursed 2025-11-15, pays periods 1–2 on 03-05    Feb M3            → Mar M2
- I  disbursed 01-15, restructured 03-10 and cured      Feb M1            → Mar M0 (restructured)
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from lenddesk.core.db import make_engine, session_factory
from lenddesk.core.policy import Policy
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.models import ScheduleRevision
from tests.ledger.book import add_loan, add_product, pay_in_full

POLICY = Policy()
START = date(2025, 8, 15)
DISBURSED = {
    "A": date(2026, 1, 15),
    "B": date(2026, 1, 15),
    "C": date(2026, 1, 15),
    "D": date(2026, 3, 20),
    "E": date(2026, 1, 15),
    "F": date(2026, 2, 1),
    "G": date(2025, 8, 15),
    "H": date(2025, 11, 15),
    "I": date(2026, 1, 15),
}
PAYMENTS = {
    date(2026, 2, 15): [("B", [1]), ("C", [1])],
    date(2026, 3, 5): [("H", [1, 2])],
    date(2026, 3, 10): [("C", list(range(2, 13))), ("E", [1]), ("I", [1])],
    date(2026, 3, 15): [("B", [2]), ("I", [2])],
}
RESTRUCTURED = ("I", date(2026, 3, 10))


def _build(engine: Engine) -> dict[str, int]:
    with session_factory(engine)() as session:
        product = add_product(session)
        ids = {name: add_loan(session, product, disbursed_on=day).id for name, day in DISBURSED.items()}
        session.commit()
        run_cob(engine, START, policy=POLICY)  # the first close; later closes catch up from here
        for day in sorted(PAYMENTS):
            run_cob(engine, day - timedelta(days=1), policy=POLICY)
            for name, periods in PAYMENTS[day]:
                pay_in_full(session, ids[name], periods, day)
            if day == RESTRUCTURED[1]:
                session.add(
                    ScheduleRevision(
                        loan_id=ids[RESTRUCTURED[0]],
                        number=1,
                        effective_on=day,
                        kind="reinstalment",
                        reference="AG-TEST-1",
                        created_by="test",
                        before_lines=[],
                        after_lines=[],
                    )
                )
            session.commit()
        run_cob(engine, date(2026, 3, 31), policy=POLICY)
    return ids


@pytest.fixture(scope="module")
def built_book(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("march_book") / "book.db"
    shutil.copy(template_db, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        ids = _build(engine)
    finally:
        engine.dispose()
    return path, ids


@pytest.fixture
def db_url(built_book: tuple[Path, dict[str, int]], tmp_path: Path) -> str:
    """Every test in this folder starts from its own copy of the closed book."""
    path = tmp_path / "lenddesk.db"
    shutil.copy(built_book[0], path)
    return f"sqlite:///{path}"


@pytest.fixture
def book(built_book: tuple[Path, dict[str, int]]) -> dict[str, int]:
    return built_book[1]
