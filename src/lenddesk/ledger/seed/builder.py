"""Builds borrower, loan, schedule and repayment rows with their state at the window start."""

from __future__ import annotations

import json
import random
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from lenddesk.core.pii import id_check_char
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
from lenddesk.ledger.schedule import add_months, generate_schedule
from lenddesk.ledger.seed._common import (
    _POSTCODE,
    _REFERENCE_PREFIX,
    CHANNELS,
    CONTACT_TIMES,
    EMAIL_DOMAINS,
    MOBILE_PREFIXES,
    PREFERRED_CHANNELS,
    PRODUCTS,
    REGIONS,
    ProductSpec,
    SeedOptions,
)

# -- rows ----------------------------------------------------------------------------------------


@dataclass
class _Rows:
    borrowers: list[tuple[Any, ...]] = field(default_factory=list)
    contacts: list[tuple[Any, ...]] = field(default_factory=list)
    loans: list[tuple[Any, ...]] = field(default_factory=list)
    lines: list[tuple[Any, ...]] = field(default_factory=list)
    repayments: list[tuple[Any, ...]] = field(default_factory=list)
    transitions: list[tuple[Any, ...]] = field(default_factory=list)
    certificates: list[tuple[Any, ...]] = field(default_factory=list)
    planned: dict[date, list[PlannedPayment]] = field(default_factory=lambda: defaultdict(list))

    def tables(self) -> Iterator[tuple[str, Sequence[str], list[tuple[Any, ...]]]]:
        yield "borrowers", BORROWER_COLUMNS, self.borrowers
        yield "borrower_contacts", CONTACT_COLUMNS, self.contacts
        yield "loans", LOAN_COLUMNS, self.loans
        yield "schedule_lines", LINE_COLUMNS, self.lines
        yield "repayments", REPAYMENT_COLUMNS, self.repayments
        yield "bucket_transitions", TRANSITION_COLUMNS, self.transitions
        yield "settlement_certificates", CERTIFICATE_COLUMNS, self.certificates


BORROWER_COLUMNS = (
    "id", "name", "id_number", "mobile", "email", "wechat_openid", "address", "employer",
    "preferred_channel", "preferred_contact_time", "created_at",
)  # fmt: skip
# Contacts, lines and repayments are written without ids: the database numbers them in batch order.
CONTACT_COLUMNS = ("borrower_id", "relation", "name", "mobile", "is_third_party")
LOAN_COLUMNS = (
    "id", "contract_number", "borrower_id", "product_id", "principal_fen", "annual_rate", "term", "method",
    "disbursed_on", "status", "days_past_due", "bucket", "oldest_unpaid_due_on", "next_due_on",
    "outstanding_principal_fen", "cost_charged_fen", "credit_balance_fen", "settled_on", "written_off_on",
    "created_at", "principal_days_repaid", "early_repayment_fees_fen",
)  # fmt: skip
LINE_COLUMNS = (
    "loan_id", "period", "due_on", "principal_fen", "interest_fen", "penalty_fen", "late_fee_fen",
    "paid_principal_fen", "paid_interest_fen", "paid_penalty_fen", "paid_late_fee_fen",
    "waived_penalty_fen", "waived_late_fee_fen", "paid_off_on", "original_principal_fen",
    "original_interest_fen",
)  # fmt: skip
REPAYMENT_COLUMNS = (
    "loan_id", "channel", "external_reference", "amount_fen", "value_date", "received_at", "kind",
    "status", "allocation", "posted_by",
)  # fmt: skip
TRANSITION_COLUMNS = ("loan_id", "business_date", "from_bucket", "to_bucket", "days_past_due")
CERTIFICATE_COLUMNS = ("number", "loan_id", "settled_on", "total_paid_fen", "issued_at")

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


@dataclass(frozen=True)
class SeedBatch:
    """A run of borrowers built from a random stream of its own, so that batches can be built in
    any process and in any order and still make the same book."""

    index: int
    first: int  # index of its first borrower in the book
    count: int


