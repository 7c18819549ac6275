"""Console pages of the ledger room: borrower search, borrower 360, loan page, the calculator."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated
from urllib.parse import urlencode
from uuid import uuid4

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from lenddesk.core import audit, auth
from lenddesk.core.calendar import business_today
from lenddesk.core.errors import Forbidden, LendDeskError, NotFound, Unauthenticated
from lenddesk.core.http import db_session
from lenddesk.core.models import User
from lenddesk.core.money import format_fen, parse_yuan
from lenddesk.core.policy import get_policy
from lenddesk.core.roles import admits
from lenddesk.ledger import calculator, service
from lenddesk.ledger.allocation import COMPONENT_LABELS_ZH
from lenddesk.ledger.roles import APPROVERS, PORTFOLIO_VIEWERS, POSTERS, READERS, RECOVERY_POSTERS
from lenddesk.ledger.schedule import METHOD_LABELS_ZH, Method
from lenddesk.web.console import HomeCard, add_home_cards, add_nav, borrower_panels, console_user, render

router = APIRouter(include_in_schema=False)
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]

add_nav("借款人", "/borrowers", *READERS, area="账务")
add_nav("计算器", "/calculator", *auth.ALL_STAFF, area="账务")


def _portfolio_cards(session: Session, user: User, _now: datetime) -> list[HomeCard]:
    if not admits(user.role, PORTFOLIO_VIEWERS):
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
        *_recovery_cards(session),
    ]


def _recovery_cards(session: Session) -> list[HomeCard]:
    book = service.recovery_book(session)
    if not book.written_off_loans:
        return []
    return [
        HomeCard(
            f"核销后回收（{book.loans_with_recoveries}/{book.written_off_loans} 笔）",
            format_fen(book.recovered_fen, thousands=True, symbol=True),
            "/borrowers",
        )
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
    "waivable": {"penalty": "罚息", "late_fee": "滞纳金", "interest": "利息"},
    "path_statuses": {"requested": "待审批", "applied": "已减免", "paid": "已退款", "rejected": "已驳回"},
}
# What a successful console action says after its redirect (a fixed list: no text from the URL).
DONE_MESSAGES = {
    "recovery": "回收款已入账",
    "refund_requested": "退款申请已提交，待另一位审批人审批",
    "refund_paid": "退款已审批并从溢缴款中扣除",
    "refund_rejected": "退款申请已驳回",
    "waiver_applied": "减免已生效",
    "waiver_requested": "减免金额超过单人权限，已提交审批",
    "waiver_rejected": "减免申请已驳回",
}


@router.get("/borrowers", response_class=HTMLResponse)
def borrower_search(
    request: Request, q: str = "", session: Session = db_session, user: User = console_user(*READERS)
) -> HTMLResponse:
    hits = service.search_borrowers(session, query=q, role=user.role) if q.strip() else []
    return render(request, "ledger/borrowers.html", user, q=q, hits=hits, searched=bool(q.strip()))


def _ticket(value: str | None) -> str | None:
    """The ticket a page was opened from, if it looks like one (it only narrows the access check)."""
    value = (value or "").strip()
    return value if value and len(value) <= 32 and value.replace("-", "").isalnum() else None


@router.get("/borrowers/{borrower_id}", response_class=HTMLResponse)
def borrower_page(
    request: Request,
    borrower_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    ticket: str = "",
    session: Session = db_session,
    user: User = console_user(*READERS),
) -> HTMLResponse:
    """The borrower 360: agents and collectors through a ticket of theirs; every opening audited."""
    try:
        view = service.open_borrower_360(
            session,
            viewer=audit.Actor.of(user),
            borrower_id=borrower_id,
            case_reference=_ticket(ticket),
            surface="console",
            today=business_today(),
        )
    except (NotFound, Forbidden) as exc:
        return render(request, "error.html", user, status_code=exc.status_code, message=exc.message_zh)
    panels = borrower_panels(session, user, borrower_id)
    return render(
        request, "ledger/borrower.html", user, b=view, labels=LABELS, ticket=_ticket(ticket), panels=panels
    )


@router.get("/loans/{contract_number}", response_class=HTMLResponse)
def loan_page(
    request: Request,
    contract_number: str,
    ticket: str = "",
    done: str = "",
    session: Session = db_session,
    user: User = console_user(*READERS),
) -> HTMLResponse:
    try:
        loan = service.open_loan(
            session,
            viewer=audit.Actor.of(user),
            contract_number=contract_number,
            case_reference=_ticket(ticket),
            surface="console",
        )
    except (NotFound, Forbidden) as exc:
        return render(request, "error.html", user, status_code=exc.status_code, message=exc.message_zh)
    return _render_loan(
        request, session, user, loan.contract_number, _ticket(ticket), notice=DONE_MESSAGES.get(done)
    )


def _render_loan(
    request: Request,
    session: Session,
    user: User,
    contract_number: str,
    ticket: str | None,
    *,
    notice: str | None = None,
    error: LendDeskError | None = None,
) -> HTMLResponse:
    today = business_today()
    loan = service.loan_detail(session, contract_number=contract_number, today=today)
    borrower = service.borrower_360(session, borrower_id=loan.borrower_id, role=user.role, today=today)
    quote = None
    if loan.status in ("current", "overdue"):
        quote = service.settlement_quote(session, contract_number=loan.contract_number, on=today)
    return render(
        request,
        "ledger/loan.html",
        user,
        status_code=error.status_code if error else 200,
        loan=loan,
        borrower=borrower,
        quote=quote,
        labels=LABELS,
        today=today,
        ticket=ticket,
        notice=notice,
        error=error.message_zh if error else None,
        can=_abilities(user),
        channels=service.CHANNELS,
        refund_reference=uuid4().hex[:16],  # one per form: a double submit is one request
    )


def _abilities(user: User) -> dict[str, bool]:
    role = user.role
    return {
        "recover": admits(role, RECOVERY_POSTERS),
        "request": admits(role, POSTERS),
        "approve": admits(role, APPROVERS),
    }


# --- loan page actions: recoveries, refunds of credit, waivers (POST, then back to the page) ----------


def _loan_url(contract_number: str, ticket: str | None, done: str) -> str:
    query = {"done": done, **({"ticket": ticket} if ticket else {})}
    return f"/loans/{contract_number}?{urlencode(query)}"


def _act(
    request: Request,
    session: Session,
    user: User,
    contract_number: str,
    ticket: str,
    name: str,
    action: Callable[[audit.Actor], str],
) -> Response:
    """Run one loan action behind the read rule; success redirects back to the page.

    Access is checked before anything is read or rendered (`open_loan_for_write`, the API's gate
    too). A refusal of the action itself shows the loan page with the reason, opened (and audited
    as `borrower.open`) the way the read is, after the failed write was rolled back.
    """
    case = _ticket(ticket)
    actor = audit.Actor.of(user)
    try:
        loan = service.open_loan_for_write(
            session,
            actor=actor,
            target=service.WriteTarget.contract(contract_number),
            case_reference=case,
            surface="console",
            action=name,
        )
    except (NotFound, Forbidden) as exc:
        session.rollback()
        return render(request, "error.html", user, status_code=exc.status_code, message=exc.message_zh)
    number = loan.contract_number
    try:
        done = action(actor)
    except NotFound as exc:
        session.rollback()
        return render(request, "error.html", user, status_code=404, message=exc.message_zh)
    except LendDeskError as exc:
        session.rollback()
        return _reopen_with_error(request, session, user, number, case, exc)
    return RedirectResponse(_loan_url(number, case, done), status_code=303)


def _reopen_with_error(
    request: Request,
    session: Session,
    user: User,
    contract_number: str,
    case: str | None,
    error: LendDeskError,
) -> HTMLResponse:
    """The loan page with a refused action's reason, for a caller who may open the loan (audited)."""
    try:
        loan = service.open_loan(
            session,
            viewer=audit.Actor.of(user),
            contract_number=contract_number,
            case_reference=case,
            surface="console",
        )
    except (NotFound, Forbidden) as exc:
        return render(request, "error.html", user, status_code=exc.status_code, message=exc.message_zh)
    return _render_loan(request, session, user, loan.contract_number, case, error=error)


