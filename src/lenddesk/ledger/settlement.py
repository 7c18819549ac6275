"""Early repayment (提前还款), pure: what settles a loan on a date, and partial prepayment.

Settling on date D costs:
- everything owed on instalments due on or before D (penalty, late fee, interest, principal);
- interest accrued since the current period began (the last due date on or before D, or the
  disbursement date) on the principal not yet due, by actual days / 365 — never more than the
  interest the schedule has for that period, less what was already paid of it;
- the principal not yet due, and any penalty or late fee already charged on an instalment not yet
  due (a restructuring spreads them onto new instalments);
- the product's early repayment fee: `early_repayment_fee_percent` percent of the prepaid
  principal (2 means 2%);
- the accrued interest and the fee together never more than the cost cap leaves
  (`within_cost_room`, ledger/costcap.py), the fee cut first;
- less the loan's credit balance.
Interest of later periods is not charged: that is what the borrower saves.

A partial prepayment pays the same first two items, then prepays principal (plus its fee); the
remaining instalments keep their due dates and are re-generated on the lower principal with the
same method — the instalment goes down, the term stays (the default of mature lenders). The
instalment due next accrues interest from D by actual days / 365 on the new principal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from lenddesk.core.errors import Unprocessable
from lenddesk.core.money import Rounding, format_fen, round_fen
from lenddesk.ledger.allocation import Due
from lenddesk.ledger.schedule import DAYS_IN_YEAR, Instalment, Method, generate_schedule


def early_repayment_fee(prepaid_principal_fen: int, fee_percent: Decimal, rounding: Rounding) -> int:
    return round_fen(Decimal(prepaid_principal_fen) * fee_percent / 100, rounding)


def principal_for_amount(
    available_fen: int, fee_percent: Decimal, rounding: Rounding, fee_room_fen: int | None = None
) -> int:
    """The most principal that `available_fen` prepays together with its fee (at most `fee_room_fen`)."""
    if available_fen <= 0:
        return 0
    uncapped = _principal_for_amount(available_fen, fee_percent, rounding)
    if fee_room_fen is None:
        return uncapped
    room = max(fee_room_fen, 0)
    capped = available_fen - room  # when the fee of that much principal reaches the room
    if capped > 0 and early_repayment_fee(capped, fee_percent, rounding) >= room:
        return max(uncapped, capped)
    return uncapped


def _principal_for_amount(available_fen: int, fee_percent: Decimal, rounding: Rounding) -> int:
    principal = int(Decimal(available_fen) * 100 / (100 + fee_percent))
    while principal + 1 + early_repayment_fee(principal + 1, fee_percent, rounding) <= available_fen:
        principal += 1
    while principal > 0 and principal + early_repayment_fee(principal, fee_percent, rounding) > available_fen:
        principal -= 1
    return principal


@dataclass(frozen=True)
class SettlementQuote:
    on: date
    overdue_fen: int  # owed on instalments due on or before `on`
    accrued_interest_fen: int  # current period's interest to `on`
    principal_fen: int  # principal not yet due
    fee_fen: int
    credit_fen: int
    interest_saved_fen: int  # scheduled interest not yet due that is not charged
    period_start: date  # the current period began here (last due date or disbursement)
    # Penalties and late fees on instalments not yet due (a restructuring spreads them there).
    carried_fees_fen: int = 0

    @property
    def gross_fen(self) -> int:
        """What settles the loan before the credit balance is counted."""
        return (
            self.overdue_fen
            + self.accrued_interest_fen
            + self.principal_fen
            + self.fee_fen
            + self.carried_fees_fen
        )

    @property
    def total_fen(self) -> int:
        return max(self.gross_fen - self.credit_fen, 0)

    @property
    def before_principal_fen(self) -> int:
        """What must be paid before any principal is prepaid: overdue amounts and accrued interest."""
        return self.overdue_fen + self.accrued_interest_fen


@dataclass(frozen=True)
class PartialQuote:
    base: SettlementQuote
    prepaid_principal_fen: int
    fee_fen: int
    new_lines: list[Instalment] = field(default_factory=list)
    interest_saved_fen: int = 0

    @property
    def total_fen(self) -> int:
        return max(
            self.base.before_principal_fen + self.prepaid_principal_fen + self.fee_fen - self.base.credit_fen,
            0,
        )


def within_cost_room(quote: SettlementQuote, room_fen: int) -> SettlementQuote:
    """The quote with its accrued interest, then its early repayment fee, cut to what the cost cap
    leaves (ledger/costcap.py): both are cost the law counts. Interest not charged is saved."""
    room = max(room_fen, 0)
    accrued = min(quote.accrued_interest_fen, room)
    return replace(
        quote,
        accrued_interest_fen=accrued,
        fee_fen=min(quote.fee_fen, room - accrued),
        interest_saved_fen=quote.interest_saved_fen + quote.accrued_interest_fen - accrued,
    )


def _check_date(on: date, disbursed_on: date) -> None:
    if on < disbursed_on:
        raise Unprocessable(
            "还款日期不能早于放款日",
            "The repayment date cannot be before the disbursement date",
            code="date_before_disbursement",
        )


def _split(dues: Sequence[Due], on: date) -> tuple[list[Due], list[Due]]:
    ordered = sorted(dues, key=lambda due: (due.due_on, due.period))
    return [d for d in ordered if d.due_on <= on], [d for d in ordered if d.due_on > on]


def quote_settlement(
    dues: Sequence[Due],
    *,
    annual_rate: Decimal,
    disbursed_on: date,
    on: date,
    rounding: Rounding,
    fee_percent: Decimal = Decimal(0),
    credit_fen: int = 0,
) -> SettlementQuote:
    """What settles the loan in full on `on`. `dues` are every instalment's outstanding amounts."""
    _check_date(on, disbursed_on)
    due, future = _split(dues, on)
    period_start = max((d.due_on for d in due), default=disbursed_on)
    principal = sum(d.principal for d in future)
    accrued = 0
    if future:
        current = future[0]
        exact = Decimal(principal) * annual_rate * (on - period_start).days / DAYS_IN_YEAR
        scheduled = current.interest + current.interest_paid
        accrued = max(min(round_fen(exact, rounding), scheduled) - current.interest_paid, 0)
    return SettlementQuote(
        on=on,
        overdue_fen=sum(d.total for d in due),
        accrued_interest_fen=accrued,
        principal_fen=principal,
        fee_fen=early_repayment_fee(principal, fee_percent, rounding),
        credit_fen=credit_fen,
        interest_saved_fen=max(sum(d.interest for d in future) - accrued, 0),
        period_start=period_start,
        carried_fees_fen=sum(d.penalty + d.late_fee for d in future),
    )


