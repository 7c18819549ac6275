"""Console pages of the ledger room: borrower search, borrower 360, loan page, the calculator."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from lenddesk.core import auth
from lenddesk.core.db import business_today
from lenddesk.core.errors import LendDeskError, NotFound, Unauthenticated
from lenddesk.core.http import db_session
from lenddesk.core.models import User
from lenddesk.core.money import format_fen, parse_yuan
from lenddesk.core.policy import get_policy
from lenddesk.ledger import calculator, service
from lenddesk.ledger.allocation import COMPONENT_LABELS_ZH
from lenddesk.ledger.schedule import METHOD_LABELS_ZH, Method
from lenddesk.web.console import HomeCard, add_home_cards, add_nav, console_user, render

router = APIRouter(include_in_schema=False)
READERS = ("agent", "collector", "team_lead", "qa", "compliance")

add_nav("借款人", "/borrowers", *READERS)
add_nav("计算器", "/calculator", *auth.ALL_STAFF)
PORTFOLIO_VIEWERS = ("collector", "team_lead", "compliance", "admin")


def _portfolio_cards(session: Session, user: User, _now: datetime) -> list[HomeCard]:
    if user.role not in PORTFOLIO_VIEWERS:
        return []
    glance = service.portfolio_glance(session)
    buckets = "、".join(f"{bucket} {count}" for bucket, count in glance.by_bucket.items()) or "无"
    return [
        HomeCard("在贷笔数", f"{glance.active_loans:,}", "/borrowers"),
        HomeCard(
            f"逾期笔数（{glance.overdue_share:.1%}）", f"{glance.overdue_loans:,}", "/borrowers", "warn"
        ),
        HomeCard(
            "逾期剩余本金",
            format_fen(glance.overdue_principal_fen, thousands=True, symbol=True),
            "/borrowers",
        ),
        HomeCard("逾期分档", buckets, "/borrowers", "detail"),
    ]


add_home_cards(_portfolio_cards)

LABELS = {
    "methods": {m.value: label for m, label in METHOD_LABELS_ZH.items()},
    "channels": service.CHANNEL_LABELS_ZH,
    "relations": service.RELATION_LABELS_ZH,
    "statuses": service.STATUS_LABELS_ZH,
    "components": COMPONENT_LABELS_ZH,
    "line_states": {"paid": "已还清", "partly_paid": "部分还款", "unpaid": "未到期", "overdue": "逾期"},
    "kinds": {"regular": "正常还款", "early_partial": "部分提前还款", "early_full": "提前结清"},
    "repayment_statuses": {"posted": "已入账", "reversal_requested": "冲正待审批", "reversed": "已冲正"},
}


@router.get("/borrowers", response_class=HTMLResponse)
def borrower_search(
    request: Request, q: str = "", session: Session = db_session, user: User = console_user(*READERS)
) -> HTMLResponse:
    hits = service.search_borrowers(session, query=q, role=user.role) if q.strip() else []
    return render(request, "ledger/borrowers.html", user, q=q, hits=hits, searched=bool(q.strip()))


@router.get("/borrowers/{borrower_id}", response_class=HTMLResponse)
def borrower_page(
    request: Request, borrower_id: int, session: Session = db_session, user: User = console_user(*READERS)
) -> HTMLResponse:
    try:
        view = service.borrower_360(session, borrower_id=borrower_id, role=user.role, today=business_today())
    except NotFound as exc:
        return render(request, "error.html", user, status_code=404, message=exc.message_zh)
    return render(request, "ledger/borrower.html", user, b=view, labels=LABELS)


@router.get("/loans/{contract_number}", response_class=HTMLResponse)
def loan_page(
    request: Request, contract_number: str, session: Session = db_session, user: User = console_user(*READERS)
) -> HTMLResponse:
    today = business_today()
    try:
        loan = service.loan_detail(session, contract_number=contract_number, today=today)
    except NotFound as exc:
        return render(request, "error.html", user, status_code=404, message=exc.message_zh)
    borrower = service.borrower_360(session, borrower_id=loan.borrower_id, role=user.role, today=today)
    quote = None
    if loan.status in ("current", "overdue"):
        quote = service.settlement_quote(session, contract_number=loan.contract_number, on=today)
    return render(
        request,
        "ledger/loan.html",
        user,
        loan=loan,
        borrower=borrower,
        quote=quote,
        labels=LABELS,
        today=today,
    )


def _optional_user(request: Request, session: Session) -> User | None:
    try:
        return auth.current_user_or_none(request, session)
    except Unauthenticated:
        return None


@router.get("/calculator", response_class=HTMLResponse, dependencies=[auth.public()])
def calculator_page(request: Request, session: Session = db_session) -> HTMLResponse:
    """Public: borrowers and agents compute a schedule and the cost of repaying early (GET form)."""
    form = {
        "principal": request.query_params.get("principal", "10000.00"),
        "annual_rate": request.query_params.get("annual_rate", "0.18"),
        "term": request.query_params.get("term", "12"),
        "method": request.query_params.get("method", Method.EQUAL_INSTALMENT.value),
        "start_date": request.query_params.get("start_date", business_today().isoformat()),
        "repay_on": request.query_params.get("repay_on", ""),
        "partial": request.query_params.get("partial", ""),
        "fee_percent": request.query_params.get("fee_percent", "0"),
    }
    result = early = error = None
    if "principal" in request.query_params:
        try:
            terms = calculator.LoanTerms.of(
                principal_fen=parse_yuan(form["principal"]),
                annual_rate=_number(form["annual_rate"], "年利率"),
                term=_whole(form["term"], "期数"),
                method=form["method"],
                start_date=_day(form["start_date"], "放款日"),
                rounding=get_policy().money.rounding,
            )
            result = calculator.schedule(terms)
            if form["repay_on"]:
                early = calculator.early_repayment(
                    terms,
                    on=_day(form["repay_on"], "提前还款日"),
                    prepaid_principal_fen=parse_yuan(form["partial"]) if form["partial"] else None,
                    fee_percent=_number(form["fee_percent"] or "0", "手续费率"),
                )
        except LendDeskError as exc:
            error = exc.message_zh
    user = _optional_user(request, session)
    return render(
        request,
        "ledger/calculator.html",
        user,
        form=form,
        result=result,
        early=early,
        error=error,
        labels=LABELS,
    )


class _BadField(LendDeskError):
    status_code = 422


def _number(text: str, label: str) -> Decimal:
    try:
        return Decimal(text.strip())
    except InvalidOperation as exc:
        raise _BadField(f"{label}须为数字：{text}", f"{label} must be a number", code="bad_number") from exc


def _whole(text: str, label: str) -> int:
    number = _number(text, label)
    if number != number.to_integral_value():
        raise _BadField(f"{label}须为整数：{text}", f"{label} must be a whole number", code="bad_number")
    return int(number)


def _day(text: str, label: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise _BadField(
            f"{label}须为 YYYY-MM-DD 格式的日期：{text}", f"{label} must be a date", code="bad_date"
        ) from exc
