"""The demo and benchmark portfolio: realistic borrowers, products, loans and repayment behaviour.

How the book is made (docs/LEDGER.md, "Demo portfolio"):
1. Borrowers get Faker zh_CN names (gender consistent with the ID number), valid GB 11643 ID
   numbers, unique mobiles, addresses, employers, contacts (self, spouse, emergency — the latter
   marked third parties).
2. Each loan draws a product, an amount and a disbursement date within the last 18 months
   (more recent dates more likely: a growing book), and a repayment behaviour: punctual, sometimes
   late (cures), or distressed from some instalment on (cures later, pays in part, or never pays
   and is written off). Every instalment gets a planned payment date, or none.
3. The state at the start of the simulation window (`business_date − simulate_days`) is computed
   statistically per loan with the close-of-business rules (`delinquency`): paid instalments with
   their penalty and late fee, days past due, bucket, bucket history, write-off, cost charged
   under the cap. Rows are bulk inserted (executemany on SQLite, COPY on PostgreSQL) in chunks.
4. The window is then simulated day by day: the payments planned for the day are posted (full
   instalments, or part payments oldest first), then the real close of business runs, so the
   recent history and today's figures are exactly what COB makes of them.

Deterministic for a given seed and business date.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import time
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Date, Engine, bindparam, func, select, text

from lenddesk.core.pii import id_check_char
from lenddesk.core.policy import Policy, get_policy
from lenddesk.ledger.cob import engine_of, run_cob
from lenddesk.ledger.costcap import headroom_fen, principal_days
from lenddesk.ledger.delinquency import (
    PERCENT_SCALE,
    WRITTEN_OFF_BUCKET,
    ChargeTerms,
    DelinquencyRules,
    clip_to_headroom,
    daily_penalty_rate_e10,
    late_fee_fen,
    loan_standing,
    penalty_for_day,
    scaled,
)
from lenddesk.ledger.models import CobRun, Loan, Product
from lenddesk.ledger.owed import owed_components, owed_fen, owes_sql
from lenddesk.ledger.schedule import add_months, generate_schedule

Progress = Callable[[str, int, int], None]

CHANNELS = ("auto_debit", "wechat_pay", "alipay", "bank_transfer", "mobile_banking", "counter")
_REFERENCE_PREFIX = {
    "auto_debit": "AD",
    "wechat_pay": "42000",
    "alipay": "2088",
    "bank_transfer": "BT",
    "mobile_banking": "MB",
    "counter": "CT",
}


@dataclass(frozen=True)
class ProductSpec:
    code: str
    name: str
    annual_rate: str
    term: int
    method: str
    grace_days: int
    penalty_mode: str
    penalty_daily_rate: str
    penalty_multiple: str
    late_fee_fixed_fen: int
    late_fee_percent: str
    weight: int
    amounts_yuan: tuple[int, int]  # range of loan amounts, multiples of 500


# fmt: off
PRODUCTS = (
    ProductSpec("JSD-03", "极速贷·3期", "0.2160", 3, "equal_instalment",
                3, "daily", "0.0005", "1.5", 3000, "0", 24, (1000, 8000)),
    ProductSpec("JSD-06", "极速贷·6期", "0.1980", 6, "equal_instalment",
                3, "daily", "0.0005", "1.5", 0, "0.05", 22, (2000, 20000)),
    ProductSpec("XFD-12", "消费贷·12期", "0.1800", 12, "equal_instalment",
                3, "multiple", "0.0005", "1.5", 5000, "0", 22, (5000, 50000)),
    ProductSpec("FQ-EP-24", "分期·等额本金24期", "0.1296", 24, "equal_principal",
                5, "daily", "0.0004", "1.5", 0, "0.03", 12, (10000, 80000)),
    ProductSpec("ZXD-36", "装修贷·36期", "0.0720", 36, "equal_instalment",
                5, "multiple", "0.0003", "1.5", 10000, "0", 6, (50000, 200000)),
    ProductSpec("JYD-IF-12", "经营贷·先息后本12期", "0.1440", 12, "interest_first",
                3, "daily", "0.0004", "1.5", 0, "0.02", 8, (20000, 100000)),
    ProductSpec("ZZ-BL-03", "周转贷·到期还本付息", "0.2400", 3, "bullet",
                3, "daily", "0.0005", "1.5", 2000, "0", 6, (1000, 10000)),
)
# fmt: on

REGIONS = (
    "110101", "110105", "120101", "130102", "140105", "210102", "220102", "230102", "310101", "310115",
    "320102", "320505", "330106", "330203", "340104", "350203", "360102", "370102", "370202", "410105",
    "420106", "430104", "440106", "440305", "450103", "460105", "500103", "510104", "520102", "530102",
    "610113", "620102", "640104", "650102",
)  # fmt: skip
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156",
    "157", "158", "159", "166", "173", "176", "177", "180", "181", "182", "185", "186", "187", "188",
    "189", "191", "198", "199",
)  # fmt: skip
EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "139.com")
CONTACT_TIMES = ("09:00-12:00", "12:00-14:00", "14:00-18:00", "18:00-21:00")
PREFERRED_CHANNELS = ("phone", "wechat", "sms", "email", "app")
_POSTCODE = re.compile(r"\s*\d{6}$")


@dataclass(frozen=True)
class SeedOptions:
    borrowers: int
    business_date: date
    loans_per_borrower: float = 1.5
    seed: int = 20261126
    simulate_days: int = 60
    history_days: int = 548  # about 18 months
    batch_borrowers: int = 10_000


@dataclass
class SeedReport:
    skipped: bool = False
    borrowers: int = 0
    loans: int = 0
    schedule_lines: int = 0
    repayments: int = 0
    contacts: int = 0
    business_date: date | None = None
    simulated_from: date | None = None
    seconds: float = 0.0
    status_counts: dict[str, int] = field(default_factory=dict)
    bucket_counts: dict[str, int] = field(default_factory=dict)


def book_is_seeded(connection: Connection) -> bool:
    return connection.scalar(select(func.count()).select_from(Loan.__table__)) > 0


# -- the entry point ------------------------------------------------------------------------------


def seed_book(
    target: Any, options: SeedOptions, *, progress: Progress | None = None, policy: Policy | None = None
) -> SeedReport:
    """Seed a portfolio into an empty ledger; a ledger that has loans is left alone (idempotent)."""
    engine = engine_of(target)
    policy = policy or get_policy()
    rules = DelinquencyRules.from_policy(policy)
    started = time.perf_counter()
    report = SeedReport(business_date=options.business_date)
    if options.borrowers <= 0:
        return SeedReport(skipped=True, business_date=options.business_date)
    with engine.connect() as connection:
        if book_is_seeded(connection):
            connection.rollback()
            return SeedReport(skipped=True, business_date=options.business_date)
        connection.rollback()
        with connection.begin():
            products = _ensure_products(connection)
        if connection.dialect.name == "sqlite":
            # Index inserts of a large book need far more than SQLite's default 2 MB page cache.
            connection.exec_driver_sql("PRAGMA cache_size = -262144")
            connection.commit()
        builder = _BookBuilder(options, rules, products)
        start = options.business_date - timedelta(days=options.simulate_days)
        report.simulated_from = start
        writer = _BulkWriter(connection)
        batches = list(_batches(options.borrowers, options.batch_borrowers))
        for index, (first, count) in enumerate(batches):
            rows = builder.build(first, count, start)
            with connection.begin():
                for table, columns, values in rows.tables():
                    writer.write(table, columns, values)
            report.borrowers += count
            report.loans += len(rows.loans)
            report.schedule_lines += len(rows.lines)
            report.repayments += len(rows.repayments)
            report.contacts += len(rows.contacts)
            if progress:
                progress("insert", index + 1, len(batches))
        with connection.begin():
            writer.finish()
            connection.execute(
                CobRun.__table__.insert().values(
                    business_date=start,
                    status="done",
                    last_loan_id=builder.next_ids["loans"] - 1,
                    finished_at=datetime.now(UTC),
                    summary={"seeded": True},
                )
            )
    simulation = PaymentSimulation(
        engine, builder.planned_payments, builder.next_ids["repayments"], options.seed
    )
    for offset in range(1, options.simulate_days + 1):
        day = start + timedelta(days=offset)
        report.repayments += simulation.post_payments(day)
        run_cob(engine, day, policy=policy)
        if progress:
            progress("simulate", offset, options.simulate_days)
    with engine.begin() as connection:
        _issue_certificates(connection)
        report.status_counts = dict(
            connection.execute(text("SELECT status, COUNT(*) FROM loans GROUP BY status")).all()
        )  # type: ignore[arg-type]
        report.bucket_counts = dict(
            connection.execute(
                text(
                    "SELECT bucket, COUNT(*) FROM loans WHERE status IN ('current', 'overdue')"
                    " GROUP BY bucket"
                )
            ).all()  # type: ignore[arg-type]
        )
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA optimize")
        else:
            connection.exec_driver_sql("ANALYZE")
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    report.seconds = round(time.perf_counter() - started, 2)
    return report


def _batches(total: int, size: int) -> Iterator[tuple[int, int]]:
    for first in range(0, total, size):
        yield first, min(size, total - first)


def _ensure_products(connection: Connection) -> list[tuple[ProductSpec, int, ChargeTerms]]:
    table = Product.__table__
    existing = dict(connection.execute(select(table.c.code, table.c.id)).all())
    result = []
    for spec in PRODUCTS:
        values = {
            "code": spec.code,
            "name": spec.name,
            "annual_rate": Decimal(spec.annual_rate),
            "term": spec.term,
            "frequency": "monthly",
            "method": spec.method,
            "grace_days": spec.grace_days,
            "penalty_mode": spec.penalty_mode,
            "penalty_daily_rate": Decimal(spec.penalty_daily_rate),
            "penalty_multiple": Decimal(spec.penalty_multiple),
            "late_fee_fixed_fen": spec.late_fee_fixed_fen,
            "late_fee_percent": Decimal(spec.late_fee_percent),
            "allocation_order": "penalty,late_fee,interest,principal",
            "annual_cost_cap": Decimal("0.24"),
            "early_repayment_fee_percent": Decimal("0"),
        }
        if spec.code not in existing:
            existing[spec.code] = connection.execute(
                table.insert().values(**values).returning(table.c.id)
            ).scalar_one()
        result.append((spec, existing[spec.code], ChargeTerms.of_product(_Obj(values))))
    return result


class _Obj:
    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


# -- rows ----------------------------------------------------------------------------------------


@dataclass
class _Rows:
    borrowers: list[tuple[Any, ...]] = field(default_factory=list)
    contacts: list[tuple[Any, ...]] = field(default_factory=list)
    loans: list[tuple[Any, ...]] = field(default_factory=list)
    lines: list[tuple[Any, ...]] = field(default_factory=list)
    repayments: list[tuple[Any, ...]] = field(default_factory=list)
    transitions: list[tuple[Any, ...]] = field(default_factory=list)

    def tables(self) -> Iterator[tuple[str, Sequence[str], list[tuple[Any, ...]]]]:
        yield "borrowers", BORROWER_COLUMNS, self.borrowers
        yield "borrower_contacts", CONTACT_COLUMNS, self.contacts
        yield "loans", LOAN_COLUMNS, self.loans
        yield "schedule_lines", LINE_COLUMNS, self.lines
        yield "repayments", REPAYMENT_COLUMNS, self.repayments
        yield "bucket_transitions", TRANSITION_COLUMNS, self.transitions


BORROWER_COLUMNS = (
    "id", "name", "id_number", "mobile", "email", "wechat_openid", "address", "employer",
    "preferred_channel", "preferred_contact_time", "created_at",
)  # fmt: skip
CONTACT_COLUMNS = ("id", "borrower_id", "relation", "name", "mobile", "is_third_party")
LOAN_COLUMNS = (
    "id", "contract_number", "borrower_id", "product_id", "principal_fen", "annual_rate", "term", "method",
    "disbursed_on", "status", "days_past_due", "bucket", "oldest_unpaid_due_on", "next_due_on",
    "outstanding_principal_fen", "cost_charged_fen", "credit_balance_fen", "settled_on", "written_off_on",
    "created_at", "principal_days_repaid", "early_repayment_fees_fen",
)  # fmt: skip
LINE_COLUMNS = (
    "id", "loan_id", "period", "due_on", "principal_fen", "interest_fen", "penalty_fen", "late_fee_fen",
    "paid_principal_fen", "paid_interest_fen", "paid_penalty_fen", "paid_late_fee_fen",
    "waived_penalty_fen", "waived_late_fee_fen", "paid_off_on", "original_principal_fen",
    "original_interest_fen",
)  # fmt: skip
REPAYMENT_COLUMNS = (
    "id", "loan_id", "channel", "external_reference", "amount_fen", "value_date", "received_at", "kind",
    "status", "allocation", "posted_by",
)  # fmt: skip
TRANSITION_COLUMNS = ("loan_id", "business_date", "from_bucket", "to_bucket", "days_past_due")

# Behaviour mix (shares of loans): tuned so that about 87% of the active book is current.
PUNCTUAL, SOMETIMES_LATE = 0.57, 0.18
DISTRESS_OUTCOMES = (("cures", 0.50), ("partial", 0.20), ("never", 0.30))


@dataclass(frozen=True)
class PlannedPayment:
    """A payment the simulation posts on `day`: whole instalments, or a share of what is overdue."""

    day: date
    loan_id: int
    channel: str
    periods: tuple[int, ...] = ()
    share: float = 0.0


class _BookBuilder:
    def __init__(
        self,
        options: SeedOptions,
        rules: DelinquencyRules,
        products: list[tuple[ProductSpec, int, ChargeTerms]],
    ) -> None:
        self.options = options
        self.rules = rules
        self.products = products
        self.random = random.Random(options.seed)
        self.product_weights = [spec.weight for spec, _, _ in products]
        self.next_ids = {
            "borrowers": 1,
            "borrower_contacts": 1,
            "loans": 1,
            "schedule_lines": 1,
            "repayments": 1,
        }
        self.planned_payments: dict[date, list[PlannedPayment]] = defaultdict(list)
        self._amounts: dict[tuple[int, int], list[tuple[int, int]]] = {}
        self._dates: dict[tuple[date, int, str], list[date]] = {}
        self._used_ids: set[str] = set()
        self._mobile_counter = 0
        self._pools = _NamePools.of(options.seed)
        self._loans_made = 0

    # borrowers --------------------------------------------------------------------------------

    def _mobile(self) -> str:
        self._mobile_counter += 1
        number = (self._mobile_counter * 7919 + self.options.seed) % 100_000_000
        prefix = MOBILE_PREFIXES[(self._mobile_counter * 31) % len(MOBILE_PREFIXES)]
        return f"{prefix}{number:08d}"

    def _id_number(self, male: bool) -> str:
        rng = self.random
        while True:
            born = date(1966, 1, 1) + timedelta(days=rng.randrange(14_000))
            sequence = rng.randrange(0, 999, 2) + (1 if male else 0)
            first17 = f"{_pick(rng, REGIONS)}{born:%Y%m%d}{sequence:03d}"
            number = first17 + id_check_char(first17)
            if number not in self._used_ids:
                self._used_ids.add(number)
                return number

    def build(self, first: int, count: int, start: date) -> _Rows:
        rows = _Rows()
        rng = self.random
        pools = self._pools
        per_borrower = self.options.loans_per_borrower
        for index in range(first, first + count):
            borrower_id = self._next("borrowers")
            male = rng.random() < 0.55
            name = pools.name(rng, male)
            mobile = self._mobile()
            rows.borrowers.append(
                (
                    borrower_id,
                    name,
                    self._id_number(male),
                    mobile,
                    f"{pools.user(rng)}{borrower_id}@{_pick(rng, EMAIL_DOMAINS)}"
                    if rng.random() < 0.35
                    else None,
                    "o" + "".join(rng.choices(_OPENID_ALPHABET, k=27)) if rng.random() < 0.45 else None,
                    _pick(rng, pools.addresses),
                    _pick(rng, pools.employers),
                    _pick(rng, PREFERRED_CHANNELS),
                    _pick(rng, CONTACT_TIMES),
                    _noon(self.options.business_date - timedelta(days=self.options.history_days + 30)),
                )
            )
            rows.contacts.append((self._next("borrower_contacts"), borrower_id, "self", name, mobile, False))
            if rng.random() < 0.55:
                spouse = pools.name(rng, not male)
                rows.contacts.append(
                    (self._next("borrower_contacts"), borrower_id, "spouse", spouse, self._mobile(), True)
                )
            relation = _pick(rng, ("emergency", "relative", "colleague"))
            rows.contacts.append(
                (
                    self._next("borrower_contacts"),
                    borrower_id,
                    relation,
                    pools.name(rng, rng.random() < 0.5),
                    self._mobile(),
                    True,
                )
            )
            loans = int((index + 1) * per_borrower) - int(index * per_borrower)
            for _ in range(max(loans, 0)):
                self._loan(rows, borrower_id, start)
        return rows

    def _next(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    # loans ------------------------------------------------------------------------------------

    def _loan(self, rows: _Rows, borrower_id: int, start: date) -> None:
        rng = self.random
        spec, product_id, terms = rng.choices(self.products, weights=self.product_weights)[0]
        low, high = spec.amounts_yuan
        principal = rng.randrange(low, high + 1, 500) * 100
        age = int(self.options.history_days * (1 - rng.random() ** 0.5))
        disbursed = self.options.business_date - timedelta(days=max(age, 1))
        amounts = self._schedule_amounts(spec, principal)
        dues = self._due_dates(disbursed, len(amounts), spec)
        loan_id = self._next("loans")
        paid_on = self._behaviour(dues, start)
        channel = _loan_channel(rng)
        if all(day is not None and day <= due for day, due in zip(paid_on, dues, strict=True)):
            state: _LoanHistory | _PunctualHistory = _PunctualHistory(
                principal, amounts, dues, paid_on, start
            )
        else:
            state = _LoanHistory(self, spec, terms, principal, disbursed, amounts, dues, paid_on, start)
        first_line_id = self.next_ids["schedule_lines"]
        self.next_ids["schedule_lines"] += len(amounts)
        line_ids = range(first_line_id, first_line_id + len(amounts))
        rows.loans.append(
            (
                loan_id,
                f"HT{disbursed:%Y%m%d}{loan_id:08d}",
                borrower_id,
                product_id,
                principal,
                spec.annual_rate,
                spec.term,
                spec.method,
                disbursed,
                state.status,
                state.days_past_due,
                state.bucket,
                state.oldest_unpaid,
                state.next_due,
                state.outstanding,
                state.cost,
                0,
                state.settled_on,
                state.written_off_on,
                _noon(disbursed),
                sum(line[5] * (line[11] - disbursed).days for line in state.lines if line[11] is not None),
                0,
            )
        )
        for period, (line_id, line) in enumerate(zip(line_ids, state.lines, strict=True), start=1):
            rows.lines.append((line_id, loan_id, period, *line, *amounts[period - 1]))
        for day, periods, amount, allocation in state.repayments:
            repayment_id = self._next("repayments")
            pay_channel = channel if day <= dues[periods[0] - 1] else _pick(rng, CHANNELS[1:])
            rows.repayments.append(
                _repayment_row(repayment_id, loan_id, pay_channel, amount, day, allocation, rng)
            )
        for day, old, new, dpd in state.transitions:
            rows.transitions.append((loan_id, day, old, new, dpd))
        if state.written_off_on is None:
            self._plan_window(loan_id, dues, paid_on, start, channel, state)

    def _schedule_amounts(self, spec: ProductSpec, principal: int) -> list[tuple[int, int]]:
        key = (PRODUCTS.index(spec), principal)
        if key not in self._amounts:
            lines = generate_schedule(
                principal_fen=principal,
                annual_rate=Decimal(spec.annual_rate),
                term=spec.term,
                method=spec.method,
                start_date=date(2025, 1, 15),
                rounding=self.rules.rounding,
            )
            self._amounts[key] = [(line.principal_fen, line.interest_fen) for line in lines]
        return self._amounts[key]

    def _due_dates(self, disbursed: date, count: int, spec: ProductSpec) -> list[date]:
        key = (disbursed, count, spec.method)
        if key not in self._dates:
            months = [spec.term] if spec.method == "bullet" else range(1, count + 1)
            self._dates[key] = [add_months(disbursed, month) for month in months]
        return self._dates[key]

    def _behaviour(self, dues: list[date], start: date) -> list[date | None]:
        """The planned payment date of each instalment (None: never paid)."""
        rng = self.random
        draw = rng.random()
        if draw < PUNCTUAL:
            return [due - _EARLY[int(rng.random() * len(_EARLY))] for due in dues]
        if draw < PUNCTUAL + SOMETIMES_LATE:
            return [self._maybe_late(due) for due in dues]
        broken_at = rng.randrange(len(dues))
        outcome = rng.choices([name for name, _ in DISTRESS_OUTCOMES], [w for _, w in DISTRESS_OUTCOMES])[0]
        plan: list[date | None] = [due for due in dues[:broken_at]]
        if outcome == "cures":
            cured_on = dues[broken_at] + timedelta(days=min(4 + int(rng.expovariate(1 / 30)), 150))
            for due in dues[broken_at:]:
                plan.append(cured_on if due < cured_on else self._maybe_late(due))
        else:
            plan.extend([None] * (len(dues) - broken_at))
        return plan

    def _maybe_late(self, due: date) -> date:
        rng = self.random
        if rng.random() < 0.6:
            return due
        return due + timedelta(days=min(1 + int(rng.expovariate(1 / 12)), 75))

    def _plan_window(
        self,
        loan_id: int,
        dues: list[date],
        paid_on: list[date | None],
        start: date,
        channel: str,
        state: _LoanHistory,
    ) -> None:
        """Payments inside the simulation window, posted day by day before that day's COB."""
        end = self.options.business_date
        by_day: dict[date, list[int]] = defaultdict(list)
        for period, day in enumerate(paid_on, start=1):
            if day is not None and start < day <= end:
                by_day[day].append(period)
        for day, periods in sorted(by_day.items()):
            pay_channel = channel if day <= dues[periods[0] - 1] else self.random.choice(CHANNELS[1:])
            self.planned_payments[day].append(
                PlannedPayment(day, loan_id, pay_channel, periods=tuple(periods))
            )
        if None in paid_on and self.random.random() < 0.3 and self.options.simulate_days > 1:
            # a part payment on a broken loan: a promise kept only in part
            day = start + timedelta(days=self.random.randint(1, self.options.simulate_days))
            share = self.random.choice((0.2, 0.3, 0.5))
            self.planned_payments[day].append(
                PlannedPayment(day, loan_id, self.random.choice(CHANNELS[1:]), share=share)
            )


