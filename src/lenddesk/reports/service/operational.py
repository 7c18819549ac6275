"""Operations reports gathered from the rooms' read interfaces, shaped by `reports.operations`.

Each function returns plain rows (dicts) that the API answers as JSON or exports, and the console
renders as a table beside its chart. `own` restricts rows to one user's (agents, collectors).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from lenddesk.collections.service.figures import collector_figures, promise_figures
from lenddesk.core.db import utcnow
from lenddesk.core.policy import get_policy
from lenddesk.desk.complaint_stages import ROOT_CAUSES
from lenddesk.desk.service import figures as desk_figures
from lenddesk.feedback import service as feedback
from lenddesk.feedback.service import day_start
from lenddesk.quality import scorecards
from lenddesk.reports import operations
from lenddesk.reports.service.queries import Period
from lenddesk.reports.states import month_end


def days_of(period: Period) -> tuple[date, date]:
    return date.fromisoformat(f"{period.first}-01"), month_end(period.last)


def promises(session: Session, period: Period, group_by: str, own: int | None) -> list[dict[str, object]]:
    start, end = days_of(period)
    return operations.promise_rows(
        promise_figures(session, first=start, last=end, by=group_by, collector_id=own)
    )


def satisfaction(
    session: Session, period: Period, group_by: str, own: int | None
) -> tuple[dict[str, object] | None, list[dict[str, object]]]:
    """(total, rows); with `own`, only that agent's row and no total."""
    start, end = days_of(period)
    total, groups = feedback.summary(
        session,
        start=day_start(start),
        end=day_start(end + timedelta(days=1)),
        by="agent" if own is not None else group_by,
    )
    chosen = [group for group in groups if group.key == str(own)] if own is not None else groups
    rows = [operations.csat_row(group) for group in chosen]
    return (None if own is not None else operations.csat_row(total)), rows


def sla(session: Session, period: Period, group_by: str, own: int | None) -> list[dict[str, object]]:
    start, end = days_of(period)
    by = "agent" if own is not None else group_by
    targets = desk_figures.sla_figures(session, first=start, last=end, now=utcnow(), by=by, owner_id=own)
    fcr = desk_figures.fcr_figures(
        session, first=start, last=end, calendar=get_policy().calendar.work_calendar(), by=by, owner_id=own
    )
    return operations.sla_rows(targets, fcr)


def complaints(session: Session, period: Period) -> list[dict[str, object]]:
    start, end = days_of(period)
    counts = desk_figures.complaint_root_causes(session, first=start, last=end)
    return operations.pareto_rows(counts, dict(ROOT_CAUSES))


def agents(session: Session, month: str, group_by: str, own: int | None) -> list[dict[str, object]]:
    key = None if own is None else str(own)
    cards = scorecards.scorecards(
        session, period=month, scope="agent" if own is not None else group_by, key=key
    )
    return operations.agent_rows(cards.rows)


def collectors(session: Session, period: Period, own: int | None) -> list[dict[str, object]]:
    start, end = days_of(period)
    figures = collector_figures(session, first=start, last=end, collector_id=own)
    return operations.collector_rows(figures, {})
