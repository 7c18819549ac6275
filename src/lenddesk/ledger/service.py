"""Use cases of the loan ledger. Functions take a Session and never commit.

`account_summary` and `find_borrower` are the ledger's read interface for other rooms (desk side
panel and macros, collections); keep their signatures stable.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.db import utcnow
from lenddesk.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from lenddesk.core.money import format_fen
from lenddesk.core.pii import mask_address, mask_id_number, mask_mobile, validate_id_number, validate_mobile
from lenddesk.core.policy import get_policy
from lenddesk.ledger import allocation as alloc
from lenddesk.ledger import costcap, settlement
from lenddesk.ledger.models import (
    Borrower,
    BorrowerContact,
    BucketTransition,
    Loan,
    Product,
    Repayment,
    ScheduleLine,
    SettlementCertificate,
)
from lenddesk.ledger.schedule import Method, add_months, generate_schedule


@dataclass(frozen=True)
class LoanSummary:
    loan_id: int
    contract_number: str
    status: str
    bucket: str
    days_past_due: int
    principal_fen: int
    outstanding_principal_fen: int
    next_due_on: date | None
    next_due_amount_fen: int
    overdue_amount_fen: int


@dataclass(frozen=True)
class AccountSummary:
    borrower_id: int
    name: str
    mobile: str
    loans: list[LoanSummary]

    @property
    def overdue_amount_fen(self) -> int:
        return sum(loan.overdue_amount_fen for loan in self.loans)


def _loan_summary(session: Session, loan: Loan, today: date) -> LoanSummary:
    dues = [_due(line) for line in _lines(session, loan.id)]
    overdue = sum(due.total for due in dues if due.due_on < today)
    upcoming = [due for due in dues if due.due_on >= today and due.total > 0]
    return LoanSummary(
        loan_id=loan.id,
        contract_number=loan.contract_number,
        status=loan.status,
        bucket=loan.bucket,
        days_past_due=loan.days_past_due,
        principal_fen=loan.principal_fen,
        outstanding_principal_fen=loan.outstanding_principal_fen,
        next_due_on=upcoming[0].due_on if upcoming else None,
        next_due_amount_fen=upcoming[0].total if upcoming else 0,
        overdue_amount_fen=overdue,
    )


def account_summary(session: Session, *, borrower_id: int, today: date) -> AccountSummary:
    """What a borrower owes, loan by loan, as of `today` (a Shanghai business date)."""
    borrower = session.get(Borrower, borrower_id)
    if borrower is None:
        raise NotFound(f"借款人不存在：{borrower_id}", f"No such borrower: {borrower_id}")
    loans = session.scalars(select(Loan).where(Loan.borrower_id == borrower_id).order_by(Loan.id)).all()
    return AccountSummary(
        borrower_id=borrower.id,
        name=borrower.name,
        mobile=borrower.mobile,
        loans=[_loan_summary(session, loan, today) for loan in loans],
    )


def find_borrower(
    session: Session,
    *,
    mobile: str | None = None,
    email: str | None = None,
    wechat_openid: str | None = None,
) -> Borrower | None:
    """The borrower registered with this phone, e-mail or WeChat openid (first match), if any."""
    if mobile:
        return session.scalar(select(Borrower).where(Borrower.mobile == mobile).limit(1))
    if email:
        return session.scalar(select(Borrower).where(Borrower.email == email.lower()).limit(1))
    if wechat_openid:
        return session.scalar(select(Borrower).where(Borrower.wechat_openid == wechat_openid).limit(1))
    return None


# --- reference data ---------------------------------------------------------------------------

CHANNELS = ("bank_transfer", "mobile_banking", "wechat_pay", "alipay", "auto_debit", "counter")
CHANNEL_LABELS_ZH = {
    "bank_transfer": "银行转账",
    "mobile_banking": "手机银行",
    "wechat_pay": "微信支付",
    "alipay": "支付宝",
    "auto_debit": "自动扣款",
    "counter": "柜台",
}
REPAYMENT_KINDS = ("regular", "early_partial", "early_full")
RELATIONS = ("self", "spouse", "emergency", "relative", "colleague", "friend")
RELATION_LABELS_ZH = {
    "self": "本人",
    "spouse": "配偶",
    "emergency": "紧急联系人",
    "relative": "亲属",
    "colleague": "同事",
    "friend": "朋友",
}
STATUS_LABELS_ZH = {"current": "正常", "overdue": "逾期", "settled": "已结清", "written_off": "已核销"}


def _not_found(what_zh: str, what_en: str, key: object) -> NotFound:
    return NotFound(
        f"{what_zh}不存在：{key}", f"No such {what_en}: {key}", code=f"{what_en.replace(' ', '_')}_not_found"
    )


# --- borrowers and contacts ---------------------------------------------------------------------


def create_borrower(
    session: Session,
    *,
    actor: audit.Actor,
    name: str,
    id_number: str,
    mobile: str,
    email: str | None = None,
    address: str | None = None,
    employer: str | None = None,
    preferred_channel: str | None = None,
    preferred_contact_time: str | None = None,
) -> Borrower:
    """A borrower, with their own phone on file as the contact "self" (not a third party)."""
    name = name.strip()
    if not name:
        raise Unprocessable("姓名不能为空", "The name is required", code="name_required")
    id_number = validate_id_number(id_number)
    mobile = validate_mobile(mobile)
    if session.scalar(select(Borrower.id).where(Borrower.id_number == id_number)) is not None:
        raise Conflict(
            "该身份证号码已登记为借款人", "A borrower with this ID number exists", code="borrower_exists"
        )
    borrower = Borrower(
        name=name,
        id_number=id_number,
        mobile=mobile,
        email=email.strip().lower() if email else None,
        address=address,
        employer=employer,
        preferred_channel=preferred_channel,
        preferred_contact_time=preferred_contact_time,
    )
    session.add(borrower)
    session.flush()
    session.add(
        BorrowerContact(
            borrower_id=borrower.id, relation="self", name=name, mobile=mobile, is_third_party=False
        )
    )
    audit.record(
        session,
        actor,
        "borrower.create",
        ("borrower", borrower.id),
        None,
        {"name": name, "id_number": mask_id_number(id_number), "mobile": mask_mobile(mobile)},
    )
    return borrower


def add_contact(
    session: Session, *, actor: audit.Actor, borrower_id: int, relation: str, name: str, mobile: str
) -> BorrowerContact:
    """A phone on file; anyone but the borrower themself is a third party."""
    borrower = session.get(Borrower, borrower_id)
    if borrower is None:
        raise _not_found("借款人", "borrower", borrower_id)
    if relation not in RELATIONS:
        raise Unprocessable(
            f"未知的联系人关系：{relation}（可选：{', '.join(RELATIONS)}）",
            f"Unknown contact relation: {relation} (one of: {', '.join(RELATIONS)})",
            code="unknown_relation",
        )
    contact = BorrowerContact(
        borrower_id=borrower_id,
        relation=relation,
        name=name.strip(),
        mobile=validate_mobile(mobile),
        is_third_party=relation != "self",
    )
    session.add(contact)
    session.flush()
    audit.record(
        session,
        actor,
        "borrower.contact_add",
        ("borrower", borrower_id),
        None,
        {"contact_id": contact.id, "relation": relation, "mobile": mask_mobile(contact.mobile)},
    )
    return contact


# --- products and loans --------------------------------------------------------------------------


def create_product(
    session: Session,
    *,
    actor: audit.Actor,
    code: str,
    name: str,
    annual_rate: Decimal,
    term: int,
    method: str,
    grace_days: int = 3,
    penalty_mode: str = "daily",
    penalty_daily_rate: Decimal = Decimal("0.0005"),
    penalty_multiple: Decimal = Decimal("1.5"),
    late_fee_fixed_fen: int = 0,
    late_fee_percent: Decimal = Decimal(0),
    allocation_order: str = ",".join(alloc.DEFAULT_ORDER),
    annual_cost_cap: Decimal = Decimal("0.24"),
    early_repayment_fee_percent: Decimal = Decimal(0),
) -> Product:
    method = _check_method(method)
    order = ",".join(alloc.parse_order(allocation_order))
    if penalty_mode not in ("daily", "multiple"):
        raise Unprocessable(
            "罚息方式须为 daily 或 multiple",
            "penalty_mode must be daily or multiple",
            code="bad_penalty_mode",
        )
    numbers = {
        "annual_rate": annual_rate,
        "grace_days": grace_days,
        "penalty_daily_rate": penalty_daily_rate,
        "penalty_multiple": penalty_multiple,
        "late_fee_fixed_fen": late_fee_fixed_fen,
        "late_fee_percent": late_fee_percent,
        "annual_cost_cap": annual_cost_cap,
        "early_repayment_fee_percent": early_repayment_fee_percent,
    }
    negative = [key for key, value in numbers.items() if value < 0]
    if negative:
        raise Unprocessable(
            f"以下参数不能为负数：{', '.join(negative)}",
            f"These values cannot be negative: {', '.join(negative)}",
            code="negative_value",
        )
    costcap.check_contract_rate(annual_rate, annual_cost_cap, get_policy().ledger.annual_cost_cap)
    # Validates rate and term the same way a loan's schedule will.
    generate_schedule(
        principal_fen=100, annual_rate=annual_rate, term=term, method=method, start_date=date(2026, 1, 1)
    )
    if session.scalar(select(Product.id).where(Product.code == code)) is not None:
        raise Conflict(
            f"产品代码已存在：{code}", f"Product code already exists: {code}", code="product_exists"
        )
    product = Product(
        code=code,
        name=name,
        term=term,
        method=method,
        penalty_mode=penalty_mode,
        allocation_order=order,
        **numbers,
    )
    session.add(product)
    session.flush()
    audit.record(session, actor, "product.create", ("product", product.id), None, {"code": code, **numbers})
    return product


def _check_method(method: str) -> str:
    try:
        return Method(method).value
    except ValueError as exc:
        raise Unprocessable(
            f"未知的还款方式：{method}（可选：{', '.join(m.value for m in Method)}）",
            f"Unknown schedule method: {method} (one of: {', '.join(m.value for m in Method)})",
            code="unknown_method",
        ) from exc


def create_loan(
    session: Session,
    *,
    actor: audit.Actor,
    borrower_id: int,
    product_code: str,
    principal_fen: int,
    disbursed_on: date,
    first_due_on: date | None = None,
    annual_rate: Decimal | None = None,
    term: int | None = None,
    contract_number: str | None = None,
) -> Loan:
    """A disbursed loan with its schedule; the rate and term default to the product's."""
    if session.get(Borrower, borrower_id) is None:
        raise _not_found("借款人", "borrower", borrower_id)
    product = session.scalar(select(Product).where(Product.code == product_code))
    if product is None:
        raise _not_found("产品", "product", product_code)
    _check_amount(principal_fen)
    rate = product.annual_rate if annual_rate is None else annual_rate
    legal_cap = get_policy().ledger.annual_cost_cap
    costcap.check_contract_rate(rate, costcap.effective_cap(product.annual_cost_cap, legal_cap), legal_cap)
    term = product.term if term is None else term
    lines = generate_schedule(
        principal_fen=principal_fen,
        annual_rate=rate,
        term=term,
        method=product.method,
        start_date=disbursed_on,
        first_due_on=first_due_on,
    )
    if contract_number and session.scalar(select(Loan.id).where(Loan.contract_number == contract_number)):
        raise Conflict(
            f"合同编号已存在：{contract_number}",
            f"Contract exists: {contract_number}",
            code="contract_exists",
        )
    loan = Loan(
        contract_number=contract_number or f"TMP{uuid4().hex[:20]}",
        borrower_id=borrower_id,
        product_id=product.id,
        principal_fen=principal_fen,
        annual_rate=rate,
        term=term,
        method=product.method,
        disbursed_on=disbursed_on,
        status="current",
        days_past_due=0,
        bucket="M0",
        outstanding_principal_fen=principal_fen,
        oldest_unpaid_due_on=lines[0].due_on,
        next_due_on=lines[0].due_on,
        cost_charged_fen=0,
        credit_balance_fen=0,
    )
    session.add(loan)
    session.flush()
    if not contract_number:
        loan.contract_number = f"HT{disbursed_on:%Y%m%d}{loan.id:08d}"
    session.add_all(
        ScheduleLine(
            loan_id=loan.id,
            period=line.period,
            due_on=line.due_on,
            principal_fen=line.principal_fen,
            interest_fen=line.interest_fen,
        )
        for line in lines
    )
    session.flush()
    audit.record(
        session,
        actor,
        "loan.create",
        ("loan", loan.id),
        None,
        {
            "contract_number": loan.contract_number,
            "borrower_id": borrower_id,
            "product": product_code,
            "principal_fen": principal_fen,
            "annual_rate": rate,
            "term": term,
            "disbursed_on": disbursed_on,
        },
    )
    return loan