_EARLY = tuple(timedelta(days=days) for days in (0, 0, 0, 0, 1, 2, 3))


def _pick(rng: random.Random, choices: Sequence[Any]) -> Any:
    return choices[int(rng.random() * len(choices))]


class _PunctualHistory:
    """A loan paid on or before every due date so far: no delinquency history to reconstruct."""

    transitions: tuple[()] = ()
    written_off_on = None
    days_past_due = 0
    bucket = "M0"

    def __init__(
        self, principal: int, amounts: list[tuple[int, int]], dues: list[date], paid_on: list[Any], at: date
    ) -> None:
        self.lines: list[tuple[Any, ...]] = []
        self.repayments: list[tuple[date, list[int], int, str]] = []
        paid_principal = cost = 0
        self.oldest_unpaid: date | None = None
        self.next_due: date | None = None
        last_paid = None
        for period, ((line_principal, line_interest), due, day) in enumerate(
            zip(amounts, dues, paid_on, strict=True), start=1
        ):
            if due <= at:
                cost += line_interest
            elif self.next_due is None:
                self.next_due = due
            if day <= at:
                self.lines.append(
                    (due, line_principal, line_interest, 0, 0, line_principal, line_interest, 0, 0, 0, 0, day)
                )
                self.repayments.append(
                    (
                        day,
                        [period],
                        line_principal + line_interest,
                        _one_line_allocation(period, line_principal, line_interest),
                    )
                )
                paid_principal += line_principal
                last_paid = day
            else:
                self.lines.append((due, line_principal, line_interest, 0, 0, 0, 0, 0, 0, 0, 0, None))
                if self.oldest_unpaid is None:
                    self.oldest_unpaid = due
        self.cost = cost
        self.outstanding = principal - paid_principal
        self.settled_on = None
        if self.oldest_unpaid is None:
            self.status, self.next_due, self.settled_on = "settled", None, last_paid
        else:
            self.status = "current"


