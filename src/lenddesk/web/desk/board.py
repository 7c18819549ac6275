"""The team lead's board."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import LendDeskError
from lenddesk.core.http import db_session
from lenddesk.core.models import User
from lenddesk.desk import service
from lenddesk.desk.roles import LEADS
from lenddesk.web.console import console_user, redirect, refused, render, request_time

router = APIRouter(include_in_schema=False)


# --- team-lead board ------------------------------------------------------------------------------


@router.get("/desk/board", response_class=HTMLResponse)
def board_page(
    request: Request, session: Session = db_session, user: User = console_user(*LEADS)
) -> Response:
    teams = service.team_board(session)
    agents = service.list_agents(session)
    team_names = {team.team_id: team.name for team in teams}
    return render(
        request,
        "desk/board.html",
        user,
        teams=teams,
        agents=agents,
        team_names=team_names,
        totals={
            "active": sum(t.active for t in teams),
            "unassigned": sum(t.unassigned for t in teams),
            "at_risk": sum(t.at_risk for t in teams),
            "breached": sum(t.breached for t in teams),
        },
    )


@router.post("/desk/board/agents/{user_id}/status")
def post_board_agent_status(
    user_id: int,
    request: Request,
    status: str = Form(""),
    session: Session = db_session,
    user: User = console_user(*LEADS),
) -> Response:
    try:
        service.set_agent_status(
            session, actor=audit.Actor.of(user), user_id=user_id, status=status, now=request_time(request)
        )
    except LendDeskError as exc:
        return refused(session, exc, "/desk/board")
    return redirect("/desk/board", "坐席状态已更新")
