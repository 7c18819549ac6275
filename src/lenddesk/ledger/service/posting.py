"""The posting engine shared by new repayments and replays, and the loan's state after postings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import Unprocessable
from lenddesk.core.money import format_fen
from lenddesk.core.policy import get_policy
from lenddesk.ledger import allocation as alloc
from lenddesk.ledger import costcap, settlement, transitions
from lenddesk.ledger.delinquency import DelinquencyRules, loan_standing
from lenddesk.ledger.models import Loan, Product, Repayment, ScheduleLine, SettlementCertificate
from lenddesk.ledger.owed import owed_fen
from lenddesk.ledger.service._common import _due, _lock_loan, _rounding


@dataclass
class _Book:
    """A loan and its lines, changed in place by postings.

    A regular repayment reads only the lines it can change (`RowPostings.load` with `since`): the
    lines paid off by then are left out, and the principal paid on them is counted here."""

    loan: Loan
    product: Product
    lines: list[ScheduleLine]
    principal_paid_on_lines_left_out_fen: int = 0
    lines_left_out: bool = False

    @property
    def by_period(self) -> dict[int, ScheduleLine]:
        return {line.period: line for line in self.lines}

    def dues(self) -> list[alloc.Due]:
        return [_due(line) for line in self.lines]

    def payable_on(self, value_date: date) -> list[alloc.Due]:
        """What a payment on `value_date` pays (`allocation.payable_on`), read off those lines only."""
        return [_due(line) for line in alloc.payable_on(self.lines, value_date)]

    def order(self) -> tuple[str, ...]:
        return alloc.parse_order(self.product.allocation_order)

    def pay(self, allocation: alloc.Allocation, value_date: date) -> None:
        lines = self.by_period
        for payment in allocation.lines:
            line = lines[payment.period]
            line.paid_penalty_fen += payment.penalty
            line.paid_late_fee_fen += payment.late_fee
            line.paid_interest_fen += payment.interest
            line.paid_principal_fen += payment.principal
            self.count_principal_repaid(payment.principal, value_date)
        self.mark_paid_off(value_date)

    def count_principal_repaid(self, amount_fen: int, value_date: date) -> None:
        """The cost cap counts each fen of principal for the days it was outstanding (costcap)."""
        self.loan.principal_days_repaid += amount_fen * max((value_date - self.loan.disbursed_on).days, 0)

    def mark_paid_off(self, value_date: date) -> None:
        for line in self.lines:
            if line.paid_off_on is None and owed_fen(line) == 0:
                line.paid_off_on = value_date


def _use_credit(book: _Book, value_date: date) -> None:
    """Credit from earlier over-payments pays the instalments payable on this date."""
    credit = book.loan.credit_balance_fen
    if credit <= 0:
        return
    style = get_policy().ledger.allocation_style
    used = alloc.allocate(credit, book.payable_on(value_date), order=book.order(), style=style)
    book.pay(used, value_date)
    book.loan.credit_balance_fen = used.credit_fen


def _post_regular(book: _Book, amount_fen: int, value_date: date) -> list[dict[str, Any]]:
    style = get_policy().ledger.allocation_style
    allocation = alloc.allocate(amount_fen, book.payable_on(value_date), order=book.order(), style=style)
    book.pay(allocation, value_date)
    book.loan.credit_balance_fen += allocation.credit_fen
    return allocation.to_json()


def _quote(book: _Book, on: date) -> settlement.SettlementQuote:
    quote = settlement.quote_settlement(
        book.dues(),
        annual_rate=book.loan.annual_rate,
        disbursed_on=book.loan.disbursed_on,
        on=on,
        fee_percent=book.product.early_repayment_fee_percent,
        credit_fen=book.loan.credit_balance_fen,
        rounding=_rounding(),
    )
    return settlement.within_cost_room(quote, _fee_room(book, on, accrued_interest_fen=0))


def _partial_fee_room(book: _Book, on: date, quote: settlement.SettlementQuote) -> int:
    """The fee room of a partial prepayment: the instalments not yet due keep room for their
    interest as scheduled before the prepayment (an upper bound of what they will charge)."""
    later = [
        (line.due_on, line.principal_fen - line.paid_principal_fen, line.interest_fen)
        for line in book.lines
        if line.due_on > on
    ]
    return _fee_room(book, on, accrued_interest_fen=quote.accrued_interest_fen, later=later)


def _fee_room(
    book: _Book, on: date, *, accrued_interest_fen: int, later: Sequence[tuple[date, int, int]] = ()
) -> int:
    """What an early repayment fee on `on` may take under the cost cap (costcap.headroom_fen), or,
    with `accrued_interest_fen` 0, what the accrued interest and the fee together may take.

    Counted as the close of business counts it: the interest of instalments due by `on` and the
    interest accrued to it, penalties and late fees charged, earlier early repayment fees; the
    principal-days to `on`; and
    the interest of `later` instalments (due date, unpaid principal, interest) at their due dates.
    """
    loan, lines = book.loan, book.lines
    charged = sum(
        line.penalty_fen + line.late_fee_fen + (line.interest_fen if line.due_on <= on else 0)
        for line in lines
    )
    outstanding = loan.principal_fen - sum(line.paid_principal_fen for line in lines)
    return costcap.headroom_fen(
        cap_ppm=costcap.cap_ppm_of(book.product.annual_cost_cap, get_policy().ledger.annual_cost_cap),
        principal_days_now=costcap.principal_days(
            loan.principal_days_repaid, outstanding, loan.disbursed_on, on
        ),
        on=on,
        cost_fen=charged + loan.early_repayment_fees_fen + accrued_interest_fen,
        future=later,
    )


def _pay_due_in_full(book: _Book, on: date) -> list[dict[str, Any]]:
    due = [d for d in book.dues() if d.due_on <= on and d.total > 0]
    allocation = alloc.allocate(sum(d.total for d in due), due, order=book.order())
    book.pay(allocation, on)
    return [entry for entry in allocation.to_json() if "period" in entry]


def _merge(entries: list[dict[str, Any]], period: int, **amounts: int) -> None:
    for entry in entries:
        if entry.get("period") == period:
            for key, value in amounts.items():
                entry[key] = entry.get(key, 0) + value
            return
    entries.append({"period": period, **{name: amounts.get(name, 0) for name in alloc.COMPONENTS}})


class _CannotPrepay(Exception):
    """An early repayment that does not fit the loan's state (the caller explains or falls back)."""

    def __init__(self, error: Unprocessable) -> None:
        super().__init__(error.message_en)
        self.error = error