def _check_amount(amount_fen: object) -> int:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise Unprocessable(
            '金额必须是整数分（接口请使用元字符串，例如 "100.00"），不接受浮点数',
            'Amounts must be whole fen (the API takes yuan strings such as "100.00"); floats are refused',
            code="amount_not_integer",
        )
    if amount_fen <= 0:
        raise Unprocessable("金额必须大于 0", "The amount must be greater than 0", code="amount_not_positive")
    return amount_fen


def loan_by_contract(session: Session, contract_number: str) -> Loan:
    loan = session.scalar(select(Loan).where(Loan.contract_number == contract_number.strip().upper()))
    if loan is None:
        raise _not_found("合同", "contract", contract_number)
    return loan


def _lines(session: Session, loan_id: int) -> list[ScheduleLine]:
    return list(
        session.scalars(
            select(ScheduleLine).where(ScheduleLine.loan_id == loan_id).order_by(ScheduleLine.period)
        )
    )


def _due(line: ScheduleLine) -> alloc.Due:
    return alloc.Due(
        period=line.period,
        due_on=line.due_on,
        penalty=max(line.penalty_fen - line.paid_penalty_fen - line.waived_penalty_fen, 0),
        late_fee=max(line.late_fee_fen - line.paid_late_fee_fen - line.waived_late_fee_fen, 0),
        interest=max(line.interest_fen - line.paid_interest_fen, 0),
        principal=max(line.principal_fen - line.paid_principal_fen, 0),
        interest_paid=line.paid_interest_fen,
    )


