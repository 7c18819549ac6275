"""The loan calculator for borrowers and agents, pure: a schedule, and what repaying early costs.

The early-repayment calculator describes a loan by its terms alone, so it assumes every
instalment due on or before the repayment date was paid on time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lenddesk.core.errors import Unprocessable
from lenddesk.core.money import Rounding
from lenddesk.ledger.allocation import Due
from lenddesk.ledger.schedule import Instalment, Method, generate_schedule
from lenddesk.ledger.settlement import PartialQuote, SettlementQuote, quote_partial, quote_settlement


@dataclass(frozen=True)
class LoanTerms:
    principal_fen: int
    annual_rate: Decimal
    term: int
    method: Method
    start_date: date
    rounding: Rounding  # the policy's rule: the calculator rounds exactly as the ledger does

    @classmethod
    def of(
        cls,
        *,
        principal_fen: int,
        annual_rate: Decimal,
        term: int,
        method: str,
        start_date: date,
        rounding: Rounding,
    ) -> LoanTerms:
        try:
            checked_method = Method(method)
        except ValueError as exc:
            choices = ", ".join(m.value for m in Method)
            raise Unprocessable(
                f"未知的还款方式：{method}（可选：{choices}）",
                f"Unknown method: {method} (one of: {choices})",
                code="unknown_method",
            ) from exc
        return cls(principal_fen, annual_rate, term, checked_method, start_date, rounding)

    def schedule(self) -> list[Instalment]:
        return generate_schedule(
            principal_fen=self.principal_fen,
            annual_rate=self.annual_rate,
            term=self.term,
            method=self.method,
            start_date=self.start_date,
            rounding=self.rounding,
        )


@dataclass(frozen=True)
class ScheduleResult:
    lines: list[Instalment]

    @property
    def total_interest_fen(self) -> int:
        return sum(line.interest_fen for line in self.lines)

    @property
    def total_fen(self) -> int:
        return sum(line.total_fen for line in self.lines)


def schedule(terms: LoanTerms) -> ScheduleResult:
    return ScheduleResult(terms.schedule())


@dataclass(frozen=True)
class EarlyRepaymentResult:
    quote: SettlementQuote
    partial: PartialQuote | None
    paid_instalments: int  # due on or before the date, assumed paid on time

    @property
    def total_fen(self) -> int:
        return self.partial.total_fen if self.partial else self.quote.total_fen


def _dues_after_paying_on_time(lines: list[Instalment], on: date) -> list[Due]:
    return [
        Due(line.period, line.due_on, interest_paid=line.interest_fen)
        if line.due_on <= on
        else Due(line.period, line.due_on, interest=line.interest_fen, principal=line.principal_fen)
        for line in lines
    ]


def early_repayment(
    terms: LoanTerms,
    *,
    on: date,
    prepaid_principal_fen: int | None = None,
    fee_percent: Decimal = Decimal(0),
) -> EarlyRepaymentResult:
    """Settle in full on `on`, or prepay `prepaid_principal_fen` and re-schedule the rest."""
    lines = terms.schedule()
    dues = _dues_after_paying_on_time(lines, on)
    if on >= lines[-1].due_on:
        raise Unprocessable(
            "还款日期须早于最后一期到期日",
            "The repayment date must be before the last due date",
            code="date_after_maturity",
        )
    common = {
        "annual_rate": terms.annual_rate,
        "disbursed_on": terms.start_date,
        "on": on,
        "fee_percent": fee_percent,
        "rounding": terms.rounding,
    }
    quote = quote_settlement(dues, **common)  # type: ignore[arg-type]
    partial = None
    if prepaid_principal_fen is not None:
        partial = quote_partial(
            dues, method=terms.method, prepaid_principal_fen=prepaid_principal_fen, **common
        )  # type: ignore[arg-type]
    return EarlyRepaymentResult(
        quote=quote, partial=partial, paid_instalments=sum(line.due_on <= on for line in lines)
    )
