"""Scheduled work and demo data of the ledger room."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lenddesk.core.calendar import business_today
from lenddesk.ledger.cob import CobSummary, run_cob
from lenddesk.ledger.seed import SeedOptions, SeedReport, seed_book


def close_of_business(engine: Engine | None = None, *, business_date: date | None = None) -> CobSummary:
    """The nightly job: close `business_date` (default: today in Shanghai), catching up missed dates.

    Schedule it after the day's last repayment cut-off (e.g. 23:30 Asia/Shanghai). Safe to re-run
    and to run after a crash: it resumes where it stopped and never closes a date twice.
    """
    from lenddesk.core.db import get_engine
    from lenddesk.core.locks import database_job, job_lock

    engine = engine or get_engine()
    with job_lock(database_job("cob", engine.url.render_as_string(hide_password=False))):
        return run_cob(engine, business_date or business_today())


def seed_demo(session: Session, *, borrowers: int) -> SeedReport:
    """Create this room's demo data (idempotent): a book of `borrowers` borrowers as of today."""
    return seed_book(session.get_bind(), SeedOptions(borrowers=borrowers, business_date=business_today()))