def reschedule(
    *,
    principal_fen: int,
    annual_rate: Decimal,
    method: Method | str,
    on: date,
    period_start: date,
    due_dates: Sequence[date],
    rounding: Rounding,
) -> list[Instalment]:
    """The remaining instalments on a lower principal, keeping their due dates ("reduce instalment")."""
    if principal_fen <= 0 or not due_dates:
        return []
    if Method(method) is Method.BULLET:
        # One instalment at maturity: its interest runs from `on` by actual days / 365.
        (line,) = generate_schedule(
            principal_fen=principal_fen,
            annual_rate=annual_rate,
            term=1,
            method=Method.BULLET,
            start_date=on,
            first_due_on=due_dates[-1],
            rounding=rounding,
        )
        return [Instalment(1, due_dates[-1], line.principal_fen, line.interest_fen, 0)]
    lines = generate_schedule(
        principal_fen=principal_fen,
        annual_rate=annual_rate,
        term=len(due_dates),
        method=method,
        start_date=on,
        # Prepaid on the period's first day: a regular period; otherwise actual days to the next due date.
        first_due_on=None if on == period_start else due_dates[0],
        rounding=rounding,
    )
    return [
        Instalment(line.period, due_on, line.principal_fen, line.interest_fen, line.remaining_fen)
        for line, due_on in zip(lines, due_dates, strict=True)
    ]


def quote_partial(
    dues: Sequence[Due],
    *,
    annual_rate: Decimal,
    method: Method | str,
    disbursed_on: date,
    on: date,
    prepaid_principal_fen: int,
    rounding: Rounding,
    fee_percent: Decimal = Decimal(0),
    credit_fen: int = 0,
) -> PartialQuote:
    """Prepay `prepaid_principal_fen` of the principal not yet due on `on` and re-schedule the rest."""
    base = quote_settlement(
        dues,
        annual_rate=annual_rate,
        disbursed_on=disbursed_on,
        on=on,
        rounding=rounding,
        fee_percent=fee_percent,
        credit_fen=credit_fen,
    )
    if prepaid_principal_fen <= 0:
        raise Unprocessable(
            "提前还本金额必须大于 0",
            "The principal to prepay must be greater than 0",
            code="amount_not_positive",
        )
    if prepaid_principal_fen >= base.principal_fen:
        raise Unprocessable(
            f"提前还本金额须小于未到期本金 {format_fen(base.principal_fen)} 元，全部结清请用结清试算",
            f"The principal to prepay must be less than the principal not yet due "
            f"({format_fen(base.principal_fen)}); use the full settlement quote to settle",
            code="partial_exceeds_principal",
        )
    _, future = _split(dues, on)
    new_lines = reschedule(
        principal_fen=base.principal_fen - prepaid_principal_fen,
        annual_rate=annual_rate,
        method=method,
        on=on,
        period_start=base.period_start,
        due_dates=[d.due_on for d in future],
        rounding=rounding,
    )
    old_interest = sum(d.interest for d in future)
    new_interest = base.accrued_interest_fen + sum(line.interest_fen for line in new_lines)
    return PartialQuote(
        base=base,
        prepaid_principal_fen=prepaid_principal_fen,
        fee_fen=early_repayment_fee(prepaid_principal_fen, fee_percent, rounding),
        new_lines=new_lines,
        interest_saved_fen=max(old_interest - new_interest, 0),
    )