# --- posting: the engine shared by new repayments and replays --------------------------------


@dataclass
class _Book:
    """A loan and its lines, changed in place by postings."""

    loan: Loan
    product: Product
    lines: list[ScheduleLine]

    @property
    def by_period(self) -> dict[int, ScheduleLine]:
        return {line.period: line for line in self.lines}

    def dues(self) -> list[alloc.Due]:
        return [_due(line) for line in self.lines]

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
            if _due(line).total == 0 and line.paid_off_on is None:
                line.paid_off_on = value_date


def _use_credit(book: _Book, value_date: date) -> None:
    """Credit from earlier over-payments pays the instalments payable on this date."""
    credit = book.loan.credit_balance_fen
    if credit <= 0:
        return
    style = get_policy().ledger.allocation_style
    used = alloc.allocate(credit, alloc.payable_on(book.dues(), value_date), order=book.order(), style=style)
    book.pay(used, value_date)
    book.loan.credit_balance_fen = used.credit_fen


def _post_regular(book: _Book, amount_fen: int, value_date: date) -> list[dict[str, Any]]:
    style = get_policy().ledger.allocation_style
    allocation = alloc.allocate(
        amount_fen, alloc.payable_on(book.dues(), value_date), order=book.order(), style=style
    )
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
    )
    return settlement.with_fee_room(quote, _fee_room(book, on, quote.accrued_interest_fen))


def _partial_fee_room(book: _Book, on: date, quote: settlement.SettlementQuote) -> int:
    """The fee room of a partial prepayment: the instalments not yet due keep room for their
    interest as scheduled before the prepayment (an upper bound of what they will charge)."""
    later = [
        (line.due_on, line.principal_fen - line.paid_principal_fen, line.interest_fen)
        for line in book.lines
        if line.due_on > on
    ]
    return _fee_room(book, on, quote.accrued_interest_fen, later)


