"""Use cases of the loan ledger. Functions take a Session and never commit.

`account_summary` and `find_borrower` are the ledger's read interface for other rooms (desk side
panel and macros, collections); keep their signatures stable.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.db import utcnow
from lenddesk.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from lenddesk.core.money import Rounding, format_fen
from lenddesk.core.pii import (
    mask_address,
    mask_email,
    mask_employer,
    mask_id_number,
    mask_mobile,
    validate_id_number,
    validate_mobile,
)
from lenddesk.core.policy import get_policy
from lenddesk.ledger import access, costcap, settlement, transitions
from lenddesk.ledger import allocation as alloc
from lenddesk.ledger.delinquency import DelinquencyRules, Standing, loan_standing
from lenddesk.ledger.locking import lock_loan
from lenddesk.ledger.models import (
    Borrower,
    BorrowerContact,
    BucketTransition,
    CreditRefund,
    Loan,
    Product,
    Recovery,
    Repayment,
    ScheduleLine,
    SettlementCertificate,
    Waiver,
)
from lenddesk.ledger.owed import owed_components, owed_fen
from lenddesk.ledger.schedule import Method, generate_schedule


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


def _rounding() -> Rounding:
    """The policy's rounding rule, for every amount the ledger rounds."""
    return get_policy().money.rounding


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
        principal_fen=100,
        annual_rate=annual_rate,
        term=term,
        method=method,
        start_date=date(2026, 1, 1),
        rounding=_rounding(),
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
        rounding=_rounding(),
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
            original_principal_fen=line.principal_fen,
            original_interest_fen=line.interest_fen,
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
        period=line.period, due_on=line.due_on, interest_paid=line.paid_interest_fen, **owed_components(line)
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
        rounding=_rounding(),
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


def _record_bucket_change(session: Session, loan: Loan, standing: Standing, day: date) -> None:
    """Move the loan to its standing; a bucket change is upserted as the day's transition."""
    if standing.bucket != loan.bucket:
        transitions.record(
            session,
            loan_id=loan.id,
            business_date=day,
            from_bucket=loan.bucket,
            to_bucket=standing.bucket,
            days_past_due=standing.days_past_due,
        )
    loan.status, loan.bucket, loan.days_past_due = standing.status, standing.bucket, standing.days_past_due


def _refresh_loan(
    session: Session, book: _Book, *, today: date, actor: audit.Actor, settled_on: date | None
) -> None:
    """Keep the loan's denormalised fields in step with its lines, and its status, bucket and days
    past due with `loan_standing` — the same rule as the close of business."""
    loan, lines = book.loan, book.lines
    unpaid = [line for line in lines if owed_fen(line) > 0]
    loan.outstanding_principal_fen = loan.principal_fen - sum(line.paid_principal_fen for line in lines)
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
    _record_bucket_change(session, loan, standing, today)
    if standing.status == "settled" and not was_settled:
        loan.settled_on = settled_on or today
        _issue_certificate(session, loan)
    elif was_settled and standing.status != "settled":  # a reversal re-opened it
        loan.settled_on = None
        _revoke_certificate(session, loan, actor)
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


def _locked_loan(session: Session, loan_id: int) -> Loan:
    loan = lock_loan(session, loan_id)
    assert loan is not None  # loans are never deleted
    return loan


def _locked_repayment(session: Session, repayment_id: int) -> Repayment:
    """The repayment with its loan locked, both read after the lock."""
    repayment = _repayment(session, repayment_id)
    _locked_loan(session, repayment.loan_id)
    session.refresh(repayment)
    return repayment


def _same_reference(session: Session, channel: str, reference: str) -> Repayment | None:
    return session.scalar(
        select(Repayment)
        .where(Repayment.channel == channel, Repayment.external_reference == reference)
        .execution_options(populate_existing=True)
    )


def _replay_or_refuse(existing: Repayment, loan_id: int, amount_fen: int, value_date: date) -> PostingResult:
    """The same (channel, reference) again: the first result if it is the same payment, else 409."""
    if (existing.loan_id, existing.amount_fen, existing.value_date) != (loan_id, amount_fen, value_date):
        raise Conflict(
            "该渠道流水号已用于另一笔不同的还款",
            "This channel reference was already used for a different repayment",
            code="reference_reused",
        )
    return PostingResult(existing, duplicate=True)