# Identity numbers are drawn without replacement: borrower index → a unique (region, birth date,
# sequence) slot through a multiplication modulo the number of slots (coprime, so one-to-one).
_BIRTH_DAYS, _SEQUENCES = 14_000, 500
_ID_SLOTS = len(REGIONS) * _BIRTH_DAYS * _SEQUENCES
_ID_STRIDE = 104_729  # a prime that divides no factor of _ID_SLOTS (2, 5, 7, 17)


class _BookBuilder:
    def __init__(
        self,
        options: SeedOptions,
        rules: DelinquencyRules,
        products: list[tuple[ProductSpec, int, ChargeTerms]],
    ) -> None:
        if options.borrowers > _ID_SLOTS:
            raise ValueError(f"at most {_ID_SLOTS:,} borrowers can have distinct identity numbers")
        self.options = options
        self.rules = rules
        self.products = products
        self.random = random.Random(options.seed)
        self.product_weights = [spec.weight for spec, _, _ in products]
        self.planned_payments: dict[date, list[PlannedPayment]] = defaultdict(list)
        self._amounts: dict[tuple[int, int], list[tuple[int, int]]] = {}
        self._dates: dict[tuple[date, int, str], list[date]] = {}
        self._pools = _NamePools.of(options.seed)

    # borrowers --------------------------------------------------------------------------------

    def _mobile(self, borrower_index: int, slot: int) -> str:
        counter = borrower_index * 3 + slot + 1  # three numbers per borrower: self, spouse, other
        number = (counter * 7919 + self.options.seed) % 100_000_000
        prefix = MOBILE_PREFIXES[(counter * 31) % len(MOBILE_PREFIXES)]
        return f"{prefix}{number:08d}"

    def _id_number(self, borrower_index: int, male: bool) -> str:
        slot = (borrower_index * _ID_STRIDE + self.options.seed) % _ID_SLOTS
        slot, region = divmod(slot, len(REGIONS))
        sequence, day = divmod(slot, _BIRTH_DAYS)
        born = date(1966, 1, 1) + timedelta(days=day)
        first17 = f"{REGIONS[region]}{born:%Y%m%d}{sequence * 2 + (1 if male else 0):03d}"
        return first17 + id_check_char(first17)

    def build(self, batch: SeedBatch, start: date) -> _Rows:
        """The batch's rows. Borrowers and loans carry their ids (both follow from the borrower's
        index); contacts, lines and repayments get theirs from the database, written in batch order."""
        rows = _Rows()
        rng = self.random = random.Random(f"{self.options.seed}/{batch.index}")
        self.planned_payments = rows.planned
        pools = self._pools
        per_borrower = self.options.loans_per_borrower
        for index in range(batch.first, batch.first + batch.count):
            borrower_id = index + 1
            male = rng.random() < 0.55
            name = pools.name(rng, male)
            mobile = self._mobile(index, 0)
            rows.borrowers.append(
                (
                    borrower_id,
                    name,
                    self._id_number(index, male),
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
            rows.contacts.append((borrower_id, "self", name, mobile, False))
            if rng.random() < 0.55:
                spouse = pools.name(rng, not male)
                rows.contacts.append((borrower_id, "spouse", spouse, self._mobile(index, 1), True))
            relation = _pick(rng, ("emergency", "relative", "colleague"))
            other = pools.name(rng, rng.random() < 0.5)
            rows.contacts.append((borrower_id, relation, other, self._mobile(index, 2), True))
            first_loan = int(index * per_borrower)
            for loan_id in range(first_loan + 1, int((index + 1) * per_borrower) + 1):
                self._loan(rows, borrower_id, loan_id, start)
        return rows

    # loans ------------------------------------------------------------------------------------

    def _loan(self, rows: _Rows, borrower_id: int, loan_id: int, start: date) -> None:
        rng = self.random
        spec, product_id, terms = rng.choices(self.products, weights=self.product_weights)[0]
        low, high = spec.amounts_yuan
        principal = rng.randrange(low, high + 1, 500) * 100
        age = int(self.options.history_days * (1 - rng.random() ** 0.5))
        disbursed = self.options.business_date - timedelta(days=max(age, 1))
        amounts = self._schedule_amounts(spec, principal)
        dues = self._due_dates(disbursed, len(amounts), spec)
        paid_on = self._behaviour(dues, start)
        channel = _loan_channel(rng)
        if all(day is not None and day <= due for day, due in zip(paid_on, dues, strict=True)):
            state: _LoanHistory | _PunctualHistory = _PunctualHistory(
                principal, amounts, dues, paid_on, start
            )
        else:
            state = _LoanHistory(self, spec, terms, principal, disbursed, amounts, dues, paid_on, start)
        rows.loans.append(
            (
                loan_id,
                f"HT{_compact(disbursed)}{loan_id:08d}",
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
        rows.lines.extend(
            [
                (loan_id, period, *line, *original)
                for period, line, original in zip(_PERIODS, state.lines, amounts, strict=False)
            ]
        )
        for sequence, (day, periods, amount, allocation) in enumerate(state.repayments, start=1):
            pay_channel = channel if day <= dues[periods[0] - 1] else _pick(rng, _LATE_CHANNELS)
            reference = f"{_REFERENCE_PREFIX[pay_channel]}{_compact(day)}{loan_id:08d}{sequence:02d}"
            rows.repayments.append(
                _repayment_values(loan_id, pay_channel, reference, amount, day, allocation, rng)
            )
        for day, old, new, dpd in state.transitions:
            rows.transitions.append((loan_id, day, old, new, dpd))
        if state.settled_on is not None:
            paid = sum(line[5] + line[6] + line[7] + line[8] for line in state.lines)
            settled = state.settled_on
            rows.certificates.append(
                (f"JQ{_compact(settled)}{loan_id:08d}", loan_id, settled, paid, _noon(settled))
            )
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
_PERIODS = range(1, 1000)
_LATE_CHANNELS = CHANNELS[1:]  # a late payment is never the auto-debit's


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


@lru_cache(maxsize=4096)
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
    reference = f"{_REFERENCE_PREFIX[channel]}{_compact(day)}{repayment_id:010d}"
    return (repayment_id, *_repayment_values(loan_id, channel, reference, amount, day, allocation, rng))


def _repayment_values(
    loan_id: int,
    channel: str,
    reference: str,
    amount: int,
    day: date,
    allocation: list[dict[str, int]] | str,
    rng: random.Random,
) -> tuple[Any, ...]:
    """A seeded repayment's columns but its id (REPAYMENT_COLUMNS)."""
    # Auto-debits run at 06:00 Shanghai; people pay between 09:00 and 22:00 (stored in UTC).
    local_minutes = 6 * 60 if channel == "auto_debit" else 9 * 60 + int(rng.random() * 13 * 60)
    received = _midnight(day) + timedelta(minutes=local_minutes - 8 * 60)
    detail = allocation if isinstance(allocation, str) else json.dumps(allocation)
    return (loan_id, channel, reference, amount, day, received, "regular", "posted", detail, "seed")


# A book has millions of repayments on a few hundred days: each day's forms are worked out once.
@lru_cache(maxsize=4096)
def _compact(day: date) -> str:
    return f"{day:%Y%m%d}"


@lru_cache(maxsize=4096)
def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _one_line_allocation(period: int, principal: int, interest: int) -> str:
    return f"[{_line_allocation(period, principal, interest, 0, 0)}]"


def _line_allocation(period: int, principal: int, interest: int, penalty: int, late_fee: int) -> str:
    """One line's share of a repayment, as json.dumps writes it (allocation.py's order)."""
    return (
        f'{{"period": {period}, "penalty": {penalty}, "late_fee": {late_fee}, "interest": {interest},'
        f' "principal": {principal}}}'
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
            paid_lines = [(period, self.lines[period - 1]) for period in periods]
            amount = sum(line[1] + line[2] + line[3] + line[4] for _, line in paid_lines)
            allocation = ", ".join(
                _line_allocation(period, line[1], line[2], line[3], line[4]) for period, line in paid_lines
            )
            self.repayments.append((day, periods, amount, f"[{allocation}]"))
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