def _post_early_full(book: _Book, amount_fen: int, on: date) -> list[dict[str, Any]]:
    quote = _quote(book, on)
    if amount_fen < quote.total_fen:
        raise _CannotPrepay(
            Unprocessable(
                f"金额不足以结清：{on} 结清需 {format_fen(quote.total_fen)} 元",
                f"Not enough to settle: {format_fen(quote.total_fen)} settles the loan on {on}",
                code="amount_below_settlement",
                details={"settlement_total": format_fen(quote.total_fen)},
            )
        )
    credit = book.loan.credit_balance_fen
    entries = _pay_due_in_full(book, on)
    future = [line for line in book.lines if line.due_on > on]
    for index, line in enumerate(future):
        accrued = quote.accrued_interest_fen if index == 0 else 0
        principal = line.principal_fen - line.paid_principal_fen
        penalty = line.penalty_fen - line.paid_penalty_fen - line.waived_penalty_fen
        late_fee = line.late_fee_fen - line.paid_late_fee_fen - line.waived_late_fee_fen
        line.paid_interest_fen += accrued
        line.interest_fen = line.paid_interest_fen  # interest of later periods is not charged
        line.paid_principal_fen = line.principal_fen
        line.paid_penalty_fen += penalty  # charges carried onto it (restructuring) are due now
        line.paid_late_fee_fen += late_fee
        book.count_principal_repaid(principal, on)
        if accrued or principal or penalty or late_fee:
            _merge(
                entries,
                line.period,
                penalty=penalty,
                late_fee=late_fee,
                interest=accrued,
                principal=principal,
            )
    book.mark_paid_off(on)
    # Settled: each line's interest is now what was charged for it, and the close of business, which
    # counts interest as it falls due, never touches a settled loan again — count it all here.
    book.loan.cost_charged_fen = sum(
        line.penalty_fen + line.late_fee_fen + line.interest_fen for line in book.lines
    )
    return _close_entries(
        book, entries, fee=quote.fee_fen, credit_used=credit, leftover=amount_fen + credit - quote.gross_fen
    )


def _close_entries(
    book: _Book, entries: list[dict[str, Any]], *, fee: int, credit_used: int, leftover: int
) -> list[dict[str, Any]]:
    """Fee, earlier credit used and new credit: instalments + fee + credit − credit used = paid."""
    if fee:
        book.loan.early_repayment_fees_fen += fee
        entries.append({"early_repayment_fee": fee})
    if credit_used:
        entries.append({"credit_used": credit_used})
    book.loan.credit_balance_fen = leftover
    if leftover:
        entries.append({"credit": leftover})
    return entries