def _constraint_of(error: IntegrityError) -> str:
    diagnostics = getattr(error.orig, "diag", None)  # psycopg names the constraint
    name = getattr(diagnostics, "constraint_name", None)
    return name or str(error.orig).splitlines()[0]


def _insert_repayment(session: Session, repayment: Repayment) -> Repayment | None:
    """Insert; when a payment on another loan took the reference meanwhile, return that one instead.

    Only PostgreSQL can see that race (the loan lock covers one loan); on SQLite the write gate held
    since before the reference was checked excludes it, so no savepoint is spent there.
    """
    if session.get_bind().dialect.name == "sqlite":
        try:
            session.add(repayment)
            session.flush()
        except IntegrityError as exc:
            raise _integrity_conflict(exc) from exc
        return None
    try:
        with session.begin_nested():
            session.add(repayment)
            session.flush()
    except IntegrityError as exc:
        existing = _same_reference(session, repayment.channel, repayment.external_reference)
        if existing is None:
            raise _integrity_conflict(exc) from exc
        return existing
    return None


def _integrity_conflict(error: IntegrityError) -> Conflict:
    constraint = _constraint_of(error)
    return Conflict(
        f"数据库拒绝写入这笔还款（约束 {constraint}），未入账",
        f"The database refused to store the repayment (constraint {constraint}); nothing was posted",
        code="integrity_conflict",
        details={"constraint": constraint},
    )


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
    unlocked = loan_by_contract(session, contract_number)
    session.get(Product, unlocked.product_id)  # read before the lock: postings never change products
    loan = _locked_loan(session, unlocked.id)
    existing = _same_reference(session, channel, reference)
    if existing is not None:
        return _replay_or_refuse(existing, loan.id, amount_fen, value_date)
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
    raced = _insert_repayment(session, repayment)
    if raced is not None:
        return _replay_or_refuse(raced, loan.id, amount_fen, value_date)
    if later:
        # A back-dated payment: allocate everything again in value-date order.
        _replay(session, book, today=today, actor=actor, posting=repayment)
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


def _original_schedule(lines: Sequence[ScheduleLine]) -> dict[int, tuple[int, int]]:
    """The principal and interest stored when the loan was made, never a schedule generated anew
    (a rate, a rounding rule or a maturity convention changed since must not change old loans)."""
    return {line.period: (line.original_principal_fen, line.original_interest_fen) for line in lines}


class _PrepaymentBehindLaterPayment(Conflict):
    default_code = "prepayment_behind_later_payment"


def _replay(
    session: Session,
    book: _Book,
    *,
    today: date,
    actor: audit.Actor,
    posting: Repayment | None = None,
) -> None:
    """Re-allocate every repayment not reversed from a clean state, in value-date order.

    Penalties and late fees that the close of business accrued on the lines (and their waivers)
    stay; what was paid, and the principal and interest that prepayments re-scheduled, start over.
    An earlier early repayment that no longer fits pays as a regular one; the one being `posting`
    (back-dated behind a later payment) is refused instead.
    """
    original = _original_schedule(book.lines)
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
        if repayment is not posting:
            _apply_repayment(book, repayment, replaying=True)
            continue
        try:
            _apply_repayment(book, repayment, replaying=False)
        except Unprocessable as error:
            raise _behind_later_payment(repayment, error) from None
    _deduct_refunds(session, book)
    _use_credit(book, today)  # what is left over pays what is payable today, as a new posting would
    last_value_date = repayments[-1].value_date if repayments else None
    _refresh_loan(session, book, today=today, actor=actor, settled_on=last_value_date)


def _behind_later_payment(repayment: Repayment, reason: Unprocessable) -> Conflict:
    day = repayment.value_date
    return _PrepaymentBehindLaterPayment(
        f"提前还款的起息日 {day} 早于本贷款已入账的还款：按起息日顺序重新分配后不能作为提前还款入账"
        f"（{reason.message_zh}）。请以当前日期入账，或先冲正较晚的还款。",
        f"The early repayment is dated {day}, before a repayment already posted on this loan: put back"
        f" in value-date order it no longer applies as an early repayment ({reason.message_en})."
        " Post it with today's date, or reverse the later repayment first.",
        details={"value_date": day.isoformat(), "reason": reason.code, **(reason.details or {})},
    )