@router.post("/loans/{contract_number}/recoveries")
def post_recovery(
    request: Request,
    contract_number: str,
    channel: str = Form(""),
    external_reference: str = Form(""),
    amount: str = Form(""),
    value_date: str = Form(""),
    ticket: str = Form(""),
    session: Session = db_session,
    user: User = console_user(*RECOVERY_POSTERS),
) -> Response:
    def run(actor: audit.Actor) -> str:
        service.post_recovery(
            session,
            actor=actor,
            contract_number=contract_number,
            channel=channel,
            external_reference=external_reference,
            amount_fen=parse_yuan(amount),
            value_date=_day(value_date, "回收日期") if value_date.strip() else business_today(),
            today=business_today(),
        )
        return "recovery"

    return _act(request, session, user, contract_number, ticket, "recovery", run)


@router.post("/loans/{contract_number}/refunds")
def request_refund(
    request: Request,
    contract_number: str,
    amount: str = Form(""),
    reference: str = Form(""),
    reason: str = Form(""),
    ticket: str = Form(""),
    session: Session = db_session,
    user: User = console_user(*POSTERS),
) -> Response:
    def run(actor: audit.Actor) -> str:
        service.request_refund(
            session,
            actor=actor,
            contract_number=contract_number,
            amount_fen=parse_yuan(amount),
            reference=reference,
            reason=reason,
        )
        return "refund_requested"

    return _act(request, session, user, contract_number, ticket, "refund_request", run)