def _post_early_partial(book: _Book, amount_fen: int, on: date) -> list[dict[str, Any]]:
    quote = _quote(book, on)
    credit = book.loan.credit_balance_fen
    available = amount_fen + credit
    if quote.principal_fen and available >= quote.gross_fen:
        return _post_early_full(book, amount_fen, on)
    fee_percent = book.product.early_repayment_fee_percent
    fee_room = _partial_fee_room(book, on, quote)
    prepaid = settlement.principal_for_amount(
        available - quote.before_principal_fen, fee_percent, _rounding(), fee_room
    )
    if not quote.principal_fen:
        raise _CannotPrepay(
            Unprocessable(
                "所有期次均已到期，没有可提前归还的本金",
                "Every instalment is already due: there is no principal to prepay",
                code="nothing_to_prepay",
            )
        )
    if prepaid <= 0:
        raise _CannotPrepay(
            Unprocessable(
                f"金额须超过逾期欠款与当期应计利息合计 {format_fen(quote.before_principal_fen)} 元",
                f"To prepay principal the amount must exceed what is overdue plus accrued interest "
                f"({format_fen(quote.before_principal_fen)})",
                code="amount_below_prepayment",
            )
        )
    entries = _pay_due_in_full(book, on)
    future = [line for line in book.lines if line.due_on > on]
    new_lines = settlement.reschedule(
        principal_fen=quote.principal_fen - prepaid,
        annual_rate=book.loan.annual_rate,
        method=book.loan.method,
        on=on,
        period_start=quote.period_start,
        due_dates=[line.due_on for line in future],
        rounding=_rounding(),
    )
    current = future[0]
    current.paid_interest_fen += quote.accrued_interest_fen
    current.paid_principal_fen += prepaid
    book.count_principal_repaid(prepaid, on)
    fee = min(settlement.early_repayment_fee(prepaid, fee_percent, _rounding()), max(fee_room, 0))
    for line, new in zip(future, new_lines, strict=True):
        line.interest_fen = line.paid_interest_fen + new.interest_fen
        line.principal_fen = line.paid_principal_fen + new.principal_fen
    _merge(entries, current.period, interest=quote.accrued_interest_fen, principal=prepaid)
    book.mark_paid_off(on)
    return _close_entries(
        book,
        entries,
        fee=fee,
        credit_used=credit,
        leftover=available - quote.before_principal_fen - prepaid - fee,
    )


def _apply_repayment(book: _Book, repayment: Repayment, *, replaying: bool) -> None:
    _use_credit(book, repayment.value_date)
    if repayment.kind != "regular":  # a prepayment quotes the whole schedule
        assert not book.lines_left_out, "an early repayment needs every line of the loan"
    try:
        if repayment.kind == "early_full":
            entries = _post_early_full(book, repayment.amount_fen, repayment.value_date)
        elif repayment.kind == "early_partial":
            entries = _post_early_partial(book, repayment.amount_fen, repayment.value_date)
        else:
            entries = _post_regular(book, repayment.amount_fen, repayment.value_date)
    except _CannotPrepay as failure:
        if not replaying:
            raise failure.error from None
        # After a reversal earlier in time the prepayment may no longer fit: it pays as a regular one.
        entries = [
            {"applied_as": "regular"},
            *_post_regular(book, repayment.amount_fen, repayment.value_date),
        ]
    repayment.allocation = entries


# --- loan state after postings ------------------------------------------------------------------


@dataclass(frozen=True)
class Restated:
    """What a refresh changed on the loan (`_restate`): the side effects its caller writes."""

    before: dict[str, Any]
    after: dict[str, Any]
    moved: tuple[str, str, int] | None  # (from bucket, to bucket, days past due) when the bucket changed
    settled: bool  # it settled now: a certificate is due
    reopened: bool  # it was settled and is not any more: its certificate goes