def request_reversal(session: Session, *, actor: audit.Actor, repayment_id: int, reason: str) -> Repayment:
    """An agent or collector asks for a repayment to be reversed; a team lead approves."""
    repayment = _locked_repayment(session, repayment_id)
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
    repayment = _locked_repayment(session, repayment_id)
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
    loan = session.get(Loan, repayment.loan_id)  # locked and read by _locked_repayment
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
    repayment = _locked_repayment(session, repayment_id)
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
    holding_credit = select(Loan.id).where(
        Loan.credit_balance_fen > 0, Loan.status.in_(("current", "overdue"))
    )
    changed = 0
    for loan_id in session.scalars(holding_credit.order_by(Loan.id)).all():
        loan = _locked_loan(session, loan_id)  # in id order: no deadlock with another locker
        if loan.credit_balance_fen <= 0 or loan.status not in ("current", "overdue"):
            continue  # used or closed since the list was read
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
        rounding=_rounding(),
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

    def email(self, value: str | None) -> str | None:
        # The borrower's own contact detail, like their mobile.
        visible = value is None or self.borrower_mobile or self.full_pii
        return value if visible else mask_email(value)

    def employer(self, value: str | None) -> str | None:
        return value if value is None or self.full_pii else mask_employer(value)


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
class RecoveryView:
    id: int
    channel: str
    external_reference: str
    amount_fen: int
    value_date: date
    posted_by: str


@dataclass(frozen=True)
class RefundView:
    id: int
    reference: str
    amount_fen: int
    reason: str
    status: str
    requested_by: str
    decided_by: str | None


@dataclass(frozen=True)
class WaiverView:
    id: int
    component: str
    amount_fen: int
    reason: str
    status: str
    requested_by: str
    approved_by: str | None
    applied_on: date | None


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
    recoveries: list[RecoveryView] = field(default_factory=list)
    refunds: list[RefundView] = field(default_factory=list)
    waivers: list[WaiverView] = field(default_factory=list)

    @property
    def recovered_fen(self) -> int:
        return sum(recovery.amount_fen for recovery in self.recoveries)

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
        waived_fen=line.waived_penalty_fen + line.waived_late_fee_fen + line.waived_interest_fen,
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
        **_loan_paths(session, loan.id),
        cost=_cost_disclosure(loan, product, lines, repayments, today),
    )


def _loan_paths(session: Session, loan_id: int) -> dict[str, Any]:
    """Recoveries, refunds and waivers of a loan, newest first (the loan page's history)."""

    def rows(model: Any) -> Sequence[Any]:
        return session.scalars(select(model).where(model.loan_id == loan_id).order_by(model.id.desc())).all()

    return {
        "recoveries": [
            RecoveryView(r.id, r.channel, r.external_reference, r.amount_fen, r.value_date, r.posted_by)
            for r in rows(Recovery)
        ],
        "refunds": [
            RefundView(r.id, r.reference, r.amount_fen, r.reason, r.status, r.requested_by, r.decided_by)
            for r in rows(CreditRefund)
        ],
        "waivers": [
            WaiverView(
                w.id,
                w.component,
                w.amount_fen,
                w.reason,
                w.status,
                w.requested_by,
                w.approved_by,
                w.applied_on,
            )
            for w in rows(Waiver)
        ],
    }


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
        email=disclosure.email(borrower.email),
        address=disclosure.address(borrower.address),
        employer=disclosure.employer(borrower.employer),
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


# --- loan locking -----------------------------------------------------------------------------------


def _lock_loan(session: Session, loan_id: int) -> Loan:
    """The loan, locked for this transaction (`locking.lock_loan`), or 404."""
    loan = lock_loan(session, loan_id)
    if loan is None:
        raise _not_found("贷款", "loan", loan_id)
    return loan


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


_MAX_FEN = 2**63 - 1


def _check_money(amount_fen: object) -> int:
    amount = _check_amount(amount_fen)
    if amount > _MAX_FEN:
        raise Unprocessable("金额过大", "The amount is too large", code="amount_too_large")
    return amount


def _required_text(text: str, what_zh: str, what_en: str, code: str, max_length: int = 255) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise Unprocessable(f"须填写{what_zh}", f"The {what_en} is required", code=code)
    if len(cleaned) > max_length:
        raise Unprocessable(
            f"{what_zh}过长（最多 {max_length} 字）",
            f"The {what_en} is too long (at most {max_length} characters)",
            code=f"{what_en}_too_long",
        )
    if any(0xD800 <= ord(char) <= 0xDFFF for char in cleaned):
        raise Unprocessable(
            f"{what_zh}含有无效字符", f"The {what_en} contains invalid characters", code="invalid_text"
        )
    return cleaned