@router.post("/loans/{contract_number}/refunds/{refund_id}/{decision}")
def decide_refund(
    request: Request,
    contract_number: str,
    refund_id: RowId,
    decision: str,
    note: str = Form(""),
    ticket: str = Form(""),
    session: Session = db_session,
    user: User = console_user(*APPROVERS),
) -> Response:
    def run(actor: audit.Actor) -> str:
        _check_refund_of(session, contract_number, refund_id)
        if decision == "approve":
            service.approve_refund(session, actor=actor, refund_id=refund_id)
            return "refund_paid"
        if decision == "reject":
            service.reject_refund(session, actor=actor, refund_id=refund_id, note=note)
            return "refund_rejected"
        raise NotFound("没有这个操作", "No such action", code="not_found")

    return _act(request, session, user, contract_number, ticket, f"refund_{decision[:16]}", run)


def _check_refund_of(session: Session, contract_number: str, refund_id: int) -> None:
    loan = service.loan_by_contract(session, contract_number)
    if not any(
        refund.id == refund_id
        for refund in service.loan_view(session, loan=loan, today=business_today()).refunds
    ):
        raise NotFound("该贷款没有这笔退款申请", "No such refund on this loan", code="refund_not_found")


@router.post("/loans/{contract_number}/waivers")
def request_waiver(
    request: Request,
    contract_number: str,
    component: str = Form(""),
    amount: str = Form(""),
    reason: str = Form(""),
    ticket: str = Form(""),
    session: Session = db_session,
    user: User = console_user(*POSTERS),
) -> Response:
    def run(actor: audit.Actor) -> str:
        waiver = service.request_waiver(
            session,
            actor=actor,
            contract_number=contract_number,
            component=component,
            amount_fen=parse_yuan(amount),
            reason=reason,
            today=business_today(),
        )
        return "waiver_applied" if waiver.status == "applied" else "waiver_requested"

    return _act(request, session, user, contract_number, ticket, "waiver_request", run)


@router.post("/loans/{contract_number}/waivers/{waiver_id}/{decision}")
def decide_waiver(
    request: Request,
    contract_number: str,
    waiver_id: RowId,
    decision: str,
    note: str = Form(""),
    ticket: str = Form(""),
    session: Session = db_session,
    user: User = console_user(*APPROVERS),
) -> Response:
    def run(actor: audit.Actor) -> str:
        loan = service.loan_by_contract(session, contract_number)
        if not any(
            w.id == waiver_id for w in service.loan_view(session, loan=loan, today=business_today()).waivers
        ):
            raise NotFound("该贷款没有这笔减免申请", "No such waiver on this loan", code="waiver_not_found")
        if decision == "approve":
            service.approve_waiver(session, actor=actor, waiver_id=waiver_id, today=business_today())
            return "waiver_applied"
        if decision == "reject":
            service.reject_waiver(session, actor=actor, waiver_id=waiver_id, note=note)
            return "waiver_rejected"
        raise NotFound("没有这个操作", "No such action", code="not_found")

    return _act(request, session, user, contract_number, ticket, f"waiver_{decision[:16]}", run)


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
        number = Decimal(text.strip())
    except InvalidOperation as exc:
        raise _BadField(f"{label}须为数字：{text}", f"{label} must be a number", code="bad_number") from exc
    if not number.is_finite():  # NaN and Infinity parse, but compare and convert to int badly
        raise _BadField(
            f"{label}须为有限的数字：{text}", f"{label} must be a finite number", code="bad_number"
        )
    return number


def _whole(text: str, label: str) -> int:
    number = _number(text, label)
    if number != number.to_integral_value():
        raise _BadField(f"{label}须为整数：{text}", f"{label} must be a whole number", code="bad_number")
    return int(number)


def _day(text: str, label: str) -> date:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError as exc:
        raise _BadField(
            f"{label}须为 YYYY-MM-DD 格式的日期：{text}", f"{label} must be a date", code="bad_date"
        ) from exc
    if not FIRST_DAY <= day <= LAST_DAY:  # the span the API's dates take (core.http.Day)
        raise _BadField(
            f"{label}须在 {FIRST_DAY} 至 {LAST_DAY} 之间：{text}",
            f"{label} must fall between {FIRST_DAY} and {LAST_DAY}",
            code="bad_date",
        )
    return day


FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)
