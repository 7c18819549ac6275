"""The month-end snapshot written by the close, on a small book whose matrix is computed by hand.

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

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lenddesk.core.policy import Policy
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.models import Loan, ScheduleRevision
from lenddesk.reports import service
from lenddesk.reports.models import MonthEndPosition, ReportMonth
from lenddesk.reports.service import Period
from tests.ledger.book import add_loan, add_product, pay_in_full

POLICY = Policy()
START = date(2025, 8, 15)
MARCH = Period("2026-03", "2026-03")


def _close(engine: Engine, day: date) -> None:
    run_cob(engine, day, policy=POLICY)


def _on_time(session: Session, loan_id: int, periods: list[int], day: date) -> None:
    pay_in_full(session, loan_id, periods, day)
    session.commit()


@pytest.fixture
def book(engine: Engine, session: Session) -> dict[str, int]:
    product = add_product(session)
    disbursed = {
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
    ids = {name: add_loan(session, product, disbursed_on=day).id for name, day in disbursed.items()}
    session.commit()
    payments = {
        date(2026, 2, 15): [("B", [1]), ("C", [1])],
        date(2026, 3, 5): [("H", [1, 2])],
        date(2026, 3, 10): [("C", list(range(2, 13))), ("E", [1]), ("I", [1])],
        date(2026, 3, 15): [("B", [2]), ("I", [2])],
    }
    _close(engine, START)  # the book's first close; later closes catch up every date from here
    day = START
    for payment_day in sorted(payments):
        _close(engine, payment_day - timedelta(days=1))
        for name, periods in payments[payment_day]:
            _on_time(session, ids[name], periods, payment_day)
        if payment_day == date(2026, 3, 10):
            session.add(
                ScheduleRevision(
                    loan_id=ids["I"],
                    number=1,
                    effective_on=payment_day,
                    kind="reinstalment",
                    reference="AG-TEST-1",
                    created_by="test",
                    before_lines=[],
                    after_lines=[],
                )
            )
            session.commit()
        day = payment_day
    _close(engine, date(2026, 3, 31))
    assert day < date(2026, 3, 31)
    return ids


def _states(session: Session, month: str, ids: dict[str, int]) -> dict[str, str]:
    rows = session.execute(
        select(MonthEndPosition.loan_id, MonthEndPosition.state).where(MonthEndPosition.month == month)
    ).all()
    by_id = dict(rows)
    return {name: by_id[loan_id] for name, loan_id in ids.items() if loan_id in by_id}


def test_the_close_snapshots_every_month_end(session: Session, book: dict[str, int]) -> None:
    months = session.scalars(select(ReportMonth.month).where(ReportMonth.source == "close")).all()
    assert months[0] == "2025-08" and months[-1] == "2026-03" and len(months) == 8
    assert _states(session, "2026-02", book) == {
        "A": "M1", "B": "M0", "C": "M0", "E": "M1", "F": "M0", "G": "M6+", "H": "M3", "I": "M1",
    }  # fmt: skip
    assert _states(session, "2026-03", book) == {
        "A": "M2", "B": "M0", "C": "settled", "D": "M0", "E": "M1", "F": "M1", "G": "WO", "H": "M2",
        "I": "M0",
    }  # fmt: skip


def test_the_march_matrix_by_hand(session: Session, book: dict[str, int]) -> None:
    (matrix,) = service.roll_rates(session, MARCH)
    assert matrix.counts == {
        "M0": {"M0": 1, "M1": 1, "settled": 1},  # B stays, F enters M1, C settles; D is not there
        "M1": {"M0": 1, "M1": 1, "M2": 1},  # I cures, E is back in M1, A rolls
        "M3": {"M2": 1},  # H after its partial payment
        "M6+": {"WO": 1},  # G
    }
    assert matrix.rates["M1"]["M2"].value == 0.333
    assert sum(rate.value or 0 for rate in matrix.rates["M1"].values()) == pytest.approx(1.0, abs=0.002)


def test_cure_rate_with_and_without_the_restructured_loan(session: Session, book: dict[str, int]) -> None:
    (cures,) = service.cure_rates(session, MARCH)
    # A, E, I (M1), H (M3) and G (M6+) were M1+ at the end of February; only I is M0 now.
    assert (cures["all"].numerator, cures["all"].denominator) == (1, 5)
    assert (cures["excluding_restructured"].numerator, cures["excluding_restructured"].denominator) == (0, 4)


def test_the_30_day_line_counts_for_dpd30_plus_but_not_par30(
    engine: Engine, session: Session, book: dict[str, int]
) -> None:
    assert session.get(Loan, book["F"]).days_past_due == 30  # type: ignore[union-attr]
    (march,) = service.portfolio_at_risk(session, MARCH)
    positions = {
        row.loan_id: row
        for row in session.scalars(select(MonthEndPosition).where(MonthEndPosition.month == "2026-03"))
    }
    active = [p for p in positions.values() if p.state not in ("settled", "WO")]
    assert march.loans == len(active)
    over_30 = sum(p.outstanding_principal_fen or 0 for p in active if (p.days_past_due or 0) > 30)
    at_least_30 = sum(p.outstanding_principal_fen or 0 for p in active if (p.days_past_due or 0) >= 30)
    assert march.par30_fen == over_30
    assert march.dpd30_fen == at_least_30 == over_30 + positions[book["F"]].outstanding_principal_fen


def test_written_off_balance_stays_in_the_vintage_90_plus(session: Session, book: dict[str, int]) -> None:
    g = session.scalar(
        select(MonthEndPosition).where(MonthEndPosition.month == "2026-03", MonthEndPosition.loan_id == book["G"])
    )
    assert g is not None and g.state == "WO"
    curves = service.vintage(session, Period("2025-08", "2025-08"))
    march = next(point for point in curves["2025-08"] if point["mob"] == 7)
    assert march["dpd90_fen"] == g.outstanding_principal_fen > 0
    ever = service.vintage(session, Period("2025-08", "2025-08"), "ever")
    assert next(p for p in ever["2025-08"] if p["mob"] == 7)["dpd1_fen"] > 0


def test_rewriting_a_month_is_idempotent_and_rebuild_matches_counts(
    engine: Engine, session: Session, book: dict[str, int]
) -> None:
    (before,) = service.roll_rates(session, MARCH)
    with engine.begin() as connection:
        service.write_month(connection, "2026-03", live=True)
    session.expire_all()
    (again,) = service.roll_rates(session, MARCH)
    assert again.counts == before.counts
    # From the bucket history alone, the counts are the same; balances are unavailable.
    with engine.begin() as connection:
        service.write_month(connection, "2026-02", live=False)
        service.write_month(connection, "2026-03", live=False)
    session.expire_all()
    (rebuilt,) = service.roll_rates(session, MARCH, "balance")
    assert rebuilt.counts == before.counts
    assert rebuilt.basis == "count"
    assert service.portfolio_at_risk(session, MARCH)[0].outstanding_fen is None