# --- recoveries on written-off loans -----------------------------------------------------------------


@dataclass(frozen=True)
class RecoveryResult:
    recovery: Recovery
    duplicate: bool  # the same (channel, reference) was posted before: this is the first result


def written_off_balance_fen(session: Session, loan: Loan) -> int:
    """What was owed on the lines when the loan was written off (lines do not move afterwards)."""
    return sum(_due(line).total for line in _lines(session, loan.id))


def recovered_fen(session: Session, loan_id: int) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(Recovery.amount_fen), 0)).where(Recovery.loan_id == loan_id)
    )
    return int(total or 0)


def post_recovery(
    session: Session,
    *,
    actor: audit.Actor,
    contract_number: str,
    channel: str,
    external_reference: str,
    amount_fen: int,
    value_date: date,
    today: date,
) -> RecoveryResult:
    """Money received on a written-off loan (核销后回收), kept apart from repayments.

    The loan stays written off until recoveries cover what was owed at write-off; then it is
    settled and a certificate issued. Anything beyond that is a credit balance (refundable).
    """
    if channel not in CHANNELS:
        raise Unprocessable(
            f"未知的还款渠道：{channel}（可选：{', '.join(CHANNELS)}）",
            f"Unknown repayment channel: {channel} (one of: {', '.join(CHANNELS)})",
            code="unknown_channel",
        )
    reference = _required_text(
        external_reference, "渠道流水号", "external reference", "reference_required", 64
    )
    amount_fen = _check_money(amount_fen)
    loan = _lock_loan(session, loan_by_contract(session, contract_number).id)
    existing = session.scalar(
        select(Recovery).where(Recovery.channel == channel, Recovery.external_reference == reference)
    )
    if existing is not None:
        if (existing.loan_id, existing.amount_fen, existing.value_date) != (loan.id, amount_fen, value_date):
            raise Conflict(
                "该渠道流水号已用于另一笔不同的回收款",
                "This channel reference was already used for a different recovery",
                code="reference_reused",
            )
        return RecoveryResult(existing, duplicate=True)
    if session.scalar(
        select(Repayment.id).where(Repayment.channel == channel, Repayment.external_reference == reference)
    ):
        raise Conflict(
            "该渠道流水号已用于一笔还款",
            "This channel reference was already used for a repayment",
            code="reference_reused",
        )
    if loan.status != "written_off":
        raise Conflict(
            "只有已核销的贷款才能入账回收款；正常还款请走还款入账",
            "Recoveries are posted on written-off loans only; post a repayment instead",
            code="loan_not_written_off",
        )
    if value_date > today or (loan.written_off_on and value_date < loan.written_off_on):
        raise Unprocessable(
            "回收日期须在核销日与今天之间",
            "The value date must lie between the write-off date and today",
            code="recovery_date_out_of_range",
        )
    owed = written_off_balance_fen(session, loan) - recovered_fen(session, loan.id)
    recovery = Recovery(
        loan_id=loan.id,
        channel=channel,
        external_reference=reference,
        amount_fen=amount_fen,
        value_date=value_date,
        posted_by=actor.name,
    )
    session.add(recovery)
    session.flush()
    after: dict[str, Any] = {
        "recovery_id": recovery.id,
        "channel": channel,
        "reference": reference,
        "amount_fen": amount_fen,
        "value_date": value_date,
        "owed_before_fen": owed,
    }
    if amount_fen >= owed:
        loan.credit_balance_fen += amount_fen - owed
        _settle_by_recovery(session, loan, value_date)
        after.update(status="settled", credit_fen=amount_fen - owed)
    audit.record(session, actor, "loan.recovery", ("loan", loan.id), None, after)
    return RecoveryResult(recovery, duplicate=False)


def _settle_by_recovery(session: Session, loan: Loan, on: date) -> None:
    loan.status, loan.settled_on, loan.days_past_due = "settled", on, 0
    loan.oldest_unpaid_due_on = loan.next_due_on = None
    certificate = _issue_certificate(session, loan)
    certificate.total_paid_fen += recovered_fen(session, loan.id)


