"""Follow-ups due today."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import LendDeskError
from lenddesk.core.http import db_session
from lenddesk.core.models import User
from lenddesk.desk import service
from lenddesk.desk.roles import DESK, LEADS
from lenddesk.web.console import console_user, may, redirect, refused, render, request_time, safe_back

router = APIRouter(include_in_schema=False)


# --- follow-ups due today -------------------------------------------------------------------------


@router.get("/desk/follow-ups", response_class=HTMLResponse)
def follow_ups_page(
    request: Request,
    everyone: bool = False,
    session: Session = db_session,
    user: User = console_user(*DESK),
) -> Response:
    everyone = everyone and may(user, LEADS)
    rows = service.follow_ups_due(session, owner_id=None if everyone else user.id, now=request_time(request))
    names = {agent.user_id: agent.name for agent in service.list_agents(session)} | {
        user.id: user.display_name
    }
    return render(
        request,
        "desk/follow_ups.html",
        user,
        rows=rows,
        names=names,
        everyone=everyone,
        can_see_everyone=may(user, LEADS),
    )


@router.post("/desk/follow-ups/{follow_up_id}/done")
def post_follow_up_done(
    follow_up_id: int,
    request: Request,
    back: str = Form("/desk/follow-ups"),
    session: Session = db_session,
    user: User = console_user(*DESK),
) -> Response:
    try:
        service.complete_follow_up(
            session, actor=audit.Actor.of(user), follow_up_id=follow_up_id, now=request_time(request)
        )
    except LendDeskError as exc:
        return refused(session, exc, safe_back(back, "/desk"))
    return redirect(safe_back(back, "/desk"), "跟进已完成")
