"""Set-based statements over the collections room's tables for other rooms' batch jobs (the risk
room's early-warning score), so that no other room names them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, and_, case, func, select

from lenddesk.collections.models import Outcome


def promise_behaviour(
    *, as_of: date, since: date, hardship_since: date, first_id: int, last_id: int
) -> Select:
    """Per borrower in [first_id, last_id]: promises to pay due in [since, as_of] and judged broken,
    and hardship outcomes recorded in [hardship_since, as_of]."""
    broken = and_(
        Outcome.promise_status == "broken", Outcome.promise_date >= since, Outcome.promise_date <= as_of
    )
    hardship = and_(
        Outcome.kind == "hardship", Outcome.promised_on >= hardship_since, Outcome.promised_on <= as_of
    )
    return (
        select(
            Outcome.borrower_id.label("borrower_id"),
            func.sum(case((broken, 1), else_=0)).label("broken_promises"),
            func.sum(case((hardship, 1), else_=0)).label("recent_hardship"),
        )
        .where(Outcome.borrower_id.between(first_id, last_id), broken | hardship)
        .group_by(Outcome.borrower_id)
    )