@dataclass(frozen=True)
class RecoveryBook:
    """Recoveries of the whole book, reported apart from ordinary repayments."""

    written_off_loans: int
    loans_with_recoveries: int
    recovered_fen: int
    recoveries: int


def recovery_book(session: Session) -> RecoveryBook:
    written_off = session.scalar(select(func.count(Loan.id)).where(Loan.written_off_on.is_not(None)))
    count, loans, total = session.execute(
        select(
            func.count(Recovery.id),
            func.count(func.distinct(Recovery.loan_id)),
            func.coalesce(func.sum(Recovery.amount_fen), 0),
        )
    ).one()
    return RecoveryBook(
        written_off_loans=int(written_off or 0),
        loans_with_recoveries=int(loans),
        recovered_fen=int(total),
        recoveries=int(count),
    )


# --- refund of a credit balance (four eyes) -----------------------------------------------------------


def _refund_approver_check(actor: audit.Actor, refund: CreditRefund) -> None:
    roles = get_policy().ledger.refund_approver_roles
    if actor.role not in (*roles, "admin"):
        raise Forbidden(
            "当前角色无权审批溢缴款退款", f"Role {actor.role} may not approve refunds", code="role_forbidden"
        )
    if refund.requested_by == actor.name:
        raise Forbidden(
            "不能审批自己提交的退款申请", "You cannot approve your own refund request", code="own_request"
        )


def request_refund(
    session: Session,
    *,
    actor: audit.Actor,
    contract_number: str,
    amount_fen: int,
    reference: str,
    reason: str,
) -> tuple[CreditRefund, bool]:
    """Ask for part of a loan's credit balance to be paid back; a second person approves.

    Idempotent on (loan, reference): the same request again answers the first one (True).
    """
    reference = _required_text(reference, "申请编号", "reference", "reference_required", 64)
    reason = _required_text(reason, "退款原因", "reason", "reason_required")
    amount_fen = _check_money(amount_fen)
    loan = _lock_loan(session, loan_by_contract(session, contract_number).id)
    existing = session.scalar(
        select(CreditRefund).where(CreditRefund.loan_id == loan.id, CreditRefund.reference == reference)
    )
    if existing is not None:
        if existing.amount_fen != amount_fen:
            raise Conflict(
                "该申请编号已用于另一笔金额不同的退款",
                "This reference was already used for a refund of another amount",
                code="reference_reused",
            )
        return existing, True
    if amount_fen > loan.credit_balance_fen:
        raise _exceeds_credit(amount_fen, loan.credit_balance_fen)
    refund = CreditRefund(
        loan_id=loan.id,
        reference=reference,
        amount_fen=amount_fen,
        reason=reason,
        status="requested",
        requested_by=actor.name,
    )
    session.add(refund)
    session.flush()
    audit.record(
        session,
        actor,
        "refund.request",
        ("loan", loan.id),
        None,
        {"refund_id": refund.id, "reference": reference, "amount_fen": amount_fen, "reason": reason},
    )
    return refund, False


def _exceeds_credit(amount_fen: int, credit_fen: int) -> Conflict:
    return Conflict(
        f"退款金额超过溢缴款余额 {format_fen(credit_fen)} 元",
        f"The refund exceeds the credit balance of {format_fen(credit_fen)}",
        code="refund_exceeds_credit",
        details={"credit_balance": format_fen(credit_fen), "amount": format_fen(amount_fen)},
    )


def _refund(session: Session, refund_id: int) -> CreditRefund:
    refund = session.get(CreditRefund, refund_id)
    if refund is None:
        raise _not_found("退款申请", "refund", refund_id)
    return refund


def approve_refund(session: Session, *, actor: audit.Actor, refund_id: int) -> tuple[CreditRefund, bool]:
    """Pay the refund out of the credit balance, exactly once (True when it was paid before)."""
    loan_id = _refund(session, refund_id).loan_id
    loan = _lock_loan(session, loan_id)
    refund = session.scalars(
        select(CreditRefund).where(CreditRefund.id == refund_id).execution_options(populate_existing=True)
    ).one()
    if refund.status == "paid":
        return refund, True
    if refund.status != "requested":
        raise Conflict("该退款申请已被驳回", "This refund was rejected", code="refund_rejected")
    _refund_approver_check(actor, refund)
    if refund.amount_fen > loan.credit_balance_fen:
        raise _exceeds_credit(refund.amount_fen, loan.credit_balance_fen)
    before = {"refund_id": refund.id, "status": refund.status, "credit_balance_fen": loan.credit_balance_fen}
    loan.credit_balance_fen -= refund.amount_fen
    refund.status, refund.decided_by, refund.decided_at = "paid", actor.name, utcnow()
    audit.record(
        session,
        actor,
        "refund.pay",
        ("loan", loan.id),
        before,
        {"refund_id": refund.id, "status": "paid", "credit_balance_fen": loan.credit_balance_fen},
    )
    return refund, False


