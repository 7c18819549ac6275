"""The early-warning score: the SQL of the close and the pure Python twin agree (property tests),
the close scores the book, raises EARLY_WARNING_HIGH once, and the API and the 360 show the score."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select, update

from lenddesk.core.db import session_factory
from lenddesk.core.policy import RiskPolicy
from lenddesk.core.settings import get_settings
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.models import Borrower, Loan, ScheduleLine
from lenddesk.ledger.service.behaviour import repayment_behaviour as repayment_sql
from lenddesk.risk import score
from lenddesk.risk.models import Alert, BorrowerKey, Profile
from lenddesk.risk.service import scoring
from lenddesk.risk.service._common import borrower_hashes
from lenddesk.risk.service.scoring import FEATURES, band_sql, score_day, score_sql
from tests.conftest import PASSWORD
from tests.risk.conftest import Book, make_book

AS_OF = date(2026, 11, 30)
FUNCTION_DB = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

behaviours = st.builds(
    score.Behaviour,
    worst_dpd=st.integers(0, 400),
    late_instalments=st.integers(0, 12),
    partial_payments=st.integers(0, 12),
    broken_promises=st.integers(0, 6),
    broken_agreements=st.integers(0, 4),
    recent_hardship=st.integers(0, 3),
)
weights = st.builds(
    lambda dpd, late, partial, promise, agreement, hardship, medium, gap: RiskPolicy(
        dpd_points=dpd,
        late_instalment_points=late[0],
        late_instalment_cap=late[1],
        partial_payment_points=partial[0],
        partial_payment_cap=partial[1],
        broken_promise_points=promise[0],
        broken_promise_cap=promise[1],
        broken_agreement_points=agreement[0],
        broken_agreement_cap=agreement[1],
        hardship_points=hardship,
        medium_from=medium,
        high_from=medium + gap,
    ),
    st.lists(st.integers(1, 200), min_size=1, max_size=4, unique=True).flatmap(
        lambda days: st.lists(st.integers(0, 60), min_size=len(days), max_size=len(days)).map(
            lambda points: list(zip(sorted(days), points, strict=True))
        )
    ),
    *[st.tuples(st.integers(0, 30), st.integers(0, 60)) for _ in range(4)],
    st.integers(0, 40),
    st.integers(1, 60),
    st.integers(1, 39),
)


@FUNCTION_DB
@given(behaviour=behaviours, policy=weights)
def test_the_sql_score_and_band_equal_the_python_twin(
    engine: Engine, book: Book, behaviour: score.Behaviour, policy: RiskPolicy
) -> None:
    weight = score.Weights.of(policy)
    with session_factory(engine)() as session:
        session.execute(
            Profile.__table__.delete().where(Profile.borrower_id == book.borrower)  # type: ignore[attr-defined]
        )
        session.add(
            Profile(borrower_id=book.borrower, **{name: getattr(behaviour, name) for name in FEATURES})
        )
        session.flush()
        value = score_sql(Profile, weight)
        session.execute(
            update(Profile)
            .where(Profile.borrower_id == book.borrower)
            .values(score=value, band=band_sql(value, weight))
        )
        stored = session.execute(
            select(Profile.score, Profile.band).where(Profile.borrower_id == book.borrower)
        ).one()
        session.rollback()
    twin = score.score(behaviour, weight)
    assert (stored.score, stored.band) == (twin.score, twin.band)
    assert 0 <= twin.score <= 100


instalments = st.lists(
    st.tuples(
        st.integers(-400, 20),  # due, days from AS_OF
        st.one_of(st.none(), st.integers(-30, 200)),  # paid off, days after due (None: not yet)
        st.booleans(),  # paid in part
    ),
    min_size=1,
    max_size=12,
)


@FUNCTION_DB
@given(lines=instalments, lookback=st.sampled_from([30, 90, 180]))
def test_the_ledger_statement_equals_the_python_twin_of_repayment_behaviour(
    engine: Engine, book: Book, lines: list[tuple[int, int | None, bool]], lookback: int
) -> None:
    with session_factory(engine)() as session:
        loan = session.scalar(select(Loan).where(Loan.borrower_id == book.borrower))
        assert loan is not None
        session.execute(ScheduleLine.__table__.delete().where(ScheduleLine.loan_id == loan.id))  # type: ignore[attr-defined]
        twin_lines = []
        for period, (due, paid_after, part) in enumerate(lines, start=1):
            due_on = AS_OF + timedelta(days=due)
            paid_off_on = due_on + timedelta(days=paid_after) if paid_after is not None else None
            session.add(
                ScheduleLine(
                    loan_id=loan.id, period=period, due_on=due_on, principal_fen=100, interest_fen=10,
                    paid_principal_fen=50 if part else 0, paid_off_on=paid_off_on,
                )
            )  # fmt: skip
            twin_lines.append(score.Instalment(due_on, paid_off_on, part))
        session.flush()
        row = session.execute(
            repayment_sql(as_of=AS_OF, lookback_days=lookback, first_id=book.borrower, last_id=book.borrower)
        ).first()
        session.rollback()
    twin = score.repayment_behaviour(twin_lines, as_of=AS_OF, lookback_days=lookback)
    got = (
        (int(row.worst_dpd), int(row.late_instalments), int(row.partial_payments))
        if row is not None
        else (0, 0, 0)
    )
    assert got == (twin.worst_dpd, twin.late_instalments, twin.partial_payments)


def test_the_repayment_scan_reads_only_the_index_of_lines_ever_past_due(engine: Engine, book: Book) -> None:
    """At a million loans the score's scan is the close's slowest read: on SQLite it must read the
    covering partial index of lines unpaid or paid late, never the table's rows (~9 a loan)."""
    statement = repayment_sql(as_of=AS_OF, lookback_days=180, first_id=1, last_id=book.borrower)
    compiled = statement.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as connection:
        plan = [row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")]
    lines = [step for step in plan if "schedule_lines" in step]
    assert lines == [
        "SEARCH schedule_lines USING COVERING INDEX ix_schedule_lines_owed_or_late (loan_id=? AND due_on<?)"
    ]


@pytest.mark.parametrize("batch", [scoring.ALERT_BATCH, 1], ids=["one statement", "one per borrower"])
def test_the_close_scores_an_overdue_borrower_and_raises_one_high_alert(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    """A loan overdue since 2026-10-15: by the 2026-11-30 close 46 days past due and two instalments
    late (35 + 10 points: medium); with a broken agreement's points raised by policy, high. Alerts
    are raised in batches of ids: split into batches of one, both borrowers still get theirs."""
    monkeypatch.setattr(scoring, "ALERT_BATCH", batch)
    book = make_book(engine)
    run_cob(engine, AS_OF)  # the close runs the risk step after aging
    with session_factory(engine)() as session:
        profile = session.scalar(select(Profile).where(Profile.borrower_id == book.borrower))
        assert profile is not None
        assert (profile.worst_dpd, profile.late_instalments, profile.score, profile.band) == (
            46,
            2,
            45,
            "medium",
        )
        assert profile.scored_on == AS_OF
    high = RiskPolicy(high_from=40, medium_from=20)
    with engine.connect() as connection:
        assert score_day(connection, AS_OF, high) == {"skipped": 1}  # the date is done
        counts = score_day(connection, AS_OF + timedelta(days=1), high)
        again = score_day(connection, AS_OF + timedelta(days=2), high)
    assert counts["alerts"] == 2 and again["alerts"] == 0  # both borrowers entered high once
    with session_factory(engine)() as session:
        alerts = session.scalars(select(Alert).where(Alert.borrower_id == book.borrower)).all()
        assert [(a.rule, a.status) for a in alerts] == [("EARLY_WARNING_HIGH", "open")]
        assert alerts[0].evidence["score"] >= 40 and alerts[0].evidence["worst_dpd"] >= 46
        assert session.scalar(select(func.count()).select_from(Profile)) == 2


def test_the_score_api_and_the_borrower_360_show_the_score_and_reasons(
    app: FastAPI, engine: Engine, as_role
) -> None:
    book = make_book(engine)
    run_cob(engine, AS_OF)
    client = TestClient(app)
    response = client.get(f"/api/v1/risk/borrowers/{book.borrower}/score", headers=as_role("compliance"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["score"], body["band"], body["scored_on"]) == (45, "medium", "2026-11-30")
    assert [reason["code"] for reason in body["reasons"]] == ["worst_dpd", "late_instalments"]
    assert client.get("/api/v1/risk/borrowers/999999/score", headers=as_role("compliance")).status_code == 404
    for case_bound in ("agent", "collector"):
        refused = client.get(f"/api/v1/risk/borrowers/{book.borrower}/score", headers=as_role(case_bound))
        assert refused.status_code == 403
    browser = TestClient(app)
    browser.post("/login", data={"username": "compliance", "password": PASSWORD})
    page = browser.get(f"/borrowers/{book.borrower}")
    assert page.status_code == 200
    assert 'data-testid="risk-score">45（中风险）' in page.text
    assert "近期最长逾期 46 天" in page.text
    panel = page.text.split('data-testid="risk-panel"', 1)[1].split("</section>", 1)[0]
    assert book.id_number not in panel and book.mobile not in panel  # the panel shows no personal data


def test_the_close_hashes_only_borrowers_without_keys_until_the_key_changes(
    engine: Engine, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Keyed hashes are made once per borrower, not at every close (a million HMACs a day at full
    size); a new LENDDESK_RISK_KEY makes the next close re-hash everyone, so the blacklist join
    keeps finding listed borrowers."""
    make_book(engine)
    monkeypatch.setenv("LENDDESK_RISK_KEY", "first-risk-key-for-tests-0001")
    get_settings.cache_clear()
    with engine.connect() as connection:
        assert score_day(connection, AS_OF)["keys"] == 2
        assert score_day(connection, AS_OF + timedelta(days=1))["keys"] == 0
    monkeypatch.setenv("LENDDESK_RISK_KEY", "second-risk-key-for-tests-002")
    get_settings.cache_clear()
    try:
        with engine.connect() as connection:
            assert score_day(connection, AS_OF + timedelta(days=2))["keys"] == 2
            assert score_day(connection, AS_OF + timedelta(days=3))["keys"] == 0
        with session_factory(engine)() as session:
            for borrower_id, id_hash, mobile_hash in session.execute(
                select(BorrowerKey.borrower_id, BorrowerKey.id_hash, BorrowerKey.mobile_hash)
            ):
                borrower = session.get(Borrower, borrower_id)
                assert borrower is not None
                assert (id_hash, mobile_hash) == borrower_hashes(borrower.id_number, borrower.mobile)
    finally:
        get_settings.cache_clear()


def test_a_close_rewrites_a_profile_only_when_its_score_changes(
    app: FastAPI, engine: Engine, as_role
) -> None:
    """A borrower without history scores 0 every day: the profile written by the first close is not
    rewritten by the next (most of a book, and most of the step's cost), yet the API still says it
    was scored by the latest close. An overdue borrower's days past due grow, so it is rewritten."""
    from lenddesk.core import audit
    from lenddesk.core.pii import id_check_char
    from lenddesk.ledger import service as ledger

    book = make_book(engine)
    with session_factory(engine)() as session:
        quiet = ledger.create_borrower(
            session,
            actor=audit.Actor.system("tests"),
            name="无记录客户",
            id_number="110105199003070" + "01" + id_check_char("11010519900307001"),
            mobile="13900001111",
        ).id
        session.commit()
    with engine.connect() as connection:
        score_day(connection, AS_OF)
        score_day(connection, AS_OF + timedelta(days=1))
    with session_factory(engine)() as session:
        written = dict(session.execute(select(Profile.borrower_id, Profile.scored_on)).all())
    assert written[quiet] == AS_OF  # the same zeros: not rewritten
    assert written[book.borrower] == AS_OF + timedelta(days=1)  # one more day past due
    response = TestClient(app).get(f"/api/v1/risk/borrowers/{quiet}/score", headers=as_role("compliance"))
    assert response.status_code == 200, response.text
    assert (response.json()["score"], response.json()["scored_on"]) == (0, "2026-12-01")
