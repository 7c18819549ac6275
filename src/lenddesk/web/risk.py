"""Console pages of the risk room: 风险预警 (alerts: acknowledge, close, open a ticket), 黑名单
(request, approve by a second person, remove, check) and the score panel on the borrower 360.

Plain server-rendered forms that POST and redirect back; a refused action re-renders the page with
the message in Chinese. A number to check is posted, never put in a URL (URLs reach access logs).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.db import utcnow
from lenddesk.core.errors import LendDeskError
from lenddesk.core.http import Id, db_session
from lenddesk.core.models import User
from lenddesk.risk import blacklist, rules, score, service
from lenddesk.risk.roles import ALERT_HANDLERS, BLACKLIST_APPROVERS, BLACKLIST_CHECKERS, BLACKLIST_REQUESTERS
from lenddesk.web.console import (
    HomeCard,
    add_borrower_panel,
    add_home_cards,
    add_nav,
    console_user,
    render,
    templates,
)

router = APIRouter(include_in_schema=False)

add_nav("风险预警", "/risk/alerts", *ALERT_HANDLERS, area="风控")
add_nav("黑名单", "/risk/blacklist", *BLACKLIST_CHECKERS, area="风控")

DONE = {
    "acknowledged": "预警已确认",
    "closed": "预警已关闭",
    "ticket": "已为预警创建工单",
    "requested": "已提交加入黑名单申请，待另一位审批人审批",
    "approved": "审批完成",
    "removal_requested": "已提交移出申请，待另一位审批人审批",
    "rejected": "已驳回申请",
}


def request_now(request: Request) -> datetime:
    clock = getattr(request.app.state, "risk_clock", None)
    return clock() if clock is not None else utcnow()


def _risk_cards(session: Session, user: User, _now: datetime) -> list[HomeCard]:
    if user.role not in (*ALERT_HANDLERS, "admin"):
        return []
    figures = service.risk_figures(session)
    return [
        HomeCard(
            "待处理风险预警", str(figures.open_alerts), "/risk/alerts", "warn" if figures.open_alerts else ""
        ),
        HomeCard("黑名单待审批", str(figures.pending_blacklist), "/risk/blacklist"),
        HomeCard("高风险借款人", str(figures.high_band), "/risk/alerts?rule=EARLY_WARNING_HIGH"),
    ]


add_home_cards(_risk_cards)


def _score_panel(session: Session, user: User, borrower_id: int) -> Markup:
    """The early-warning score and the blacklist flag on the borrower 360 (no personal data)."""
    found = service.borrower_score(session, borrower_id=borrower_id)
    listed = service.is_blacklisted(session, borrower_id)
    template = templates.env.get_template("risk/_panel.html")
    return Markup(
        template.render(
            s=found,
            listed=listed,
            band_labels=score.BAND_LABELS_ZH,
            handler=user.role in (*ALERT_HANDLERS, "admin"),
        )
    )


add_borrower_panel(_score_panel)


# --- alerts ---------------------------------------------------------------------------------------


def _alerts_page(
    request: Request, session: Session, user: User, *, error: LendDeskError | None = None
) -> HTMLResponse:
    status = request.query_params.get("status", "")
    rule = request.query_params.get("rule", "")
    found = service.list_alerts(session, status=status if status in service.STATUSES else None, limit=500)
    if rule in rules.RULES:
        found = [alert for alert in found if alert.rule == rule]
    return render(
        request,
        "risk/alerts.html",
        user,
        status_code=error.status_code if error else 200,
        alerts=found,
        status=status,
        rule=rule,
        rule_labels=rules.RULE_LABELS_ZH,
        status_labels=service.STATUS_LABELS_ZH,
        dispositions=service.DISPOSITIONS,
        error=error.message_zh if error else None,
        notice=DONE.get(request.query_params.get("done", "")),
    )


@router.get("/risk/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request, session: Session = db_session, user: User = console_user(*ALERT_HANDLERS)
) -> HTMLResponse:
    return _alerts_page(request, session, user)


def _back(path: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?done={quote(done)}", status_code=303)


@router.post("/risk/alerts/{alert_id}/acknowledge", response_model=None)
def acknowledge(
    alert_id: Id, request: Request, session: Session = db_session, user: User = console_user(*ALERT_HANDLERS)
) -> HTMLResponse | RedirectResponse:
    try:
        service.acknowledge_alert(
            session, actor=audit.Actor.of(user), alert_id=alert_id, now=request_now(request)
        )
    except LendDeskError as exc:
        session.rollback()
        return _alerts_page(request, session, user, error=exc)
    return _back("/risk/alerts", "acknowledged")


@router.post("/risk/alerts/{alert_id}/close", response_model=None)
async def close(
    alert_id: Id, request: Request, session: Session = db_session, user: User = console_user(*ALERT_HANDLERS)
) -> HTMLResponse | RedirectResponse:
    form = await request.form()
    disposition, note = form.get("disposition"), form.get("note")
    try:
        service.close_alert(
            session,
            actor=audit.Actor.of(user),
            alert_id=alert_id,
            disposition=disposition if isinstance(disposition, str) else "",
            note=note[:500] if isinstance(note, str) else "",
            now=request_now(request),
        )
    except LendDeskError as exc:
        session.rollback()
        return _alerts_page(request, session, user, error=exc)
    return _back("/risk/alerts", "closed")


@router.post("/risk/alerts/{alert_id}/ticket", response_model=None)
def open_ticket(
    alert_id: Id, request: Request, session: Session = db_session, user: User = console_user(*ALERT_HANDLERS)
) -> HTMLResponse | RedirectResponse:
    try:
        service.open_alert_ticket(
            session, actor=audit.Actor.of(user), alert_id=alert_id, now=request_now(request)
        )
    except LendDeskError as exc:
        session.rollback()
        return _alerts_page(request, session, user, error=exc)
    return _back("/risk/alerts", "ticket")


# --- blacklist ------------------------------------------------------------------------------------


def _blacklist_page(
    request: Request,
    session: Session,
    user: User,
    *,
    error: LendDeskError | None = None,
    checked: bool | None = None,
) -> HTMLResponse:
    return render(
        request,
        "risk/blacklist.html",
        user,
        status_code=error.status_code if error else 200,
        entries=service.list_entries(session),
        kinds=blacklist.KIND_LABELS_ZH,
        status_labels=service.BLACKLIST_STATUS_LABELS_ZH,
        may_request=user.role in (*BLACKLIST_REQUESTERS, "admin"),
        may_approve=user.role in (*BLACKLIST_APPROVERS, "admin"),
        checked=checked,
        error=error.message_zh if error else None,
        notice=DONE.get(request.query_params.get("done", "")),
    )


@router.get("/risk/blacklist", response_class=HTMLResponse)
def blacklist_page(
    request: Request, session: Session = db_session, user: User = console_user(*BLACKLIST_CHECKERS)
) -> HTMLResponse:
    return _blacklist_page(request, session, user)


def _field(form: object, name: str) -> str:
    value = form.get(name)  # type: ignore[attr-defined]
    return value[:255] if isinstance(value, str) else ""


@router.post("/risk/blacklist", response_model=None)
async def request_listing(
    request: Request, session: Session = db_session, user: User = console_user(*BLACKLIST_REQUESTERS)
) -> HTMLResponse | RedirectResponse:
    form = await request.form()
    kind = _field(form, "kind")
    try:
        service.request_listing(
            session,
            actor=audit.Actor.of(user),
            kind=kind,
            value=_field(form, "value"),
            reason=_field(form, "reason"),
            now=request_now(request),
        )
    except LendDeskError as exc:
        session.rollback()
        return _blacklist_page(request, session, user, error=exc)
    return _back("/risk/blacklist", "requested")


@router.post("/risk/blacklist/{entry_id}/approve", response_model=None)
def approve(
    entry_id: Id,
    request: Request,
    session: Session = db_session,
    user: User = console_user(*BLACKLIST_APPROVERS),
) -> HTMLResponse | RedirectResponse:
    try:
        service.approve(session, actor=audit.Actor.of(user), entry_id=entry_id, now=request_now(request))
    except LendDeskError as exc:
        session.rollback()
        return _blacklist_page(request, session, user, error=exc)
    return _back("/risk/blacklist", "approved")


@router.post("/risk/blacklist/{entry_id}/reject", response_model=None)
async def reject(
    entry_id: Id,
    request: Request,
    session: Session = db_session,
    user: User = console_user(*BLACKLIST_APPROVERS),
) -> HTMLResponse | RedirectResponse:
    form = await request.form()
    try:
        service.reject(
            session,
            actor=audit.Actor.of(user),
            entry_id=entry_id,
            note=_field(form, "note"),
            now=request_now(request),
        )
    except LendDeskError as exc:
        session.rollback()
        return _blacklist_page(request, session, user, error=exc)
    return _back("/risk/blacklist", "rejected")


@router.post("/risk/blacklist/{entry_id}/remove", response_model=None)
async def request_removal(
    entry_id: Id,
    request: Request,
    session: Session = db_session,
    user: User = console_user(*BLACKLIST_REQUESTERS),
) -> HTMLResponse | RedirectResponse:
    form = await request.form()
    try:
        service.request_removal(
            session,
            actor=audit.Actor.of(user),
            entry_id=entry_id,
            reason=_field(form, "reason"),
            now=request_now(request),
        )
    except LendDeskError as exc:
        session.rollback()
        return _blacklist_page(request, session, user, error=exc)
    return _back("/risk/blacklist", "removal_requested")


@router.post("/risk/blacklist/check", response_model=None)
async def check(
    request: Request, session: Session = db_session, user: User = console_user(*BLACKLIST_CHECKERS)
) -> HTMLResponse:
    form = await request.form()
    try:
        listed = service.check(session, kind=_field(form, "kind"), value=_field(form, "value"))
    except LendDeskError as exc:
        return _blacklist_page(request, session, user, error=exc)
    return _blacklist_page(request, session, user, checked=listed)