def reject_refund(session: Session, *, actor: audit.Actor, refund_id: int, note: str = "") -> CreditRefund:
    loan = _lock_loan(session, _refund(session, refund_id).loan_id)
    refund = session.scalars(
        select(CreditRefund).where(CreditRefund.id == refund_id).execution_options(populate_existing=True)
    ).one()
    if refund.status != "requested":
        raise Conflict("该退款申请已处理", "This refund was already decided", code="refund_decided")
    _refund_approver_check(actor, refund)
    refund.status, refund.decided_by, refund.decided_at = "rejected", actor.name, utcnow()
    refund.note = note.strip()[:255] or None
    audit.record(
        session,
        actor,
        "refund.reject",
        ("loan", loan.id),
        {"refund_id": refund.id, "status": "requested"},
        {"refund_id": refund.id, "status": "rejected", "note": refund.note},
    )
    return refund


def refunded_fen(session: Session, loan_id: int) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(CreditRefund.amount_fen), 0)).where(
            CreditRefund.loan_id == loan_id, CreditRefund.status == "paid"
        )
    )
    return int(total or 0)


def _deduct_refunds(session: Session, book: _Book) -> None:
    """After a replay rebuilt the credit balance from the repayments, take out what was refunded."""
    refunded = refunded_fen(session, book.loan.id)
    if refunded > book.loan.credit_balance_fen:
        raise Conflict(
            "冲正后溢缴款余额不足以覆盖已退款金额，请先处理退款",
            "After this reversal the credit balance would not cover what was already refunded",
            code="refund_exceeds_credit",
        )
    book.loan.credit_balance_fen -= refunded


# --- waivers (减免) -------------------------------------------------------------------------------

WAIVABLE = ("penalty", "late_fee", "interest")
_WAIVED_FIELD = {
    "penalty": "waived_penalty_fen",
    "late_fee": "waived_late_fee_fen",
    "interest": "waived_interest_fen",
}


def _check_component(component: str) -> str:
    if component not in WAIVABLE:
        raise Unprocessable(
            f"只能减免罚息、滞纳金或利息：{component}",
            f"Only penalty, late_fee or interest can be waived: {component}",
            code="not_waivable",
        )
    return component


def waivable_fen(lines: Sequence[ScheduleLine], component: str, today: date) -> int:
    """What is owed on `component` on the lines a waiver may reach (due on or before `today`)."""
    return sum(_due(line).amount(component) for line in lines if line.due_on <= today)


def _needs_second_person(amount_fen: int) -> bool:
    return amount_fen > get_policy().ledger.waiver_single_approval_fen


def _check_waiver_approver(requested_by: audit.Actor, approved_by: audit.Actor) -> None:
    if approved_by.role not in (*get_policy().ledger.waiver_approver_roles, "admin"):
        raise Forbidden(
            "审批人的角色无权审批减免",
            f"Role {approved_by.role} may not approve waivers",
            code="role_forbidden",
        )
    if approved_by.name == requested_by.name:
        raise Forbidden(
            "超过限额的减免须由另一人审批",
            "A waiver above the limit needs a second person",
            code="own_request",
        )