def _fee_room(
    book: _Book, on: date, accrued_interest_fen: int, later: Sequence[tuple[date, int, int]] = ()
) -> int:
    """What an early repayment fee on `on` may take under the cost cap (costcap.headroom_fen).

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
        line.paid_interest_fen += accrued
        line.interest_fen = line.paid_interest_fen  # interest of later periods is not charged
        line.paid_principal_fen = line.principal_fen
        book.count_principal_repaid(principal, on)
        if accrued or principal:
            _merge(entries, line.period, interest=accrued, principal=principal)
    book.mark_paid_off(on)
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
    prepaid = settlement.principal_for_amount(available - quote.before_principal_fen, fee_percent, fee_room)
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
    )
    current = future[0]
    current.paid_interest_fen += quote.accrued_interest_fen
    current.paid_principal_fen += prepaid
    book.count_principal_repaid(prepaid, on)
    fee = min(settlement.early_repayment_fee(prepaid, fee_percent), max(fee_room, 0))
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


def _record_bucket_change(session: Session, loan: Loan, to_bucket: str, day: date) -> None:
    if loan.bucket == to_bucket:
        return
    existing = session.scalar(
        select(BucketTransition).where(
            BucketTransition.loan_id == loan.id, BucketTransition.business_date == day
        )
    )
    if existing is None:
        session.add(
            BucketTransition(
                loan_id=loan.id,
                business_date=day,
                from_bucket=loan.bucket,
                to_bucket=to_bucket,
                days_past_due=0,
            )
        )
    elif existing.from_bucket == to_bucket:
        session.delete(existing)  # moved out and back on the same day: no transition
    else:
        existing.to_bucket = to_bucket
        existing.days_past_due = 0
    loan.bucket = to_bucket


def _refresh_loan(
    session: Session, book: _Book, *, today: date, actor: audit.Actor, settled_on: date | None
) -> None:
    """Keep the loan's denormalised fields in step with its lines; settle or cure it when due."""
    loan, lines = book.loan, book.lines
    dues = {line.period: _due(line) for line in lines}
    unpaid = [line for line in lines if dues[line.period].total > 0]
    loan.outstanding_principal_fen = loan.principal_fen - sum(line.paid_principal_fen for line in lines)
    loan.oldest_unpaid_due_on = unpaid[0].due_on if unpaid else None
    loan.next_due_on = next((line.due_on for line in unpaid if line.due_on >= today), None)
    before = {"status": loan.status, "bucket": loan.bucket, "days_past_due": loan.days_past_due}
    if not unpaid:
        if loan.status != "settled":
            loan.status = "settled"
            loan.settled_on = settled_on or today
            loan.days_past_due = 0
            _record_bucket_change(session, loan, "M0", today)
            _issue_certificate(session, loan)
    elif loan.status == "settled":  # a reversal re-opened it
        loan.status, loan.settled_on = "current", None
        _revoke_certificate(session, loan, actor)
    overdue = [line for line in unpaid if line.due_on < today]
    if loan.status == "overdue" and not overdue:
        loan.status, loan.days_past_due = "current", 0
        _record_bucket_change(session, loan, "M0", today)
    elif (
        loan.status == "current"
        and overdue
        and overdue[0].due_on < today - timedelta(days=book.product.grace_days)
    ):
        # A reversal uncovered overdue instalments; tonight's close of business re-buckets the loan.
        loan.status, loan.days_past_due = "overdue", (today - overdue[0].due_on).days
    after = {"status": loan.status, "bucket": loan.bucket, "days_past_due": loan.days_past_due}
    if after != before:
        audit.record(session, actor, "loan.status", ("loan", loan.id), before, after)