_OPENID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _loan_channel(rng: random.Random) -> str:
    return rng.choices(CHANNELS, weights=(55, 15, 15, 8, 6, 1))[0]


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC)  # 12:00 Shanghai


def _repayment_row(
    repayment_id: int,
    loan_id: int,
    channel: str,
    amount: int,
    day: date,
    allocation: list[dict[str, int]] | str,
    rng: random.Random,
) -> tuple[Any, ...]:
    # Auto-debits run at 06:00 Shanghai; people pay between 09:00 and 22:00 (stored in UTC).
    local_minutes = 6 * 60 if channel == "auto_debit" else 9 * 60 + int(rng.random() * 13 * 60)
    received = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=local_minutes - 8 * 60)
    reference = f"{_REFERENCE_PREFIX[channel]}{day:%Y%m%d}{repayment_id:010d}"
    detail = allocation if isinstance(allocation, str) else json.dumps(allocation)
    return (
        repayment_id,
        loan_id,
        channel,
        reference,
        amount,
        day,
        received,
        "regular",
        "posted",
        detail,
        "seed",
    )


def _one_line_allocation(period: int, principal: int, interest: int) -> str:
    return (
        f'[{{"period": {period}, "penalty": 0, "late_fee": 0, "interest": {interest},'
        f' "principal": {principal}}}]'
    )