def waive(
    session: Session,
    *,
    loan_id: int,
    component: str,
    amount_fen: int,
    reason: str,
    requested_by: audit.Actor,
    approved_by: audit.Actor | None = None,
    today: date,
) -> Waiver:
    """Forgive `amount_fen` of a loan's penalty, late fee or interest, oldest instalment first.

    Amounts above the policy's `waiver_single_approval_fen` need `approved_by`: a different person
    of a `waiver_approver_roles` role. Only what is owed on instalments due by `today` can be
    waived; more is refused, never clamped. The loan's state follows (a waiver can cure or settle).
    """
    component = _check_component(component)
    reason = _required_text(reason, "减免原因", "reason", "reason_required")
    amount_fen = _check_money(amount_fen)
    if _needs_second_person(amount_fen):
        if approved_by is None:
            raise Forbidden(
                f"超过 {format_fen(get_policy().ledger.waiver_single_approval_fen)} 元的减免须经审批",
                "A waiver above the single-approval limit needs an approver",
                code="approval_required",
            )
        _check_waiver_approver(requested_by, approved_by)
    book = _locked_book(session, loan_id)
    waiver = Waiver(
        loan_id=loan_id,
        component=component,
        amount_fen=amount_fen,
        reason=reason,
        status="applied",
        requested_by=requested_by.name,
    )
    _apply_waiver(session, book, waiver, approved_by or requested_by, today)
    session.add(waiver)
    session.flush()
    _audit_waiver(session, approved_by or requested_by, waiver, before=None)
    return waiver


def _apply_waiver(session: Session, book: _Book, waiver: Waiver, approver: audit.Actor, today: date) -> None:
    _check_open(book.loan)
    owed = waivable_fen(book.lines, waiver.component, today)
    if waiver.amount_fen > owed:
        raise Unprocessable(
            f"减免金额超过应还{_WAIVABLE_ZH[waiver.component]} {format_fen(owed)} 元",
            f"The waiver exceeds the {waiver.component.replace('_', ' ')} owed ({format_fen(owed)})",
            code="waiver_exceeds_owed",
            details={"owed": format_fen(owed)},
        )
    left, spread = waiver.amount_fen, []
    field_name = _WAIVED_FIELD[waiver.component]
    for line in book.lines:
        if left == 0 or line.due_on > today:
            continue
        part = min(_due(line).amount(waiver.component), left)
        if part:
            setattr(line, field_name, getattr(line, field_name) + part)
            spread.append({"period": line.period, "amount": part})
            left -= part
    book.mark_paid_off(today)
    waiver.allocation, waiver.status = spread, "applied"
    waiver.approved_by, waiver.applied_on = approver.name, today
    _refresh_loan(session, book, today=today, actor=approver, settled_on=today)


_WAIVABLE_ZH = {"penalty": "罚息", "late_fee": "滞纳金", "interest": "利息"}


def _audit_waiver(
    session: Session, actor: audit.Actor, waiver: Waiver, before: dict[str, Any] | None
) -> None:
    audit.record(
        session,
        actor,
        f"waiver.{waiver.status}",
        ("loan", waiver.loan_id),
        before,
        {
            "waiver_id": waiver.id,
            "component": waiver.component,
            "amount_fen": waiver.amount_fen,
            "reason": waiver.reason,
            "requested_by": waiver.requested_by,
            "approved_by": waiver.approved_by,
            "allocation": waiver.allocation,
        },
    )


def request_waiver(
    session: Session,
    *,
    actor: audit.Actor,
    contract_number: str,
    component: str,
    amount_fen: int,
    reason: str,
    today: date,
) -> Waiver:
    """A waiver asked for by one person: applied at once up to the policy limit, else held for approval."""
    loan = loan_by_contract(session, contract_number)
    amount_fen = _check_money(amount_fen)
    if not _needs_second_person(amount_fen):
        return waive(
            session,
            loan_id=loan.id,
            component=component,
            amount_fen=amount_fen,
            reason=reason,
            requested_by=actor,
            today=today,
        )
    component = _check_component(component)
    reason = _required_text(reason, "减免原因", "reason", "reason_required")
    book = _locked_book(session, loan.id)
    _check_open(book.loan)
    owed = waivable_fen(book.lines, component, today)
    if amount_fen > owed:
        raise Unprocessable(
            f"减免金额超过应还{_WAIVABLE_ZH[component]} {format_fen(owed)} 元",
            f"The waiver exceeds the {component.replace('_', ' ')} owed ({format_fen(owed)})",
            code="waiver_exceeds_owed",
            details={"owed": format_fen(owed)},
        )
    waiver = Waiver(
        loan_id=loan.id,
        component=component,
        amount_fen=amount_fen,
        reason=reason,
        status="requested",
        requested_by=actor.name,
    )
    session.add(waiver)
    session.flush()
    _audit_waiver(session, actor, waiver, before=None)
    return waiver


