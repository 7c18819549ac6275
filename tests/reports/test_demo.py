"""`make demo` fills every month end since the first loan, so the roll matrices are not blank."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import select

from lenddesk.core.db import make_engine, session_factory
from lenddesk.ledger import jobs as ledger_jobs
from lenddesk.ledger.models import Loan
from lenddesk.reports import jobs as reports_jobs
from lenddesk.reports.models import ReportMonth
from lenddesk.reports.states import month_of, months_between, shift_month


def test_the_demo_has_a_snapshot_for_every_month_since_the_first_loan(
    template_db: Path, tmp_path: Path
) -> None:
    path = tmp_path / "demo.db"
    shutil.copy(template_db, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        with session_factory(engine)() as session:
            ledger_jobs.seed_demo(session, borrowers=30)
            session.commit()
            reports_jobs.seed_demo(session, borrowers=30)
            session.commit()
            reports_jobs.seed_demo(session, borrowers=30)  # idempotent
            session.commit()
            first = min(session.scalars(select(Loan.disbursed_on)))
            months = dict(session.execute(select(ReportMonth.month, ReportMonth.source)).all())
    finally:
        engine.dispose()
    latest = max(months)
    assert sorted(months) == months_between(month_of(first), latest)
    assert months[latest] == "close" and months[shift_month(latest, -1)] == "close"  # the simulated window
    assert months[month_of(first)] == "rebuild"