class _LoanHistory:
    """One loan's state at the start of the simulation window, computed from its payment plan with
    the close-of-business rules (statistically: penalties in closed form, the cap at the end)."""

    def __init__(
        self,
        builder: _BookBuilder,
        spec: ProductSpec,
        terms: ChargeTerms,
        principal: int,
        disbursed: date,
        amounts: list[tuple[int, int]],
        dues: list[date],
        paid_on: list[date | None],
        at: date,
    ) -> None:
        rules = builder.rules
        self.transitions, self.written_off_on, self.days_past_due, self.bucket = _bucket_history(
            dues, paid_on, at, rules
        )
        end = at if self.written_off_on is None else self.written_off_on
        paid = [day is not None and day <= end and day <= at for day in paid_on]
        rate = daily_penalty_rate_e10(terms, scaled(Decimal(spec.annual_rate), PERCENT_SCALE), rules.rounding)
        wanted = []
        for (line_principal, line_interest), due, day, is_paid in zip(
            amounts, dues, paid_on, paid, strict=True
        ):
            last_charge_day = (day - timedelta(days=1)) if is_paid and day else end
            if end == self.written_off_on and not is_paid:
                last_charge_day = end - timedelta(days=1)
            days = (last_charge_day - due).days - terms.grace_days
            base = line_principal + (line_interest if rules.penalty_base == "principal_and_interest" else 0)
            fee = late_fee_fen(line_principal + line_interest, terms, rules.rounding) if days >= 1 else 0
            wanted.append((fee, penalty_for_day(base, rate, rules.rounding) * max(days, 0)))
        interest_due = sum(interest for (_, interest), due in zip(amounts, dues, strict=True) if due <= end)
        # The cap on the principal actually outstanding up to `end` (ledger/costcap.py).
        repaid_days = sum(
            line_principal * (day - disbursed).days
            for (line_principal, _), day, is_paid in zip(amounts, paid_on, paid, strict=True)
            if is_paid and day is not None
        )
        unpaid = sum(
            line_principal for (line_principal, _), is_paid in zip(amounts, paid, strict=True) if not is_paid
        )
        headroom = headroom_fen(
            cap_ppm=rules.cap_ppm(terms),
            principal_days_now=principal_days(repaid_days, unpaid, disbursed, end),
            on=end,
            cost_fen=interest_due,
            future=[
                (due, 0 if is_paid else line_principal, interest)
                for (line_principal, interest), due, is_paid in zip(amounts, dues, paid, strict=True)
                if due > end
            ],
        )
        charged = clip_to_headroom(wanted, headroom)
        self.cost = interest_due + sum(fee + penalty for fee, penalty in charged)
        self.lines: list[tuple[Any, ...]] = []
        self.repayments: list[tuple[date, list[int], int, list[dict[str, int]]]] = []
        by_day: dict[date, list[int]] = defaultdict(list)
        for period, ((line_principal, line_interest), due, (fee, penalty), is_paid, day) in enumerate(
            zip(amounts, dues, charged, paid, paid_on, strict=True), start=1
        ):
            if is_paid:
                assert day is not None
                by_day[day].append(period)
                self.lines.append(
                    (
                        due,
                        line_principal,
                        line_interest,
                        penalty,
                        fee,
                        line_principal,
                        line_interest,
                        penalty,
                        fee,
                        0,
                        0,
                        day,
                    )
                )
            else:
                self.lines.append((due, line_principal, line_interest, penalty, fee, 0, 0, 0, 0, 0, 0, None))
        for day, periods in sorted(by_day.items()):
            allocation = []
            for period in periods:
                line = self.lines[period - 1]
                allocation.append(
                    {
                        "period": period,
                        "penalty": line[3],
                        "late_fee": line[4],
                        "interest": line[2],
                        "principal": line[1],
                    }
                )
            amount = sum(
                item["penalty"] + item["late_fee"] + item["interest"] + item["principal"]
                for item in allocation
            )
            self.repayments.append((day, periods, amount, allocation))
        self.outstanding = principal - sum(line[5] for line in self.lines)
        unpaid = [line[0] for line in self.lines if line[11] is None]
        self.oldest_unpaid = min(unpaid) if unpaid else None
        later = [due for due in dues if due > at]
        self.next_due = later[0] if later else None
        self.settled_on = None
        if self.written_off_on is not None:
            self.status, self.next_due = "written_off", None
        elif not unpaid:
            self.status, self.next_due = "settled", None
            self.settled_on = max(day for day in paid_on if day is not None)
            self.bucket, self.days_past_due = "M0", 0
        else:
            self.status = "overdue" if self.days_past_due > 0 else "current"


