"""Operations reports gathered from the rooms' read interfaces, shaped by `reports.operations`.

Each function returns plain rows (dicts) that the API answers as JSON or exports, and the console
renders as a table beside its chart. `own` restricts rows to one user's (agents, collectors);
`team` (a desk team's id) to one team's tickets, surveys, complaints — or, for promises and
collectors, to the collectors seated in the team.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from lenddesk.collections.service.figures import (
    PromiseBehind,
    collector_figures,
    promise_figures,
)
from lenddesk.collections.service.figures import promises_behind as collection_promises_behind
from lenddesk.core.db import utcnow
from lenddesk.core.errors import Unprocessable
from lenddesk.core.policy import get_policy
from lenddesk.desk import service as desk
from lenddesk.desk.complaint_stages import ROOT_CAUSES
from lenddesk.feedback import service as feedback
from lenddesk.feedback.service import day_start
from lenddesk.quality import scorecards
from lenddesk.reports import operations
from lenddesk.reports.service.queries import Period
from lenddesk.reports.states import month_end


def days_of(period: Period) -> tuple[date, date]:
    return date.fromisoformat(f"{period.first}-01"), month_end(period.last)


def team_id_of(session: Session, code: str | None) -> int | None:
    """The desk team of a `team` parameter (its code); unknown codes are refused."""
    if not code:
        return None
    team_id = desk.team_id_of(session, code)
    if team_id is None:
        raise Unprocessable(f"没有这个团队：{code}", f"No such team: {code}", code="unknown_team")
    return team_id


def _members(session: Session, team: int | None) -> list[int] | None:
    return None if team is None else desk.team_member_ids(session, team)


def promises(
    session: Session, period: Period, group_by: str, own: int | None, team: int | None = None
) -> list[dict[str, object]]:
    start, end = days_of(period)
    return operations.promise_rows(
        promise_figures(
            session,
            first=start,
            last=end,
            by=group_by,
            collector_id=own,
            collector_ids=_members(session, team),
        )
    )


def satisfaction(
    session: Session, period: Period, group_by: str, own: int | None, team: int | None = None
) -> tuple[dict[str, object] | None, list[dict[str, object]]]:
    """(total, rows); with `own`, only that agent's row and no total."""
    start, end = days_of(period)
    total, groups = feedback.summary(
        session,
        start=day_start(start),
        end=day_start(end + timedelta(days=1)),
        by="agent" if own is not None else group_by,
        team_id=team,
    )
    chosen = [group for group in groups if group.key == str(own)] if own is not None else groups
    rows = [operations.csat_row(group) for group in chosen]
    return (None if own is not None else operations.csat_row(total)), rows


def sla(
    session: Session, period: Period, group_by: str, own: int | None, team: int | None = None
) -> list[dict[str, object]]:
    start, end = days_of(period)
    by = "agent" if own is not None else group_by
    targets = desk.sla_figures(
        session, first=start, last=end, now=utcnow(), by=by, owner_id=own, team_id=team
    )
    fcr = desk.fcr_figures(
        session,
        first=start,
        last=end,
        calendar=get_policy().calendar.work_calendar(),
        by=by,
        owner_id=own,
        team_id=team,
    )
    return operations.sla_rows(targets, fcr)


def complaints(session: Session, period: Period, team: int | None = None) -> list[dict[str, object]]:
    start, end = days_of(period)
    counts = desk.complaint_root_causes(session, first=start, last=end, team_id=team)
    return operations.pareto_rows(counts, dict(ROOT_CAUSES))


def agents(
    session: Session, month: str, group_by: str, own: int | None, team: int | None = None
) -> list[dict[str, object]]:
    """Scorecard rows of the month: one's own, or every agent's (or team's), of `team` if given."""
    scope = "agent" if own is not None else group_by
    key = str(own) if own is not None else str(team) if team is not None and scope == "team" else None
    rows = scorecards.scorecards(session, period=month, scope=scope, key=key).rows
    if team is not None and scope == "agent":
        members = {str(user_id) for user_id in desk.team_member_ids(session, team)}
        rows = [card for card in rows if card.key in members]
    return operations.agent_rows(rows)


def collectors(
    session: Session, period: Period, own: int | None, team: int | None = None
) -> list[dict[str, object]]:
    start, end = days_of(period)
    figures = collector_figures(
        session, first=start, last=end, collector_id=own, collector_ids=_members(session, team)
    )
    return operations.collector_rows(figures, {})


# --- drill-down: the tickets and promises behind an operations figure -----------------------------


def tickets_behind(
    session: Session,
    period: Period,
    figure: str,
    *,
    owner: int | None = None,
    team: int | None = None,
    root_cause: str | None = None,
) -> list[desk.TicketBehind]:
    start, end = days_of(period)
    return desk.tickets_behind(
        session,
        figure=figure,
        first=start,
        last=end,
        now=utcnow(),
        calendar=get_policy().calendar.work_calendar(),
        owner_id=owner,
        team_id=team,
        root_cause=root_cause,
    )


def promises_behind(
    session: Session, period: Period, status: str | None, *, own: int | None = None, team: int | None = None
) -> list[PromiseBehind]:
    start, end = days_of(period)
    return collection_promises_behind(
        session,
        first=start,
        last=end,
        status=status,
        collector_id=own,
        collector_ids=_members(session, team),
    )
