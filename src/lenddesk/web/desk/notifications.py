"""Notifications: SLA breaches and complaint deadline alerts."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import LendDeskError
from lenddesk.core.http import db_session
from lenddesk.core.models import User
from lenddesk.desk import service
from lenddesk.desk.roles import DESK
from lenddesk.web.console import console_user, redirect, refused, render, request_time

router = APIRouter(include_in_schema=False)


# --- notifications (SLA breaches, complaint deadline alerts) ---------------------------------------


@router.get("/desk/notifications", response_class=HTMLResponse)
def notifications_page(
    request: Request, show: str = "unread", session: Session = db_session, user: User = console_user(*DESK)
) -> Response:
    unread_only = show != "all"
    rows = service.notifications_for(session, user_id=user.id, unread_only=unread_only)
    numbers = service.ticket_numbers(session, [n.ticket_id for n in rows if n.ticket_id is not None])
    return render(
        request, "desk/notifications.html", user, rows=rows, numbers=numbers, unread_only=unread_only
    )


@router.post("/desk/notifications/{notification_id}/read")
def post_notification_read(
    notification_id: int,
    request: Request,
    session: Session = db_session,
    user: User = console_user(*DESK),
) -> Response:
    try:
        service.mark_notification_read(
            session, actor=audit.Actor.of(user), notification_id=notification_id, now=request_time(request)
        )
    except LendDeskError as exc:
        return refused(session, exc, "/desk/notifications")
    return redirect("/desk/notifications", "已标记为已读")
