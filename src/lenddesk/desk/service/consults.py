"""Consults with other departments and follow-ups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.calendar import SHANGHAI, business_date
from lenddesk.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from lenddesk.core.models import User
from lenddesk.core.policy import calendar_from_policy
from lenddesk.desk import sla
from lenddesk.desk.models import Consult, FollowUp, Ticket
from lenddesk.desk.service._common import (
    DEPARTMENTS,
    _event,
    _require_text,
    _set_status,
    desk_policy,
    get_ticket,
    lock_ticket,
    require_one_of,
)
from lenddesk.desk.service.lifecycle import LEAD_ROLES

# --- consults -------------------------------------------------------------------------------------


def open_consult(
    session: Session, *, actor: audit.Actor, number: str, department: str, question: str, now: datetime
) -> Consult:
    """Ask another department; the ticket waits (pending_internal) until every consult is answered."""
    require_one_of(department, DEPARTMENTS, what_zh="部门", what_en="department", code="unknown_department")
    ticket = get_ticket(session, number=number)
    question = _require_text(question, "咨询问题", "question")
    due = sla.add_service_minutes(
        now, desk_policy().consult_minutes, sla.TeamHours(), calendar_from_policy()
    ).at
    consult = Consult(
        ticket_id=ticket.id,
        department=department,
        question=question,
        status="open",
        requested_by=actor.name,
        requested_at=now,
        due_at=due,
    )
    session.add(consult)
    session.flush()
    if ticket.status in ("new", "open", "pending_customer"):
        _set_status(
            session, ticket, "pending_internal", actor=actor, at=now, reason=f"咨询{DEPARTMENTS[department]}"
        )
    _event(
        session,
        ticket,
        "consult",
        actor,
        f"咨询{DEPARTMENTS[department]}：{question}",
        at=now,
        data={"consult_id": consult.id, "department": department, "due_at": due.isoformat()},
    )
    audit.record(session, actor, "consult.open", ("consult", consult.id), None, {"ticket": ticket.number})
    return consult


def answer_consult(
    session: Session, *, actor: audit.Actor, consult_id: int, answer: str, now: datetime
) -> Consult:
    consult = session.get(Consult, consult_id)
    if consult is None:
        raise NotFound(f"咨询不存在：{consult_id}", f"No such consult: {consult_id}")
    if consult.status != "open":
        raise Conflict("该咨询已答复", "The consult is already answered", code="consult_answered")
    consult.answer = _require_text(answer, "答复", "answer")
    consult.status, consult.answered_by, consult.answered_at = "answered", actor.name, now
    ticket = session.get(Ticket, consult.ticket_id)
    assert ticket is not None
    session.flush()
    still_open = session.scalar(
        select(func.count(Consult.id)).where(Consult.ticket_id == ticket.id, Consult.status == "open")
    )
    if not still_open and ticket.status == "pending_internal":
        _set_status(session, ticket, "open", actor=actor, at=now, reason="部门已答复")
    _event(
        session,
        ticket,
        "consult",
        actor,
        f"{DEPARTMENTS[consult.department]}答复：{consult.answer}",
        at=now,
        data={"consult_id": consult.id},
    )
    audit.record(session, actor, "consult.answer", ("consult", consult.id), None, {"answer": consult.answer})
    return consult


# --- follow-ups -----------------------------------------------------------------------------------

FOLLOW_UP_YEARS = (1900, 2199)  # the span of business dates the API accepts (core.http.Day)


def add_follow_up(
    session: Session,
    *,
    actor: audit.Actor,
    number: str,
    due_at: datetime,
    note: str,
    owner_id: int | None,
    now: datetime,
) -> FollowUp:
    ticket = get_ticket(session, number=number)
    owner = owner_id if owner_id is not None else actor.user_id
    if owner is None or session.get(User, owner) is None:
        raise Unprocessable("跟进负责人无效", "The follow-up needs a valid owner", code="bad_owner")
    if not FOLLOW_UP_YEARS[0] <= due_at.year <= FOLLOW_UP_YEARS[1]:
        # 0001-01-01 in Shanghai is before the first moment UTC can hold: refused, not a crash
        raise Unprocessable(
            "跟进时间须在 1900 年至 2199 年之间",
            "The follow-up time must fall between 1900 and 2199",
            code="bad_due_at",
        )
    follow_up = FollowUp(
        ticket_id=ticket.id,
        owner_id=owner,
        due_at=due_at,
        note=_require_text(note, "跟进内容", "note"),
        done=False,
        created_by=actor.name,
        created_at=now,
    )
    session.add(follow_up)
    session.flush()
    _event(
        session,
        ticket,
        "follow_up",
        actor,
        f"预约跟进：{note}",
        at=now,
        data={"follow_up_id": follow_up.id, "due_at": due_at.isoformat(), "owner_id": owner},
    )
    audit.record(
        session, actor, "follow_up.create", ("follow_up", follow_up.id), None, {"ticket": ticket.number}
    )
    return follow_up


def complete_follow_up(session: Session, *, actor: audit.Actor, follow_up_id: int, now: datetime) -> FollowUp:
    """The follow-up's owner, or a team lead, marks it done (once; again is a no-op)."""
    follow_up = session.get(FollowUp, follow_up_id)
    if follow_up is None:
        raise NotFound(f"跟进不存在：{follow_up_id}", f"No such follow-up: {follow_up_id}")
    if follow_up.owner_id != actor.user_id and actor.role not in LEAD_ROLES:
        raise Forbidden(
            "只能完成自己的跟进（组长除外）",
            "Only the follow-up's owner or a team lead may complete it",
            code="follow_up_not_yours",
        )
    ticket = lock_ticket(session, ticket_id=follow_up.ticket_id)
    session.refresh(follow_up)
    if follow_up.done:
        return follow_up
    follow_up.done, follow_up.done_at = True, now
    _event(session, ticket, "follow_up", actor, "跟进已完成", at=now, data={"follow_up_id": follow_up.id})
    audit.record(
        session, actor, "follow_up.done", ("follow_up", follow_up.id), {"done": False}, {"done": True}
    )
    return follow_up


@dataclass(frozen=True)
class FollowUpRow:
    id: int
    ticket_number: str
    due_at: datetime
    note: str
    owner_id: int
    overdue: bool


def follow_ups_due(session: Session, *, owner_id: int | None, now: datetime) -> list[FollowUpRow]:
    """Open follow-ups due by the end of today (Shanghai), overdue ones included."""
    end_of_today = datetime.combine(business_date(now) + timedelta(days=1), time(0), tzinfo=SHANGHAI)
    statement = (
        select(FollowUp, Ticket.number)
        .join(Ticket, Ticket.id == FollowUp.ticket_id)
        .where(FollowUp.done.is_(False), FollowUp.due_at < end_of_today)
        .order_by(FollowUp.due_at)
    )
    if owner_id is not None:
        statement = statement.where(FollowUp.owner_id == owner_id)
    return [
        FollowUpRow(f.id, number, f.due_at, f.note, f.owner_id, f.due_at < now)
        for f, number in session.execute(statement).all()
    ]
