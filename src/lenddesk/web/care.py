"""Console pages of the care room: 关怀活动 (list, draft, preview with the exclusion reasons, approval
by a second person, launch, results), 我的回访 (the revisits on the user's list) and the 客户画像
panel on the borrower 360 (no contact details; consent evidence is not shown, only that it exists).

Plain server-rendered forms that POST and redirect back; a refused action re-renders the page with
the message in Chinese.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from lenddesk.care import festivals, service, texts
from lenddesk.care.roles import CAMPAIGN_APPROVERS, CAMPAIGN_AUTHORS, CAMPAIGN_READERS, REVISIT_WORKERS
from lenddesk.core import audit
from lenddesk.core.errors import LendDeskError, Unprocessable
from lenddesk.core.http import Id, clock_now, db_session
from lenddesk.core.models import User
from lenddesk.web.console import add_borrower_panel, add_nav, console_user, render, templates

router = APIRouter(include_in_schema=False)

add_nav("关怀活动", "/care/campaigns", *CAMPAIGN_READERS, area="渠道")
add_nav("我的回访", "/care/revisits", *REVISIT_WORKERS, area="工单")

DONE = {
    "created": "草稿已保存，待合规审批",
    "approved": "活动已批准",
    "launched": "活动已发送（进入发件队列）",
    "revisit_done": "回访已完成",
}
CHANNEL_LABELS_ZH = {"sms": "短信", "email": "邮件", "app": "App 推送", "wechat": "微信", "phone": "电话"}
PURPOSE_LABELS_ZH = {"marketing": "营销", "education": "金融教育"}


def _back(path: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?done={quote(done)}", status_code=303)


# --- the 360 panel ---------------------------------------------------------------------------------------


def _profile_panel(session: Session, user: User, borrower_id: int) -> Markup:
    preferences = service.get_preferences(session, borrower_id=borrower_id)
    consents = service.list_consents(session, borrower_id=borrower_id)
    revisits = service.list_revisits(session, borrower_id=borrower_id, status="open")
    template = templates.env.get_template("care/_panel.html")
    return Markup(
        template.render(
            p=preferences,
            consents=consents,
            revisits=revisits,
            channels=CHANNEL_LABELS_ZH,
            purposes=PURPOSE_LABELS_ZH,
            topics=service.TOPIC_LABELS_ZH,
            sources=service.SOURCE_LABELS_ZH,
        )
    )


add_borrower_panel(_profile_panel)


# --- campaigns ------------------------------------------------------------------------------------------


def _list_page(
    request: Request, session: Session, user: User, *, error: LendDeskError | None = None
) -> HTMLResponse:
    return render(
        request,
        "care/campaigns.html",
        user,
        status_code=error.status_code if error else 200,
        campaigns=service.list_campaigns(session),
        kinds=service.KIND_LABELS_ZH,
        statuses=service.STATUS_LABELS_ZH,
        channels={key: CHANNEL_LABELS_ZH[key] for key in ("sms", "email", "app", "wechat")},
        segments={"all": "全部借款人", "good_credit": "近 12 期按时还款", "low_risk": "低风险"},
        festivals={name: festivals.NAMES_ZH[name] for name in festivals.FESTIVALS},
        may_draft=user.role in (*CAMPAIGN_AUTHORS, "admin"),
        error=error.message_zh if error else None,
        notice=DONE.get(request.query_params.get("done", "")),
    )


@router.get("/care/campaigns", response_class=HTMLResponse)
def campaigns_page(
    request: Request, session: Session = db_session, user: User = console_user(*CAMPAIGN_READERS)
) -> HTMLResponse:
    return _list_page(request, session, user)


def _form_text(form: object, name: str, limit: int) -> str:
    value = form.get(name)  # type: ignore[attr-defined]
    return value[:limit] if isinstance(value, str) else ""


def _audience(form: object) -> dict[str, object]:
    ids_text = _form_text(form, "borrower_ids", 20_000).replace("，", ",")
    if not ids_text.strip():
        return {"segment": _form_text(form, "segment", 20) or "all"}
    try:
        ids = [int(part) for part in ids_text.replace("\n", ",").split(",") if part.strip()]
    except ValueError as exc:
        raise Unprocessable(
            "借款人编号须为以逗号分隔的数字",
            "borrower ids must be numbers separated by commas",
            code="bad_audience",
        ) from exc
    if any(i > 2**63 - 1 for i in ids):
        raise Unprocessable("借款人编号超出范围", "A borrower id is out of range", code="bad_audience")
    return {"borrower_ids": ids}


@router.post("/care/campaigns", response_model=None)
async def create(
    request: Request, session: Session = db_session, user: User = console_user(*CAMPAIGN_AUTHORS)
) -> HTMLResponse | RedirectResponse:
    form = await request.form()
    try:
        send_on_text = _form_text(form, "send_on", 10)
        try:
            send_on = date.fromisoformat(send_on_text) if send_on_text else None
        except ValueError as exc:
            raise Unprocessable(
                "发送日期格式应为 YYYY-MM-DD", "send_on must be YYYY-MM-DD", code="bad_send_on"
            ) from exc
        campaign = service.create_campaign(
            session,
            actor=audit.Actor.of(user),
            name=_form_text(form, "name", 200),
            kind=_form_text(form, "kind", 20),
            channel=_form_text(form, "channel", 20),
            text=_form_text(form, "text", texts.MAX_TEXT + 1),
            audience=_audience(form),
            send_on=send_on,
            festival=_form_text(form, "festival", 30) or None,
            now=clock_now(request),
        )
    except LendDeskError as exc:
        session.rollback()
        return _list_page(request, session, user, error=exc)
    return _back(f"/care/campaigns/{campaign.id}", "created")


def _detail_page(
    request: Request, session: Session, user: User, campaign_id: int, *, error: LendDeskError | None = None
) -> HTMLResponse:
    campaign = service.get_campaign(session, campaign_id=campaign_id)
    return render(
        request,
        "care/campaign.html",
        user,
        status_code=error.status_code if error else 200,
        c=campaign,
        preview=service.preview(session, campaign_id=campaign_id, now=clock_now(request)),
        results=service.campaign_results(session, campaign_id=campaign_id) if campaign.launches else None,
        reasons=service.REASON_LABELS_ZH,
        kinds=service.KIND_LABELS_ZH,
        statuses=service.STATUS_LABELS_ZH,
        channels=CHANNEL_LABELS_ZH,
        may_approve=user.role in (*CAMPAIGN_APPROVERS, "admin") and user.username != campaign.created_by,
        may_launch=user.role in (*CAMPAIGN_AUTHORS, "admin"),
        error=error.message_zh if error else None,
        notice=DONE.get(request.query_params.get("done", "")),
    )


@router.get("/care/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_page(
    campaign_id: Id,
    request: Request,
    session: Session = db_session,
    user: User = console_user(*CAMPAIGN_READERS),
) -> HTMLResponse:
    return _detail_page(request, session, user, campaign_id)


@router.post("/care/campaigns/{campaign_id}/approve", response_model=None)
def approve(
    campaign_id: Id,
    request: Request,
    session: Session = db_session,
    user: User = console_user(*CAMPAIGN_APPROVERS),
) -> HTMLResponse | RedirectResponse:
    try:
        service.approve_campaign(
            session, actor=audit.Actor.of(user), campaign_id=campaign_id, now=clock_now(request)
        )
    except LendDeskError as exc:
        session.rollback()
        return _detail_page(request, session, user, campaign_id, error=exc)
    return _back(f"/care/campaigns/{campaign_id}", "approved")


@router.post("/care/campaigns/{campaign_id}/launch", response_model=None)
def launch(
    campaign_id: Id,
    request: Request,
    session: Session = db_session,
    user: User = console_user(*CAMPAIGN_AUTHORS),
) -> HTMLResponse | RedirectResponse:
    try:
        service.launch_campaign(
            session, actor=audit.Actor.of(user), campaign_id=campaign_id, now=clock_now(request)
        )
    except LendDeskError as exc:
        session.rollback()
        return _detail_page(request, session, user, campaign_id, error=exc)
    return _back(f"/care/campaigns/{campaign_id}", "launched")


# --- revisits -------------------------------------------------------------------------------------------


def _revisits_page(
    request: Request, session: Session, user: User, *, error: LendDeskError | None = None
) -> HTMLResponse:
    everyone = request.query_params.get("all") == "1" and user.role in ("team_lead", "compliance", "admin")
    return render(
        request,
        "care/revisits.html",
        user,
        status_code=error.status_code if error else 200,
        revisits=service.list_revisits(session, owner_id=None if everyone else user.id, status="open"),
        everyone=everyone,
        sources=service.SOURCE_LABELS_ZH,
        error=error.message_zh if error else None,
        notice=DONE.get(request.query_params.get("done", "")),
        now=clock_now(request),
    )


@router.get("/care/revisits", response_class=HTMLResponse)
def revisits_page(
    request: Request, session: Session = db_session, user: User = console_user(*REVISIT_WORKERS)
) -> HTMLResponse:
    return _revisits_page(request, session, user)


@router.post("/care/revisits/{revisit_id}/done", response_model=None)
async def revisit_done(
    revisit_id: Id,
    request: Request,
    session: Session = db_session,
    user: User = console_user(*REVISIT_WORKERS),
) -> HTMLResponse | RedirectResponse:
    form = await request.form()
    try:
        service.complete_revisit(
            session,
            actor=audit.Actor.of(user),
            revisit_id=revisit_id,
            outcome=_form_text(form, "outcome", 600),
            now=clock_now(request),
        )
    except LendDeskError as exc:
        session.rollback()
        return _revisits_page(request, session, user, error=exc)
    return _back("/care/revisits", "revisit_done")