def _issue_certificate(session: Session, loan: Loan) -> SettlementCertificate:
    total_paid = session.scalar(
        select(func.coalesce(func.sum(Repayment.amount_fen), 0)).where(
            Repayment.loan_id == loan.id, Repayment.status != "reversed"
        )
    )
    certificate = SettlementCertificate(
        number=f"JQ{loan.settled_on:%Y%m%d}{loan.id:08d}",
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


# --- repayments -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostingResult:
    repayment: Repayment
    duplicate: bool  # the same (channel, reference) was posted before: this is the first result


def _book(session: Session, loan: Loan) -> _Book:
    product = session.get(Product, loan.product_id)
    assert product is not None
    return _Book(loan=loan, product=product, lines=_lines(session, loan.id))


def post_repayment(
    session: Session,
    *,
    actor: audit.Actor,
    contract_number: str,
    channel: str,
    external_reference: str,
    amount_fen: int,
    value_date: date,
    today: date,
    kind: str = "regular",
) -> PostingResult:
    """Post a payment received on a channel; the same (channel, reference) is accepted once."""
    if channel not in CHANNELS:
        raise Unprocessable(
            f"未知的还款渠道：{channel}（可选：{', '.join(CHANNELS)}）",
            f"Unknown repayment channel: {channel} (one of: {', '.join(CHANNELS)})",
            code="unknown_channel",
        )
    reference = external_reference.strip()
    if not reference:
        raise Unprocessable("缺少渠道流水号", "The external reference is required", code="reference_required")
    _check_amount(amount_fen)
    if kind not in REPAYMENT_KINDS:
        raise Unprocessable(
            f"未知的还款类型：{kind}", f"Unknown repayment kind: {kind}", code="unknown_repayment_kind"
        )
    existing = session.scalar(
        select(Repayment).where(Repayment.channel == channel, Repayment.external_reference == reference)
    )
    loan = loan_by_contract(session, contract_number)
    if existing is not None:
        if (existing.loan_id, existing.amount_fen, existing.value_date) != (loan.id, amount_fen, value_date):
            raise Conflict(
                "该渠道流水号已用于另一笔不同的还款",
                "This channel reference was already used for a different repayment",
                code="reference_reused",
            )
        return PostingResult(existing, duplicate=True)
    if loan.status in ("settled", "written_off"):
        raise Conflict(
            f"贷款已{STATUS_LABELS_ZH[loan.status]}，不能再入账还款",
            f"The loan is {loan.status.replace('_', ' ')}; no repayment can be posted",
            code=f"loan_{loan.status}",
        )
    if value_date < loan.disbursed_on:
        raise Unprocessable(
            "还款日期不能早于放款日",
            "The value date cannot be before the disbursement date",
            code="date_before_disbursement",
        )
    if value_date > today:
        raise Unprocessable(
            "还款日期不能晚于今天", "The value date cannot be in the future", code="date_in_future"
        )
    repayment = Repayment(
        loan_id=loan.id,
        channel=channel,
        external_reference=reference,
        amount_fen=amount_fen,
        value_date=value_date,
        kind=kind,
        status="posted",
        posted_by=actor.name,
    )
    book = _book(session, loan)
    later = session.scalar(
        select(func.count(Repayment.id)).where(
            Repayment.loan_id == loan.id, Repayment.status != "reversed", Repayment.value_date > value_date
        )
    )
    session.add(repayment)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent request posted the same reference first
        raise Conflict(
            "同一渠道流水号正在入账，请重试",
            "The same reference is being posted; retry",
            code="reference_in_flight",
        ) from exc
    if later:
        # A back-dated payment: allocate everything again in value-date order.
        _replay(session, book, today=today, actor=actor)
    else:
        _apply_repayment(book, repayment, replaying=False)
        _refresh_loan(session, book, today=today, actor=actor, settled_on=value_date)
    session.flush()
    audit.record(
        session,
        actor,
        "repayment.post",
        ("loan", loan.id),
        None,
        {
            "repayment_id": repayment.id,
            "channel": channel,
            "reference": reference,
            "amount_fen": amount_fen,
            "value_date": value_date,
            "kind": kind,
            "allocation": repayment.allocation,
        },
    )
    return PostingResult(repayment, duplicate=False)


def _original_schedule(loan: Loan, lines: Sequence[ScheduleLine]) -> dict[int, tuple[int, int]]:
    first_due_on = lines[0].due_on
    regular_months = loan.term if loan.method == Method.BULLET else 1
    regular = add_months(loan.disbursed_on, regular_months) == first_due_on
    schedule = generate_schedule(
        principal_fen=loan.principal_fen,
        annual_rate=loan.annual_rate,
        term=loan.term,
        method=loan.method,
        start_date=loan.disbursed_on,
        first_due_on=None if regular else first_due_on,
    )
    return {line.period: (line.principal_fen, line.interest_fen) for line in schedule}


def _replay(session: Session, book: _Book, *, today: date, actor: audit.Actor) -> None:
    """Re-allocate every repayment not reversed from a clean state, in value-date order.

    Penalties and late fees that the close of business accrued on the lines (and their waivers)
    stay; what was paid, and the principal and interest that prepayments re-scheduled, start over.
    """
    original = _original_schedule(book.loan, book.lines)
    for line in book.lines:
        line.principal_fen, line.interest_fen = original[line.period]
        line.paid_principal_fen = line.paid_interest_fen = line.paid_penalty_fen = line.paid_late_fee_fen = 0
        line.paid_off_on = None
    book.loan.credit_balance_fen = 0
    book.loan.principal_days_repaid = book.loan.early_repayment_fees_fen = 0
    session.flush()
    repayments = session.scalars(
        select(Repayment)
        .where(Repayment.loan_id == book.loan.id, Repayment.status != "reversed")
        .order_by(Repayment.value_date, Repayment.id)
    ).all()
    for repayment in repayments:
        _apply_repayment(book, repayment, replaying=True)
    last_value_date = repayments[-1].value_date if repayments else None
    _refresh_loan(session, book, today=today, actor=actor, settled_on=last_value_date)


def request_reversal(session: Session, *, actor: audit.Actor, repayment_id: int, reason: str) -> Repayment:
    """An agent or collector asks for a repayment to be reversed; a team lead approves."""
    repayment = _repayment(session, repayment_id)
    if not reason.strip():
        raise Unprocessable("冲正须填写原因", "A reversal needs a reason", code="reason_required")
    if repayment.status != "posted":
        raise Conflict(
            "该笔还款已申请冲正或已冲正",
            "This repayment is already under reversal or reversed",
            code="not_reversible",
        )
    repayment.status = "reversal_requested"
    repayment.reversal_reason = reason.strip()
    repayment.reversal_requested_by = actor.name
    audit.record(
        session,
        actor,
        "repayment.reversal_request",
        ("loan", repayment.loan_id),
        {"repayment_id": repayment.id, "status": "posted"},
        {"repayment_id": repayment.id, "status": "reversal_requested", "reason": repayment.reversal_reason},
    )
    return repayment


def approve_reversal(session: Session, *, actor: audit.Actor, repayment_id: int, today: date) -> Repayment:
    """Reverse the repayment and re-allocate every repayment after it (four eyes: not the requester)."""
    repayment = _repayment(session, repayment_id)
    if repayment.status != "reversal_requested":
        raise Conflict(
            "该笔还款没有待审批的冲正申请",
            "No reversal is pending for this repayment",
            code="no_pending_reversal",
        )
    if repayment.reversal_requested_by == actor.name:
        raise Forbidden(
            "不能审批自己提交的冲正申请", "You cannot approve your own reversal request", code="own_request"
        )
    loan = session.get(Loan, repayment.loan_id)
    assert loan is not None
    before = {
        "repayment_id": repayment.id,
        "status": repayment.status,
        "outstanding_principal_fen": loan.outstanding_principal_fen,
    }
    repayment.status = "reversed"
    repayment.reversal_approved_by = actor.name
    repayment.reversed_at = utcnow()
    session.flush()
    _replay(session, _book(session, loan), today=today, actor=actor)
    audit.record(
        session,
        actor,
        "repayment.reverse",
        ("loan", loan.id),
        before,
        {
            "repayment_id": repayment.id,
            "status": "reversed",
            "outstanding_principal_fen": loan.outstanding_principal_fen,
        },
    )
    return repayment


def reject_reversal(session: Session, *, actor: audit.Actor, repayment_id: int, note: str = "") -> Repayment:
    repayment = _repayment(session, repayment_id)
    if repayment.status != "reversal_requested":
        raise Conflict(
            "该笔还款没有待审批的冲正申请",
            "No reversal is pending for this repayment",
            code="no_pending_reversal",
        )
    repayment.status = "posted"
    audit.record(
        session,
        actor,
        "repayment.reversal_reject",
        ("loan", repayment.loan_id),
        {"repayment_id": repayment.id, "status": "reversal_requested"},
        {"repayment_id": repayment.id, "status": "posted", "note": note},
    )
    return repayment


def _repayment(session: Session, repayment_id: int) -> Repayment:
    repayment = session.get(Repayment, repayment_id)
    if repayment is None:
        raise _not_found("还款记录", "repayment", repayment_id)
    return repayment


def apply_credit_balances(session: Session, *, business_date: date) -> int:
    """Let credit balances pay the instalments payable on `business_date` (for the close of business).

    Only loans holding credit are touched (a handful); returns how many changed.
    """
    loans = session.scalars(
        select(Loan).where(Loan.credit_balance_fen > 0, Loan.status.in_(("current", "overdue")))
    ).all()
    changed = 0
    for loan in loans:
        book = _book(session, loan)
        credit = loan.credit_balance_fen
        _use_credit(book, business_date)
        if loan.credit_balance_fen != credit:
            _refresh_loan(
                session, book, today=business_date, actor=audit.Actor.system("cob"), settled_on=business_date
            )
            changed += 1
    return changed


# --- quotes and certificates ----------------------------------------------------------------------


def settlement_quote(session: Session, *, contract_number: str, on: date) -> settlement.SettlementQuote:
    loan = loan_by_contract(session, contract_number)
    _check_open(loan)
    return _quote(_book(session, loan), on)


def partial_quote(
    session: Session, *, contract_number: str, on: date, prepaid_principal_fen: int
) -> settlement.PartialQuote:
    loan = loan_by_contract(session, contract_number)
    _check_open(loan)
    _check_amount(prepaid_principal_fen)
    book = _book(session, loan)
    quote = settlement.quote_partial(
        book.dues(),
        annual_rate=loan.annual_rate,
        method=loan.method,
        disbursed_on=loan.disbursed_on,
        on=on,
        prepaid_principal_fen=prepaid_principal_fen,
        fee_percent=book.product.early_repayment_fee_percent,
        credit_fen=loan.credit_balance_fen,
    )
    base = _quote(book, on)
    room = _partial_fee_room(book, on, base)
    return replace(quote, base=base, fee_fen=min(quote.fee_fen, max(room, 0)))


def _check_open(loan: Loan) -> None:
    if loan.status in ("settled", "written_off"):
        raise Conflict(
            f"贷款已{STATUS_LABELS_ZH[loan.status]}",
            f"The loan is {loan.status.replace('_', ' ')}",
            code=f"loan_{loan.status}",
        )


def certificate_for(session: Session, *, contract_number: str) -> SettlementCertificate:
    loan = loan_by_contract(session, contract_number)
    certificate = session.scalar(
        select(SettlementCertificate).where(SettlementCertificate.loan_id == loan.id)
    )
    if certificate is None:
        raise NotFound(
            "该贷款尚未结清，没有结清证明", "The loan is not settled: no certificate", code="no_certificate"
        )
    return certificate


# --- search and borrower 360 ------------------------------------------------------------------------


@dataclass(frozen=True)
class Disclosure:
    """What a role may see in full."""

    full_pii: bool
    borrower_mobile: bool

    @classmethod
    def for_role(cls, role: str) -> Disclosure:
        policy = get_policy().ledger
        return cls(
            full_pii=role in policy.pii_full_roles, borrower_mobile=role in policy.borrower_mobile_roles
        )

    def id_number(self, value: str) -> str:
        return value if self.full_pii else mask_id_number(value)

    def mobile(self, value: str, *, third_party: bool) -> str:
        visible = self.full_pii if third_party else self.borrower_mobile or self.full_pii
        return value if visible else mask_mobile(value)

    def address(self, value: str | None) -> str | None:
        return value if value is None or self.full_pii else mask_address(value)


@dataclass(frozen=True)
class BorrowerHit:
    id: int
    name: str
    id_number: str
    mobile: str
    contracts: list[str]


_ID_TAIL = re.compile(r"^\d{3,5}[\dX]$")


def search_borrowers(session: Session, *, query: str, role: str, limit: int = 20) -> list[BorrowerHit]:
    """Find borrowers by name, mobile, ID-number tail (4–6 characters) or contract number."""
    text = query.strip().upper()
    if not text:
        return []
    statement = select(Borrower)
    digits = re.sub(r"[\s-]", "", text)
    if text.startswith("HT"):
        statement = statement.join(Loan, Loan.borrower_id == Borrower.id).where(
            Loan.contract_number.startswith(text)
        )
    elif re.fullmatch(r"(\+86|0086)?1\d{10}", digits):
        mobile = digits[-11:]
        contact_owner = select(BorrowerContact.borrower_id).where(
            BorrowerContact.mobile == mobile, BorrowerContact.is_third_party.is_(False)
        )
        statement = statement.where(or_(Borrower.mobile == mobile, Borrower.id.in_(contact_owner)))
    elif _ID_TAIL.match(text):
        statement = statement.where(Borrower.id_number.endswith(text))
    elif len(text) == 18:
        statement = statement.where(Borrower.id_number == text)
    else:
        statement = statement.where(Borrower.name.contains(query.strip()))
    borrowers = session.scalars(statement.distinct().order_by(Borrower.id).limit(limit)).all()
    disclosure = Disclosure.for_role(role)
    contracts: dict[int, list[str]] = {b.id: [] for b in borrowers}
    if borrowers:
        for borrower_id, number in session.execute(
            select(Loan.borrower_id, Loan.contract_number)
            .where(Loan.borrower_id.in_(contracts))
            .order_by(Loan.id)
        ):
            contracts[borrower_id].append(number)
    return [
        BorrowerHit(
            id=b.id,
            name=b.name,
            id_number=disclosure.id_number(b.id_number),
            mobile=disclosure.mobile(b.mobile, third_party=False),
            contracts=contracts[b.id],
        )
        for b in borrowers
    ]


@dataclass(frozen=True)
class ContactView:
    id: int
    relation: str
    name: str
    mobile: str
    is_third_party: bool


@dataclass(frozen=True)
class LineView:
    period: int
    due_on: date
    principal_fen: int
    interest_fen: int
    penalty_fen: int
    late_fee_fen: int
    paid_fen: int
    waived_fen: int
    outstanding_fen: int
    state: str  # paid, partly_paid, unpaid, overdue
    paid_off_on: date | None

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.interest_fen + self.penalty_fen + self.late_fee_fen


@dataclass(frozen=True)
class RepaymentView:
    id: int
    channel: str
    external_reference: str
    amount_fen: int
    value_date: date
    kind: str
    status: str
    posted_by: str
    allocation: list[dict[str, Any]]
    reversal_reason: str | None
    reversal_requested_by: str | None
    reversal_approved_by: str | None


@dataclass(frozen=True)
class BucketChange:
    business_date: date
    from_bucket: str
    to_bucket: str
    days_past_due: int


@dataclass(frozen=True)
class LoanView:
    id: int
    contract_number: str
    borrower_id: int
    product_code: str
    product_name: str
    principal_fen: int
    annual_rate: Decimal
    term: int
    method: str
    disbursed_on: date
    status: str
    bucket: str
    days_past_due: int
    outstanding_principal_fen: int
    credit_balance_fen: int
    overdue_fen: int
    next_due_on: date | None
    next_due_fen: int
    settled_on: date | None
    certificate_number: str | None
    lines: list[LineView] = field(default_factory=list)
    repayments: list[RepaymentView] = field(default_factory=list)
    bucket_history: list[BucketChange] = field(default_factory=list)
    cost: CostDisclosure | None = None


@dataclass(frozen=True)
class CostDisclosure:
    """The loan's cost against the cap and its annualised rate by the IRR method (costcap)."""

    annual_cost_cap: Decimal
    cost_charged_fen: int  # interest fallen due + penalties + late fees + early repayment fees
    cost_cap_fen: int  # the cap on the principal-days outstanding up to today
    irr_annual_rate: Decimal | None  # actual cash flows, the rest of the schedule as projected

    @property
    def cost_cap_room_fen(self) -> int:
        return self.cost_cap_fen - self.cost_charged_fen


def _cost_disclosure(
    loan: Loan, product: Product, lines: Sequence[LineView], repayments: Sequence[Repayment], today: date
) -> CostDisclosure:
    legal_cap = get_policy().ledger.annual_cost_cap
    basis = costcap.principal_days(
        loan.principal_days_repaid, loan.outstanding_principal_fen, loan.disbursed_on, today
    )
    flows = costcap.loan_cash_flows(
        principal_fen=loan.principal_fen,
        disbursed_on=loan.disbursed_on,
        receipts=[(r.value_date, r.amount_fen) for r in repayments if r.status != "reversed"],
        still_owed=[(line.due_on, line.outstanding_fen) for line in lines],
        credit_fen=loan.credit_balance_fen,
        today=today,
    )
    return CostDisclosure(
        annual_cost_cap=costcap.effective_cap(product.annual_cost_cap, legal_cap),
        cost_charged_fen=loan.cost_charged_fen + loan.early_repayment_fees_fen,
        cost_cap_fen=costcap.cap_on(basis, costcap.cap_ppm_of(product.annual_cost_cap, legal_cap)),
        irr_annual_rate=costcap.annualised_irr(flows),
    )


@dataclass(frozen=True)
class Borrower360:
    id: int
    name: str
    id_number: str
    mobile: str
    email: str | None
    address: str | None
    employer: str | None
    preferred_channel: str | None
    preferred_contact_time: str | None
    full_pii: bool
    contacts: list[ContactView]
    loans: list[LoanView]

    @property
    def overdue_fen(self) -> int:
        return sum(loan.overdue_fen for loan in self.loans)

    @property
    def outstanding_principal_fen(self) -> int:
        return sum(loan.outstanding_principal_fen for loan in self.loans)


def _line_view(line: ScheduleLine, today: date) -> LineView:
    outstanding = _due(line).total
    paid = line.paid_principal_fen + line.paid_interest_fen + line.paid_penalty_fen + line.paid_late_fee_fen
    if outstanding == 0:
        state = "paid"
    elif line.due_on < today:
        state = "overdue"
    elif paid:
        state = "partly_paid"
    else:
        state = "unpaid"
    return LineView(
        period=line.period,
        due_on=line.due_on,
        principal_fen=line.principal_fen,
        interest_fen=line.interest_fen,
        penalty_fen=line.penalty_fen,
        late_fee_fen=line.late_fee_fen,
        paid_fen=paid,
        waived_fen=line.waived_penalty_fen + line.waived_late_fee_fen,
        outstanding_fen=outstanding,
        state=state,
        paid_off_on=line.paid_off_on,
    )


def loan_view(session: Session, *, loan: Loan, today: date) -> LoanView:
    product = session.get(Product, loan.product_id)
    assert product is not None
    lines = [_line_view(line, today) for line in _lines(session, loan.id)]
    repayments = session.scalars(
        select(Repayment)
        .where(Repayment.loan_id == loan.id)
        .order_by(Repayment.value_date.desc(), Repayment.id.desc())
    ).all()
    transitions = session.scalars(
        select(BucketTransition)
        .where(BucketTransition.loan_id == loan.id)
        .order_by(BucketTransition.business_date)
    ).all()
    certificate = session.scalar(
        select(SettlementCertificate.number).where(SettlementCertificate.loan_id == loan.id)
    )
    upcoming = [line for line in lines if line.due_on >= today and line.outstanding_fen > 0]
    return LoanView(
        id=loan.id,
        contract_number=loan.contract_number,
        borrower_id=loan.borrower_id,
        product_code=product.code,
        product_name=product.name,
        principal_fen=loan.principal_fen,
        annual_rate=loan.annual_rate,
        term=loan.term,
        method=loan.method,
        disbursed_on=loan.disbursed_on,
        status=loan.status,
        bucket=loan.bucket,
        days_past_due=loan.days_past_due,
        outstanding_principal_fen=loan.outstanding_principal_fen,
        credit_balance_fen=loan.credit_balance_fen,
        overdue_fen=sum(line.outstanding_fen for line in lines if line.due_on < today),
        next_due_on=upcoming[0].due_on if upcoming else None,
        next_due_fen=upcoming[0].outstanding_fen if upcoming else 0,
        settled_on=loan.settled_on,
        certificate_number=certificate,
        lines=lines,
        repayments=[
            RepaymentView(
                id=r.id,
                channel=r.channel,
                external_reference=r.external_reference,
                amount_fen=r.amount_fen,
                value_date=r.value_date,
                kind=r.kind,
                status=r.status,
                posted_by=r.posted_by,
                allocation=r.allocation or [],
                reversal_reason=r.reversal_reason,
                reversal_requested_by=r.reversal_requested_by,
                reversal_approved_by=r.reversal_approved_by,
            )
            for r in repayments
        ],
        bucket_history=[
            BucketChange(t.business_date, t.from_bucket, t.to_bucket, t.days_past_due) for t in transitions
        ],
        cost=_cost_disclosure(loan, product, lines, repayments, today),
    )


def borrower_360(session: Session, *, borrower_id: int, role: str, today: date) -> Borrower360:
    """Everything about a borrower, with personal data masked as the viewer's role requires."""
    borrower = session.get(Borrower, borrower_id)
    if borrower is None:
        raise _not_found("借款人", "borrower", borrower_id)
    disclosure = Disclosure.for_role(role)
    contacts = session.scalars(
        select(BorrowerContact).where(BorrowerContact.borrower_id == borrower_id).order_by(BorrowerContact.id)
    ).all()
    loans = session.scalars(select(Loan).where(Loan.borrower_id == borrower_id).order_by(Loan.id)).all()
    return Borrower360(
        id=borrower.id,
        name=borrower.name,
        id_number=disclosure.id_number(borrower.id_number),
        mobile=disclosure.mobile(borrower.mobile, third_party=False),
        email=borrower.email,
        address=disclosure.address(borrower.address),
        employer=borrower.employer,
        preferred_channel=borrower.preferred_channel,
        preferred_contact_time=borrower.preferred_contact_time,
        full_pii=disclosure.full_pii,
        contacts=[
            ContactView(
                id=c.id,
                relation=c.relation,
                name=c.name,
                mobile=disclosure.mobile(c.mobile, third_party=c.is_third_party),
                is_third_party=c.is_third_party,
            )
            for c in contacts
        ],
        loans=[loan_view(session, loan=loan, today=today) for loan in loans],
    )


@dataclass(frozen=True)
class CertificateView:
    number: str
    contract_number: str
    borrower_name: str
    borrower_id_number: str
    principal_fen: int
    disbursed_on: date
    settled_on: date
    total_paid_fen: int
    issued_at: Any


def certificate_view(session: Session, *, contract_number: str, role: str) -> CertificateView:
    """The settlement certificate (结清证明) as shown and printed, masked for the viewer's role."""
    certificate = certificate_for(session, contract_number=contract_number)
    loan = session.get(Loan, certificate.loan_id)
    assert loan is not None
    borrower = session.get(Borrower, loan.borrower_id)
    assert borrower is not None
    return CertificateView(
        number=certificate.number,
        contract_number=loan.contract_number,
        borrower_name=borrower.name,
        borrower_id_number=Disclosure.for_role(role).id_number(borrower.id_number),
        principal_fen=loan.principal_fen,
        disbursed_on=loan.disbursed_on,
        settled_on=certificate.settled_on,
        total_paid_fen=certificate.total_paid_fen,
        issued_at=certificate.issued_at,
    )


def loan_detail(session: Session, *, contract_number: str, today: date) -> LoanView:
    return loan_view(session, loan=loan_by_contract(session, contract_number), today=today)


def create_borrower_with_contacts(
    session: Session, *, actor: audit.Actor, contacts: Sequence[dict[str, str]] = (), **details: Any
) -> Borrower:
    borrower = create_borrower(session, actor=actor, **details)
    for contact in contacts:
        add_contact(session, actor=actor, borrower_id=borrower.id, **contact)
    return borrower


# --- the portfolio at a glance (home page) --------------------------------------------------------


@dataclass(frozen=True)
class PortfolioGlance:
    active_loans: int
    overdue_loans: int
    overdue_principal_fen: int
    by_bucket: dict[str, int]

    @property
    def overdue_share(self) -> float:
        return self.overdue_loans / self.active_loans if self.active_loans else 0.0


def portfolio_glance(session: Session) -> PortfolioGlance:
    """Active loans, how many are overdue and their outstanding principal, by bucket (one query)."""
    rows = session.execute(
        select(Loan.bucket, Loan.status, func.count(Loan.id), func.sum(Loan.outstanding_principal_fen))
        .where(Loan.status.in_(("current", "overdue")))
        .group_by(Loan.bucket, Loan.status)
    ).all()
    overdue = [row for row in rows if row.status == "overdue"]
    return PortfolioGlance(
        active_loans=sum(row[2] for row in rows),
        overdue_loans=sum(row[2] for row in overdue),
        overdue_principal_fen=int(sum(row[3] or 0 for row in overdue)),
        by_bucket={row.bucket: row[2] for row in sorted(overdue, key=lambda row: row.bucket)},
    )