def _pending_waiver(session: Session, waiver_id: int) -> tuple[_Book, Waiver]:
    found = session.get(Waiver, waiver_id)
    if found is None:
        raise _not_found("减免申请", "waiver", waiver_id)
    book = _locked_book(session, found.loan_id)
    waiver = session.scalars(
        select(Waiver).where(Waiver.id == waiver_id).execution_options(populate_existing=True)
    ).one()
    if waiver.status != "requested":
        raise Conflict("该减免申请已处理", "This waiver was already decided", code="waiver_decided")
    return book, waiver


def approve_waiver(session: Session, *, actor: audit.Actor, waiver_id: int, today: date) -> Waiver:
    """A second person approves a held waiver; it applies to what is owed now (never below zero)."""
    book, waiver = _pending_waiver(session, waiver_id)
    requester = audit.Actor(user_id=None, name=waiver.requested_by, role="")
    _check_waiver_approver(requester, actor)
    _apply_waiver(session, book, waiver, actor, today)
    _audit_waiver(session, actor, waiver, before={"waiver_id": waiver.id, "status": "requested"})
    return waiver


def reject_waiver(session: Session, *, actor: audit.Actor, waiver_id: int, note: str = "") -> Waiver:
    _book_unused, waiver = _pending_waiver(session, waiver_id)
    requester = audit.Actor(user_id=None, name=waiver.requested_by, role="")
    _check_waiver_approver(requester, actor)
    waiver.status, waiver.approved_by = "rejected", actor.name
    audit.record(
        session,
        actor,
        "waiver.rejected",
        ("loan", waiver.loan_id),
        {"waiver_id": waiver.id, "status": "requested"},
        {"waiver_id": waiver.id, "status": "rejected", "note": note.strip()[:255]},
    )
    return waiver


# --- staff access to a borrower (360 and loan pages) ---------------------------------------------------


def _case_bound(role: str) -> bool:
    return role in get_policy().ledger.case_bound_roles


def check_borrower_access(
    session: Session, *, viewer: audit.Actor, borrower_id: int, case_reference: str | None
) -> access.Grant | None:
    """The case that lets a case-bound viewer open this borrower (None for roles that see all)."""
    if not _case_bound(viewer.role):
        return None
    reference = case_reference.strip().upper() if case_reference else None
    grant = access.find_grant(
        session,
        access.AccessRequest(
            user_id=viewer.user_id, role=viewer.role, borrower_id=borrower_id, case_reference=reference
        ),
    )
    if grant is None:
        raise Forbidden(
            "只能通过您负责的工单查看该借款人",
            "You may open this borrower only through a ticket of yours",
            code="no_case_for_borrower",
        )
    return grant


def _record_opening(
    session: Session,
    viewer: audit.Actor,
    *,
    borrower_id: int,
    grant: access.Grant | None,
    surface: str,
    page: str,
    contract_number: str | None = None,
) -> None:
    after: dict[str, Any] = {"surface": surface, "page": page}
    if contract_number:
        after["contract_number"] = contract_number
    if grant is not None:
        after.update(via=grant.kind, case=grant.reference)
    audit.record(session, viewer, "borrower.open", ("borrower", borrower_id), None, after)


def open_borrower_360(
    session: Session,
    *,
    viewer: audit.Actor,
    borrower_id: int,
    case_reference: str | None,
    surface: str,
    today: date,
) -> Borrower360:
    """The borrower 360 for a member of staff: access checked, masked for the role, and audited."""
    if session.get(Borrower, borrower_id) is None:
        raise _not_found("借款人", "borrower", borrower_id)
    grant = check_borrower_access(
        session, viewer=viewer, borrower_id=borrower_id, case_reference=case_reference
    )
    view = borrower_360(session, borrower_id=borrower_id, role=viewer.role, today=today)
    _record_opening(session, viewer, borrower_id=borrower_id, grant=grant, surface=surface, page="360")
    return view


def open_loan(
    session: Session,
    *,
    viewer: audit.Actor,
    contract_number: str,
    case_reference: str | None,
    surface: str,
    page: str = "loan",
) -> Loan:
    """A loan opened by a member of staff (its page, quote or certificate): checked and audited."""
    loan = loan_by_contract(session, contract_number)
    grant = check_borrower_access(
        session, viewer=viewer, borrower_id=loan.borrower_id, case_reference=case_reference
    )
    _record_opening(
        session,
        viewer,
        borrower_id=loan.borrower_id,
        grant=grant,
        surface=surface,
        page=page,
        contract_number=loan.contract_number,
    )
    return loan
