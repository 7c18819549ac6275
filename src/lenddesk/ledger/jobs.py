"""Scheduled work and demo data of the ledger room."""

from __future__ import annotations

from datetime import date, timedelta

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
    today = business_today()
    options = SeedOptions(
        borrowers=borrowers,
        business_date=today,
        simulate_days=demo_window_days(today),
        skip_steps=DEMO_SKIPPED_STEPS,
        players=DEMO_PLAYERS,
    )
    return seed_book(session.get_bind(), options)


def demo_window_days(today: date) -> int:
    """Days the demo closes for real: enough to hold the last two month ends (and a few days before).

    The reports room snapshots balances only at a month end the close itself passes, and the newest
    full month's balance-basis roll matrix compares two of them; earlier months are rebuilt on the
    count basis. Fewer closes than the seeder's default 60 keep `make demo` quick (bench/demo_seed.py).
    """
    last_month_end = (
        today if (today + timedelta(days=1)).day == 1 else today.replace(day=1) - timedelta(days=1)
    )
    month_end_before = last_month_end.replace(day=1) - timedelta(days=1)
    return (today - month_end_before).days + DEMO_WINDOW_LEAD_DAYS


DEMO_WINDOW_LEAD_DAYS = 3
# Scored only in the window's last two weeks: the whole book is rescored each close, so today's
# profiles are the same; early warnings come from the band changes of those weeks.
DEMO_SKIPPED_STEPS = ("risk",)
# Hardship negotiations are agreed on the book as it stands that day and judged by the closes after:
# they are played inside the window (seed/players.py).
DEMO_PLAYERS = ("lenddesk.negotiation.demo",)
