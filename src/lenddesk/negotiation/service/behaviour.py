"""Set-based statements over the negotiation room's tables for other rooms' batch jobs (the risk
room's early-warning score), so that no other room names them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, and_, func, literal, select, union_all

from lenddesk.core.calendar import SHANGHAI
from lenddesk.negotiation.models import Agreement, HardshipCase


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=SHANGHAI)


def negotiation_behaviour(
    *, as_of: date, since: date, hardship_since: date, first_id: int, last_id: int
) -> Select:
    """Per borrower in [first_id, last_id]: agreements found broken in [since, as_of], and hardship
    cases opened in [hardship_since, as_of] (Shanghai dates)."""
    broken = (
        select(
            HardshipCase.borrower_id.label("borrower_id"),
            literal(1).label("broken_agreements"),
            literal(0).label("recent_hardship"),
        )
        .join(Agreement, Agreement.case_id == HardshipCase.id)
        .where(
            HardshipCase.borrower_id.between(first_id, last_id),
            Agreement.status.in_(("breaking", "broken")),
            and_(Agreement.closed_on >= since, Agreement.closed_on <= as_of),
        )
    )
    cases = select(
        HardshipCase.borrower_id.label("borrower_id"),
        literal(0).label("broken_agreements"),
        literal(1).label("recent_hardship"),
    ).where(
        HardshipCase.borrower_id.between(first_id, last_id),
        HardshipCase.opened_at >= _start_of(hardship_since),
        HardshipCase.opened_at < _start_of(as_of + timedelta(days=1)),
    )
    rows = union_all(broken, cases).subquery()
    return select(
        rows.c.borrower_id,
        func.sum(rows.c.broken_agreements).label("broken_agreements"),
        func.sum(rows.c.recent_hardship).label("recent_hardship"),
    ).group_by(rows.c.borrower_id)
