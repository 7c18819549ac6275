"""The month-end snapshot written by the close, on the small book of conftest.py (matrix by hand)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lenddesk.ledger.models import Loan
from lenddesk.reports import service
from lenddesk.reports.models import MonthEndPosition, ReportMonth
from lenddesk.reports.service import Period

MARCH = Period("2026-03", "2026-03")


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
        select(MonthEndPosition).where(
            MonthEndPosition.month == "2026-03", MonthEndPosition.loan_id == book["G"]
        )
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