def _bucket_history(
    dues: list[date], paid_on: list[date | None], end: date, rules: DelinquencyRules
) -> tuple[list[tuple[date, str, str, int]], date | None, int, str]:
    """Bucket changes up to `end` (inclusive) as COB would have recorded them, the write-off date,
    and the days past due and bucket at `end`. An instalment paid on day p counts as paid at the
    close of business of p."""
    late = [
        (due, paid)
        for due, paid in zip(dues, paid_on, strict=True)
        if paid is None or paid > due + timedelta(days=1)
    ]
    if not late:
        return [], None, 0, "M0"
    events = sorted(
        {due + timedelta(days=1) for due, _ in late} | {paid for _, paid in late if paid is not None}
    )
    events = [day for day in events if day <= end]
    bounds = rules.bucket_upper_bounds
    history: list[tuple[date, str, str, int]] = []
    bucket, dpd = "M0", 0
    for index, segment_start in enumerate(events):
        segment_end = events[index + 1] if index + 1 < len(events) else end + timedelta(days=1)
        owed = [due for due, paid in late if due < segment_start and (paid is None or paid > segment_start)]
        if not owed:
            if bucket != "M0":
                history.append((segment_start, bucket, "M0", 0))
            bucket, dpd = "M0", 0
            continue
        oldest = min(owed)
        day = segment_start
        while day < segment_end:
            dpd = (day - oldest).days
            new_bucket = loan_standing(dpd, rules, write_off=True).bucket
            if new_bucket == WRITTEN_OFF_BUCKET:
                history.append((day, bucket, WRITTEN_OFF_BUCKET, dpd))
                return history, day, dpd, WRITTEN_OFF_BUCKET
            if new_bucket != bucket:
                history.append((day, bucket, new_bucket, dpd))
                bucket = new_bucket
            position = bisect_left(bounds, dpd)
            next_limit = bounds[position] if position < len(bounds) else rules.write_off_after_days
            next_limit = min(next_limit, rules.write_off_after_days)
            day = max(day + timedelta(days=1), oldest + timedelta(days=next_limit + 1))
        dpd = (min(segment_end - timedelta(days=1), end) - oldest).days
    return history, None, max(dpd, 0), bucket


