"""The demo portfolio: realistic, consistent with the close-of-business rules, deterministic, idempotent."""

from __future__ import annotations

import shutil
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from lenddesk.core.db import make_engine, session_factory
from lenddesk.core.pii import is_valid_id_number, is_valid_mobile
from lenddesk.core.policy import Policy
from lenddesk.ledger import jobs
from lenddesk.ledger.delinquency import DelinquencyRules, cost_cap_fen, loan_standing
from lenddesk.ledger.models import (
    Borrower,
    BorrowerContact,
    BucketTransition,
    CobRun,
    Loan,
    Product,
    Repayment,
    ScheduleLine,
    SettlementCertificate,
)
from lenddesk.ledger.seed import CHANNELS, SeedOptions, seed_book
from tests.support.naive_cob import book_state

AS_OF = date(2026, 6, 30)
OPTIONS = SeedOptions(borrowers=800, business_date=AS_OF, simulate_days=30, seed=11)


def seeded(template_db: Path, directory: Path, options: SeedOptions = OPTIONS) -> Engine:
    path = directory / "book.db"
    shutil.copy(template_db, path)
    engine = make_engine(f"sqlite:///{path}")
    seed_book(engine, options, policy=Policy())
    return engine


@pytest.fixture(scope="module")
def book(template_db: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    engine = seeded(template_db, tmp_path_factory.mktemp("seeded"))
    with session_factory(engine)() as session:
        yield session
    engine.dispose()


def test_borrowers_have_valid_unique_identities_and_contacts(book: Session) -> None:
    borrowers = book.scalars(select(Borrower)).all()
    assert len(borrowers) == OPTIONS.borrowers
    assert all(is_valid_id_number(b.id_number) for b in borrowers)
    assert all(is_valid_mobile(b.mobile) for b in borrowers)
    assert len({b.mobile for b in borrowers}) == len(borrowers)
    assert all(2 <= len(b.name) <= 4 for b in borrowers)
    # gender digit of the ID number is odd for men, even for women: both appear
    assert {int(b.id_number[16]) % 2 for b in borrowers} == {0, 1}
    contacts = defaultdict(list)
    for contact in book.scalars(select(BorrowerContact)):
        contacts[contact.borrower_id].append(contact)
    for borrower in borrowers:
        own = [c for c in contacts[borrower.id] if c.relation == "self"]
        assert len(own) == 1 and not own[0].is_third_party and own[0].mobile == borrower.mobile
        others = [c for c in contacts[borrower.id] if c.relation != "self"]
        assert others and all(c.is_third_party for c in others)
    relations = Counter(c.relation for cs in contacts.values() for c in cs)
    assert relations["spouse"] > 0 and relations["emergency"] > 0


def test_products_span_the_methods_rates_and_terms(book: Session) -> None:
    products = book.scalars(select(Product)).all()
    assert {p.method for p in products} == {"equal_instalment", "equal_principal", "interest_first", "bullet"}
    rates = [p.annual_rate for p in products]
    assert min(rates) == Decimal("0.072") and max(rates) == Decimal("0.24")
    assert min(p.term for p in products) == 3 and max(p.term for p in products) == 36
    assert all(p.annual_rate <= p.annual_cost_cap for p in products)


def test_the_book_looks_like_a_real_one(book: Session) -> None:
    loans = book.scalars(select(Loan)).all()
    assert all(AS_OF - timedelta(days=550) <= loan.disbursed_on < AS_OF for loan in loans)
    statuses = Counter(loan.status for loan in loans)
    active = statuses["current"] + statuses["overdue"]
    assert 0.85 <= statuses["current"] / active <= 0.93
    assert statuses["settled"] > 0 and statuses["written_off"] > 0
    buckets = Counter(loan.bucket for loan in loans if loan.status == "overdue")
    assert {"M1", "M2", "M3"} <= set(buckets) and buckets["M1"] == max(buckets.values())
    channels = set(book.scalars(select(Repayment.channel).distinct()))
    assert channels <= set(CHANNELS) and {"auto_debit", "wechat_pay", "alipay"} <= channels
    references = book.execute(select(Repayment.channel, Repayment.external_reference)).all()
    assert len(set(references)) == len(references)
    cured = book.scalar(
        select(func.count()).select_from(BucketTransition).where(BucketTransition.to_bucket == "M0")
    )
    assert cured > 0


def test_every_figure_is_consistent_with_the_schedule_and_the_rules(book: Session) -> None:
    lines = defaultdict(list)
    for line in book.scalars(select(ScheduleLine).order_by(ScheduleLine.loan_id, ScheduleLine.period)):
        lines[line.loan_id].append(line)
    products = {p.id: p for p in book.scalars(select(Product))}
    paid_by_loan: dict[int, int] = defaultdict(int)
    for repayment in book.scalars(select(Repayment)):
        paid_by_loan[repayment.loan_id] += repayment.amount_fen
        assert repayment.amount_fen == sum(
            sum(v for k, v in part.items() if k != "period") for part in repayment.allocation
        )
    last_transition = {}
    for transition in book.scalars(select(BucketTransition).order_by(BucketTransition.business_date)):
        last_transition[transition.loan_id] = transition.to_bucket
    for loan in book.scalars(select(Loan)):
        own = lines[loan.id]
        assert sum(line.principal_fen for line in own) == loan.principal_fen
        paid = sum(
            x.paid_principal_fen + x.paid_interest_fen + x.paid_penalty_fen + x.paid_late_fee_fen for x in own
        )
        assert paid == paid_by_loan[loan.id]
        assert loan.outstanding_principal_fen == loan.principal_fen - sum(
            line.paid_principal_fen for line in own
        )
        assert last_transition.get(loan.id, "M0") == loan.bucket
        if loan.status not in ("current", "overdue"):
            continue
        owed = [line.due_on for line in own if _owed(line) > 0]
        assert loan.oldest_unpaid_due_on == min(owed)
        dpd = max((AS_OF - min(owed)).days, 0)
        assert (
            loan.days_past_due == dpd
            and loan.bucket == loan_standing(dpd, DelinquencyRules(), write_off=True).bucket
        )
        assert loan.status == ("overdue" if dpd else "current")
        interest = sum(line.interest_fen for line in own if line.due_on <= AS_OF)
        charges = sum(line.penalty_fen + line.late_fee_fen for line in own)
        assert loan.cost_charged_fen == interest + charges
        cap_ppm = int(products[loan.product_id].annual_cost_cap * 1_000_000)
        assert loan.cost_charged_fen <= max(
            cost_cap_fen(loan.principal_fen, cap_ppm, (AS_OF - loan.disbursed_on).days), interest
        )
    settled = book.scalar(select(func.count()).select_from(Loan).where(Loan.status == "settled"))
    assert book.scalar(select(func.count()).select_from(SettlementCertificate)) == settled


def _owed(line: ScheduleLine) -> int:
    due = line.principal_fen + line.interest_fen + line.penalty_fen + line.late_fee_fen
    paid = line.paid_principal_fen + line.paid_interest_fen + line.paid_penalty_fen + line.paid_late_fee_fen
    return due - paid - line.waived_penalty_fen - line.waived_late_fee_fen


def test_same_seed_same_book(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    small = SeedOptions(borrowers=60, business_date=AS_OF, simulate_days=5, seed=3)
    first = seeded(template_db, tmp_path_factory.mktemp("a"), small)
    second = seeded(template_db, tmp_path_factory.mktemp("b"), small)
    other = seeded(template_db, tmp_path_factory.mktemp("c"), SeedOptions(**{**small.__dict__, "seed": 4}))
    query = "SELECT name, id_number, mobile FROM borrowers ORDER BY id"
    with first.connect() as a, second.connect() as b, other.connect() as c:
        assert a.execute(text(query)).all() == b.execute(text(query)).all() != c.execute(text(query)).all()
    assert book_state(first) == book_state(second)
    for engine in (first, second, other):
        engine.dispose()


def test_seeding_twice_adds_nothing(engine: Engine, session: Session) -> None:
    report = jobs.seed_book(
        engine, SeedOptions(borrowers=30, business_date=AS_OF, simulate_days=3), policy=Policy()
    )
    assert not report.skipped and report.loans == 45
    before = book_state(engine)
    jobs.seed_demo(session, borrowers=30)
    again = seed_book(engine, SeedOptions(borrowers=30, business_date=AS_OF), policy=Policy())
    assert again.skipped
    assert book_state(engine) == before
    assert session.scalar(select(func.count()).select_from(Borrower)) == 30


def test_a_demo_without_borrowers_seeds_nothing_and_can_run_again(engine: Engine) -> None:
    for _ in range(2):
        report = seed_book(engine, SeedOptions(borrowers=0, business_date=date(2026, 11, 26)))
        assert report.skipped
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Loan)).scalar_one() == 0
        assert connection.execute(select(func.count()).select_from(CobRun)).scalar_one() == 0
