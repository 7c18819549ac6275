"""Console pages of the incidents room: 应急 (the list and the declaration form; one incident's
timeline, checklist, updates with their broadcast, and resolution), the public status page
(/status, no sign-in) and the banner every console page shows while an incident is active.

Plain server-rendered forms that POST and redirect back; a refused action re-renders the page with
the message in Chinese.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from lenddesk.core import audit, auth
from lenddesk.core.errors import LendDeskError
from lenddesk.core.http import Id, db_session
from lenddesk.core.models import User
from lenddesk.incidents import rules, service
from lenddesk.incidents.roles import INCIDENT_HANDLERS, INCIDENT_READERS
from lenddesk.web.console import (
    add_banner,
    add_nav,
    console_user,
    error_page,
    local_time,
    redirect,
    refused,
    render,
    request_time,
)

router = APIRouter(include_in_schema=False)

add_nav("应急", "/incidents", *INCIDENT_READERS, area="风控")


def _banner(request: Request) -> Markup | None:
    """Every active incident, linked, above the page (its own short read: `render` has no session)."""
    with request.app.state.session_factory() as session:
        active = [(view.incident.id, view.incident.kind, view.incident.title, view.incident.pause_outbound)
                  for view in service.active_incidents(session)]  # fmt: skip
    if not active:
        return None
    parts = [
        Markup('<a href="/incidents/{}">#{} {}：{}</a>{}').format(
            number, number, rules.KIND_LABELS_ZH[kind], title, "（提醒与催收外呼已暂停）" if paused else ""
        )
        for number, kind, title, paused in active
    ]
    return Markup(
        '<div class="incident-banner" role="alert" data-testid="incident-banner">应急事件进行中：{}</div>'
    ).format(Markup("；").join(parts))


add_banner(_banner)


def _may_handle(user: User) -> bool:
    return user.role in (*INCIDENT_HANDLERS, "admin")


def _form_text(form, name: str) -> str:  # type: ignore[no-untyped-def]
    value = form.get(name)
    return value if isinstance(value, str) else ""


# --- the list and the declaration -------------------------------------------------------------------


def _list_page(request: Request, session: Session, user: User, **context: object) -> HTMLResponse:
    return render(
        request,
        "incidents/list.html",
        user,
        incidents=service.list_incidents(session, limit=200),
        kinds=rules.KIND_LABELS_ZH,
        status_labels=rules.STATUS_LABELS_ZH,
        may_handle=_may_handle(user),
        local_time=local_time,
        **context,
    )


@router.get("/incidents", response_class=HTMLResponse)
def incidents_page(
    request: Request, session: Session = db_session, user: User = console_user(*INCIDENT_READERS)
) -> HTMLResponse:
    return _list_page(request, session, user)


@router.post("/incidents", response_model=None)
async def declare(
    request: Request, session: Session = db_session, user: User = console_user(*INCIDENT_HANDLERS)
) -> HTMLResponse | RedirectResponse:
    form = await request.form()
    products_text = _form_text(form, "products").replace("，", ",")
    products = [code.strip() for code in products_text.split(",") if code.strip()] or None
    try:
        incident = service.declare(
            session,
            actor=audit.Actor.of(user),
            kind=_form_text(form, "kind"),
            title=_form_text(form, "title"),
            public_notice=_form_text(form, "public_notice"),
            pause_outbound=form.get("pause_outbound") == "on",
            products=products,
            now=request_time(request),
        )
    except LendDeskError as exc:
        return _list_page(request, session, user, **refused(session, exc), form=dict(form))
    return redirect(f"/incidents/{incident.id}", f"已宣布应急事件 #{incident.id}")


# --- one incident -----------------------------------------------------------------------------------


def _incident_page(
    request: Request, session: Session, user: User, incident_id: int, **context: object
) -> HTMLResponse:
    view = service.incident_view(session, incident_id=incident_id)
    return render(
        request,
        "incidents/detail.html",
        user,
        view=view,
        kinds=rules.KIND_LABELS_ZH,
        status_labels=rules.STATUS_LABELS_ZH,
        may_handle=_may_handle(user),
        local_time=local_time,
        **context,
    )


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(
    incident_id: Id,
    request: Request,
    session: Session = db_session,
    user: User = console_user(*INCIDENT_READERS),
) -> HTMLResponse:
    try:
        return _incident_page(request, session, user, incident_id)
    except LendDeskError as exc:
        return error_page(request, user, exc)  # type: ignore[return-value]


@router.post("/incidents/{incident_id}/checklist/{code}", response_model=None)
def complete_item(
    incident_id: Id,
    code: str,
    request: Request,
    session: Session = db_session,
    user: User = console_user(*INCIDENT_HANDLERS),
) -> RedirectResponse:
    try:
        service.complete_item(
            session,
            actor=audit.Actor.of(user),
            incident_id=incident_id,
            code=code[:32],
            now=request_time(request),
        )
    except LendDeskError as exc:
        return refused(session, exc, f"/incidents/{incident_id}")
    return redirect(f"/incidents/{incident_id}", "检查项已完成")


@router.post("/incidents/{incident_id}/updates", response_model=None)
async def publish_update(
    incident_id: Id,
    request: Request,
    session: Session = db_session,
    user: User = console_user(*INCIDENT_HANDLERS),
) -> HTMLResponse | RedirectResponse:
    form = await request.form()
    try:
        update = service.publish_update(
            session,
            actor=audit.Actor.of(user),
            incident_id=incident_id,
            text=_form_text(form, "text"),
            broadcast=form.get("broadcast") == "on",
            now=request_time(request),
        )
    except LendDeskError as exc:
        context = refused(session, exc)
        return _incident_page(
            request, session, user, incident_id, **context, update_text=_form_text(form, "text")
        )
    sent = f"，已通知 {update.recipients} 位借款人" if update.broadcast else ""
    return redirect(f"/incidents/{incident_id}", f"更新已发布{sent}")


@router.post("/incidents/{incident_id}/resolve", response_model=None)
async def resolve(
    incident_id: Id,
    request: Request,
    session: Session = db_session,
    user: User = console_user(*INCIDENT_HANDLERS),
) -> HTMLResponse | RedirectResponse:
    form = await request.form()
    try:
        service.resolve(
            session,
            actor=audit.Actor.of(user),
            incident_id=incident_id,
            summary=_form_text(form, "summary"),
            now=request_time(request),
        )
    except LendDeskError as exc:
        return _incident_page(request, session, user, incident_id, **refused(session, exc))
    return redirect(f"/incidents/{incident_id}", "应急事件已解除")


# --- the public status page -------------------------------------------------------------------------


@router.get("/status", response_class=HTMLResponse, dependencies=[auth.public()])
def status_page(request: Request, session: Session = db_session) -> HTMLResponse:
    return render(
        request,
        "incidents/status.html",
        None,
        incidents=service.active_incidents(session),
        kinds=rules.KIND_LABELS_ZH,
        local_time=local_time,
    )