class _NamePools:
    """Faker zh_CN names, addresses and employers, drawn once and combined (fast at 1M borrowers)."""

    @classmethod
    @lru_cache(maxsize=4)
    def of(cls, seed: int) -> _NamePools:
        return cls(seed)

    def __init__(self, seed: int) -> None:
        from faker import Faker

        fake = Faker("zh_CN")
        fake.seed_instance(seed)
        self.surnames = [fake.last_name() for _ in range(300)]
        self.male = [fake.first_name_male() for _ in range(400)]
        self.female = [fake.first_name_female() for _ in range(400)]
        self.addresses = [_POSTCODE.sub("", fake.address()) for _ in range(3000)]
        self.employers = [fake.company() for _ in range(800)]
        self.users = [fake.user_name() for _ in range(1000)]

    def name(self, rng: random.Random, male: bool) -> str:
        return _pick(rng, self.surnames) + _pick(rng, self.male if male else self.female)

    def user(self, rng: random.Random) -> str:
        return _pick(rng, self.users)


# -- bulk insert ---------------------------------------------------------------------------------


class _BulkWriter:
    """executemany on SQLite, COPY on PostgreSQL; explicit ids, sequences moved on at the end."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"
        self.tables: set[str] = set()

    def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        self.tables.add(table)
        raw = self.connection.connection.driver_connection
        if self.postgres:
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
            ):  # type: ignore[union-attr]
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" for _ in columns)
        raw.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)  # type: ignore[union-attr]

    def finish(self) -> None:
        if not self.postgres:
            return
        for table in self.tables:
            self.connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" COALESCE((SELECT MAX(id) FROM {table}), 1))"
            )


def _sqlite_adapters() -> None:
    # Stored the way SQLAlchemy stores them on SQLite, so the ORM reads bulk rows back unchanged.
    sqlite3.register_adapter(date, date.isoformat)
    sqlite3.register_adapter(
        datetime, lambda value: value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    )


_sqlite_adapters()


# -- the simulation window -----------------------------------------------------------------------


class PaymentSimulation:
    """Posts the planned payments of a day (whole instalments or a share, oldest first, penalty →
    late fee → interest → principal) before that day's close of business."""

    def __init__(
        self,
        engine: Engine,
        planned: dict[date, list[PlannedPayment]],
        next_repayment_id: int | None = None,
        seed: int = 0,
    ) -> None:
        self.engine = engine
        self.planned = planned
        if next_repayment_id is None:
            with engine.connect() as connection:
                next_repayment_id = (connection.scalar(text("SELECT MAX(id) FROM repayments")) or 0) + 1
        self.next_id = next_repayment_id
        self.random = random.Random(seed + 1)

    def post_payments(self, day: date) -> int:
        payments = self.planned.get(day, [])
        if not payments:
            return 0
        loan_ids = sorted({payment.loan_id for payment in payments})
        with self.engine.begin() as connection:
            lines = self._owed_lines(connection, loan_ids)
            line_updates, repayment_rows, principal_paid = [], [], defaultdict(int)
            principal_days_paid: dict[int, int] = defaultdict(int)
            for payment in payments:
                owed = lines.get(payment.loan_id, [])
                if payment.periods:
                    chosen = [line for line in owed if line["period"] in payment.periods]
                    budget = sum(owed_fen(line) for line in chosen)
                else:
                    chosen = [line for line in owed if line["due_on"] < day]
                    budget = int(sum(owed_fen(line) for line in chosen) * payment.share)
                allocation = _allocate(chosen, budget)
                if not allocation:
                    continue
                for line, paid in allocation:
                    line_updates.append(
                        {"id": line["id"], **paid, "paid_off_on": day if owed_fen(line) == 0 else None}
                    )
                    principal_paid[payment.loan_id] += paid["d_principal"]
                    principal_days_paid[payment.loan_id] += (
                        paid["d_principal"] * (day - line["disbursed"]).days
                    )
                amount = sum(sum(paid.values()) for _, paid in allocation)
                detail = [
                    {"period": line["period"], **{key[2:]: value for key, value in paid.items()}}
                    for line, paid in allocation
                ]
                repayment_rows.append(
                    _repayment_row(
                        self.next_id, payment.loan_id, payment.channel, amount, day, detail, self.random
                    )
                )
                self.next_id += 1
            if line_updates:
                connection.execute(
                    text(
                        "UPDATE schedule_lines SET paid_penalty_fen = paid_penalty_fen + :d_penalty,"
                        " paid_late_fee_fen = paid_late_fee_fen + :d_late_fee,"
                        " paid_interest_fen = paid_interest_fen + :d_interest,"
                        " paid_principal_fen = paid_principal_fen + :d_principal,"
                        " paid_off_on = COALESCE(:paid_off_on, paid_off_on) WHERE id = :id"
                    ).bindparams(bindparam("paid_off_on", type_=Date)),
                    line_updates,
                )
            if principal_paid:
                connection.execute(
                    text(
                        "UPDATE loans SET outstanding_principal_fen = outstanding_principal_fen - :paid,"
                        " principal_days_repaid = principal_days_repaid + :days WHERE id = :id"
                    ),
                    [
                        {"id": loan_id, "paid": paid, "days": principal_days_paid[loan_id]}
                        for loan_id, paid in principal_paid.items()
                    ],
                )
            writer = _BulkWriter(connection)
            writer.write("repayments", REPAYMENT_COLUMNS, repayment_rows)
            writer.finish()  # explicit ids: move the sequence past them, or new postings collide
            # What the repayment service maintains on posting: the oldest instalment still owed.
            for start in range(0, len(loan_ids), 500):
                ids = ", ".join(str(loan_id) for loan_id in loan_ids[start : start + 500])
                connection.execute(
                    text(
                        "UPDATE loans SET oldest_unpaid_due_on = (SELECT MIN(s.due_on) FROM schedule_lines s"
                        f" WHERE s.loan_id = loans.id AND {_OWES_SQL}) WHERE id IN ({ids})"
                        " AND status IN ('current', 'overdue')"
                    )
                )
                # Paid in full: settled at once (a loan settled from a bucket is a cure to M0).
                settled = (
                    f"id IN ({ids}) AND status IN ('current', 'overdue') AND oldest_unpaid_due_on IS NULL"
                )
                connection.execute(
                    text(
                        "INSERT INTO bucket_transitions (loan_id, business_date, from_bucket, to_bucket,"
                        f" days_past_due) SELECT id, :day, bucket, 'M0', 0 FROM loans WHERE {settled}"
                        " AND bucket <> 'M0'"
                    ).bindparams(bindparam("day", type_=Date)),
                    {"day": day},
                )
                connection.execute(
                    text(
                        "UPDATE loans SET status = 'settled', settled_on = :day, next_due_on = NULL,"
                        f" bucket = 'M0', days_past_due = 0 WHERE {settled}"
                    ).bindparams(bindparam("day", type_=Date)),
                    {"day": day},
                )
        return len(repayment_rows)

    @staticmethod
    def _owed_lines(connection: Connection, loan_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        result: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for start in range(0, len(loan_ids), 500):
            chunk = loan_ids[start : start + 500]
            rows = connection.execute(
                text(
                    "SELECT s.*, l.disbursed_on AS disbursed"
                    " FROM schedule_lines s JOIN loans l ON l.id = s.loan_id"
                    f" WHERE s.loan_id IN ({', '.join(str(i) for i in chunk)})"
                    " AND l.status IN ('current', 'overdue') ORDER BY s.loan_id, s.period"
                )
            ).mappings()
            for row in rows:
                line = dict(row)
                for key in ("due_on", "disbursed"):
                    if isinstance(line[key], str):
                        line[key] = date.fromisoformat(line[key])
                if owed_fen(line) > 0:
                    result[line["loan_id"]].append(line)
        return result


_OWES_SQL = owes_sql("s")


_PARTS = (
    ("d_penalty", "penalty", "paid_penalty_fen"),
    ("d_late_fee", "late_fee", "paid_late_fee_fen"),
    ("d_interest", "interest", "paid_interest_fen"),
    ("d_principal", "principal", "paid_principal_fen"),
)


def _allocate(lines: list[dict[str, Any]], budget: int) -> list[tuple[dict[str, Any], dict[str, int]]]:
    """Oldest instalment first; within one, penalty → late fee → interest → principal. Mutates the
    line dicts so that a second payment of the same day sees what is left."""
    result = []
    for line in lines:
        if budget <= 0:
            break
        paid = {}
        owed = owed_components(line)
        for key, component, already in _PARTS:
            part = min(owed[component], budget)
            paid[key] = part
            line[already] += part
            budget -= part
        if any(paid.values()):
            result.append((line, paid))
    return result


def _issue_certificates(connection: Connection) -> None:
    """A settlement certificate (结清证明) for every settled loan that has none."""
    rows = connection.execute(
        text(
            "SELECT l.id, l.settled_on, SUM(s.paid_principal_fen + s.paid_interest_fen + s.paid_penalty_fen"
            " + s.paid_late_fee_fen) FROM loans l JOIN schedule_lines s ON s.loan_id = l.id"
            " WHERE l.status = 'settled' AND NOT EXISTS (SELECT 1 FROM settlement_certificates c"
            " WHERE c.loan_id = l.id) GROUP BY l.id, l.settled_on"
        )
    ).all()
    certificates = []
    for loan_id, settled_on, total in rows:
        settled = date.fromisoformat(settled_on) if isinstance(settled_on, str) else settled_on
        certificates.append(
            (f"JQ{settled:%Y%m%d}{loan_id:08d}", loan_id, settled, int(total), _noon(settled))
        )
    next_id = (connection.scalar(text("SELECT MAX(id) FROM settlement_certificates")) or 0) + 1
    writer = _BulkWriter(connection)
    writer.write(
        "settlement_certificates",
        ("id", "number", "loan_id", "settled_on", "total_paid_fen", "issued_at"),
        [(next_id + index, *row) for index, row in enumerate(certificates)],
    )
    writer.finish()