def _restate(book: _Book, *, today: date, settled_on: date | None) -> Restated:
    """Pure: keep the loan's denormalised fields in step with its lines, and its status, bucket and
    days past due with `loan_standing` — the same rule as the close of business."""
    loan, lines = book.loan, book.lines
    unpaid = [line for line in lines if owed_fen(line) > 0]
    paid_principal = book.principal_paid_on_lines_left_out_fen + sum(
        line.paid_principal_fen for line in lines
    )
    loan.outstanding_principal_fen = loan.principal_fen - paid_principal
    loan.oldest_unpaid_due_on = min((line.due_on for line in unpaid), default=None)
    loan.next_due_on = next((line.due_on for line in unpaid if line.due_on >= today), None)
    oldest = loan.oldest_unpaid_due_on
    written_off = loan.status == "written_off"  # its days past due stay those of the write-off
    days_past_due = (today - oldest).days if oldest is not None and oldest < today else 0
    standing = loan_standing(
        loan.days_past_due if written_off else days_past_due,
        DelinquencyRules.from_policy(get_policy()),
        owes=bool(unpaid),
        written_off=written_off,
    )
    before = {"status": loan.status, "bucket": loan.bucket, "days_past_due": loan.days_past_due}
    was_settled = loan.status == "settled"
    moved = (loan.bucket, standing.bucket, standing.days_past_due) if standing.bucket != loan.bucket else None
    loan.status, loan.bucket, loan.days_past_due = standing.status, standing.bucket, standing.days_past_due
    settled = standing.status == "settled" and not was_settled
    reopened = was_settled and standing.status != "settled"
    if settled:
        loan.settled_on = settled_on or today
    elif reopened:
        loan.settled_on = None
    after = {"status": loan.status, "bucket": loan.bucket, "days_past_due": loan.days_past_due}
    return Restated(before, after, moved, settled, reopened)


def _refresh_loan(
    session: Session, book: _Book, *, today: date, actor: audit.Actor, settled_on: date | None
) -> None:
    """`_restate` the loan and write its side effects: the day's bucket transition (an upsert),
    the settlement certificate issued or revoked, the status change audited."""
    loan = book.loan
    restated = _restate(book, today=today, settled_on=settled_on)
    if restated.moved is not None:
        from_bucket, to_bucket, days_past_due = restated.moved
        transitions.record(
            session,
            loan_id=loan.id,
            business_date=today,
            from_bucket=from_bucket,
            to_bucket=to_bucket,
            days_past_due=days_past_due,
        )
    if restated.settled:
        _issue_certificate(session, loan)
    elif restated.reopened:  # a reversal re-opened it
        _revoke_certificate(session, loan, actor)
    if restated.after != restated.before:
        audit.record(session, actor, "loan.status", ("loan", loan.id), restated.before, restated.after)


def certificate_number(loan_id: int, settled_on: date) -> str:
    return f"JQ{settled_on:%Y%m%d}{loan_id:08d}"


def _issue_certificate(session: Session, loan: Loan) -> SettlementCertificate:
    total_paid = session.scalar(
        select(func.coalesce(func.sum(Repayment.amount_fen), 0)).where(
            Repayment.loan_id == loan.id, Repayment.status != "reversed"
        )
    )
    assert loan.settled_on is not None
    certificate = SettlementCertificate(
        number=certificate_number(loan.id, loan.settled_on),
        loan_id=loan.id,
        settled_on=loan.settled_on,
        total_paid_fen=int(total_paid or 0),
    )
    session.add(certificate)
    return certificate


def _revoke_certificate(session: Session, loan: Loan, actor: audit.Actor) -> None:
    certificate = session.scalar(
        select(SettlementCertificate).where(SettlementCertificate.loan_id == loan.id)
    )
    if certificate is not None:
        audit.record(
            session, actor, "certificate.revoke", ("loan", loan.id), {"number": certificate.number}, None
        )
        session.delete(certificate)
        session.flush()


# --- books read from the database -----------------------------------------------------------------


def _book(session: Session, loan: Loan) -> _Book:
    """The loan's lines as stored now (call with the loan locked: see `lock_loan`)."""
    product = session.get(Product, loan.product_id)
    assert product is not None
    lines = session.scalars(
        select(ScheduleLine)
        .where(ScheduleLine.loan_id == loan.id)
        .order_by(ScheduleLine.period)
        .execution_options(populate_existing=True)
    )
    return _Book(loan=loan, product=product, lines=list(lines))


def _locked_book(session: Session, loan_id: int) -> _Book:
    loan = _lock_loan(session, loan_id)
    product = session.get(Product, loan.product_id)
    assert product is not None
    lines = list(
        session.scalars(
            select(ScheduleLine)
            .where(ScheduleLine.loan_id == loan_id)
            .order_by(ScheduleLine.period)
            .execution_options(populate_existing=True)
        )
    )
    return _Book(loan=loan, product=product, lines=lines)
