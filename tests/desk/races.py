"""Concurrent callers of the desk's write paths, shared by the SQLite and PostgreSQL tests.

Each scenario takes a database URL (migrated, with one user per role named after the role), runs
its callers in threads released together by a barrier, each in its own session and transaction, and
asserts that what must be conserved is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from lenddesk.core import audit, auth
from lenddesk.core.db import make_engine, session_factory
from lenddesk.core.errors import LendDeskError
from lenddesk.core.models import AuditEntry, User
from lenddesk.desk import jobs, service
from lenddesk.desk.models import (
    Agent,
    Complaint,
    ComplaintExtension,
    FollowUp,
    Message,
    Notification,
    OptOut,
    OutboxMessage,
    Team,
    Ticket,
    TicketEvent,
)

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Tuesday 10:00 Shanghai
SYSTEM = audit.Actor.system("channel:test")


@dataclass
class Outcome:
    results: list[Any]
    errors: list[BaseException]


def run_together(factory: sessionmaker[Session], calls: list[Callable[[Session], Any]]) -> Outcome:
    """Run each call in its own thread and transaction, all released at once; commit each that succeeds."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(call: Callable[[Session], Any]) -> None:
        with factory() as session:
            barrier.wait()
            try:
                result = call(session)
                session.commit()
            except BaseException as exc:
                session.rollback()
                with lock:
                    errors.append(exc)
                return
            with lock:
                results.append(result)

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return Outcome(results, errors)


def only_refusals(outcome: Outcome, *codes: str) -> None:
    unexpected = [e for e in outcome.errors if not (isinstance(e, LendDeskError) and e.code in codes)]
    assert not unexpected, f"unexpected errors: {unexpected!r}"


def _actor(session: Session, username: str, role: str = "agent") -> audit.Actor:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = auth.create_user(
            session,
            actor=audit.Actor.system("tests"),
            username=username,
            password="correct-horse-1",
            role=role,
        )
        session.flush()
    return audit.Actor.of(user)


def prepare(url: str) -> tuple[sessionmaker[Session], dict[str, audit.Actor]]:
    """One team with no agent online (so new tickets are unowned) and the actors of the scenarios."""
    factory = session_factory(make_engine(url))
    with factory() as session:
        session.add(Team(code="general", name="综合服务组", skills=["*"]))
        actors = {
            name: _actor(session, name, role)
            for name, role in (
                ("agent", "agent"),
                ("agent2", "agent"),
                ("collector", "collector"),
                ("team_lead", "team_lead"),
                ("compliance", "compliance"),
            )
        }
        session.commit()
    return factory, actors


def _new_ticket(factory: sessionmaker[Session], sender: str, text: str = "你好") -> str:
    with factory() as session:
        result = service.intake(
            session,
            channel="chat",
            channel_message_id=f"first-{sender}",
            sender=sender,
            text=text,
            received_at=NOW,
            now=NOW,
            actor=SYSTEM,
        )
        session.commit()
    return result.ticket_number


def _loads_match_owned_tickets(session: Session) -> None:
    session.expire_all()
    owned = dict(
        session.execute(
            select(Ticket.owner_id, func.count(Ticket.id))
            .where(Ticket.active.is_(True), Ticket.owner_id.is_not(None))
            .group_by(Ticket.owner_id)
        ).all()
    )
    loads = {a.user_id: a.load for a in session.scalars(select(Agent)) if a.load}
    assert loads == owned


# --- scenarios ------------------------------------------------------------------------------------


def simultaneous_first_messages_make_one_ticket(url: str, senders: int = 6) -> None:
    factory, _ = prepare(url)
    calls = [
        lambda s, n=n: service.intake(
            s,
            channel="chat",
            channel_message_id=f"same-moment-{n}",
            sender="13900007777",
            text=f"第{n}条：我的还款没有入账",
            received_at=NOW,
            now=NOW,
            actor=SYSTEM,
        )
        for n in range(senders)
    ]
    outcome = run_together(factory, calls)
    assert not outcome.errors, outcome.errors
    with factory() as session:
        assert session.scalar(select(func.count(Ticket.id))) == 1
        assert session.scalar(select(func.count(Message.id))) == senders
        ticket = session.scalar(select(Ticket))
        assert ticket is not None and ticket.active
        inbound = session.scalar(
            select(func.count(TicketEvent.id)).where(
                TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "inbound"
            )
        )
        assert inbound == senders
    assert sorted(r.outcome for r in outcome.results) == ["created"] + ["joined"] * (senders - 1)


def racing_claims_leave_one_owner(url: str) -> None:
    factory, actors = prepare(url)
    number = _new_ticket(factory, "13900008888")
    takers = ("agent", "agent2", "collector")
    calls: list[Callable[[Session], Any]] = [
        lambda s, who=who: service.claim(s, actor=actors[who], number=number, now=NOW).owner_id
        for who in takers
    ]
    calls += [
        lambda s, who=who: (
            service.assign(
                s, actor=actors[who], number=number, owner_id=actors[who].user_id, team_code=None, now=NOW
            ).owner_id
        )
        for who in takers
    ]
    outcome = run_together(factory, calls)
    only_refusals(outcome, "ticket_owned")
    # The first to lock the ticket takes it; only that same person may take it again afterwards.
    assert len(set(outcome.results)) == 1 and 1 <= len(outcome.results) <= 2
    with factory() as session:
        owner = session.scalar(select(Ticket.owner_id).where(Ticket.number == number))
        assert owner == outcome.results[0]
        _loads_match_owned_tickets(session)


def racing_follow_up_completions_count_once(url: str) -> None:
    factory, actors = prepare(url)
    number = _new_ticket(factory, "13900009999")
    with factory() as session:
        follow_up = service.add_follow_up(
            session, actor=actors["agent"], number=number, due_at=NOW, note="回电", owner_id=None, now=NOW
        )
        session.commit()
        follow_up_id = follow_up.id
    calls = [
        lambda s, who=who: (
            service.complete_follow_up(s, actor=actors[who], follow_up_id=follow_up_id, now=NOW).id
        )
        for who in ("agent", "team_lead", "agent", "team_lead")
    ]
    outcome = run_together(factory, calls)
    assert not outcome.errors, outcome.errors
    with factory() as session:
        assert session.scalar(select(FollowUp.done).where(FollowUp.id == follow_up_id)) is True
        done = session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "follow_up.done"))
        assert done == 1


def _complaint(factory: sessionmaker[Session], sender: str) -> str:
    return _new_ticket(factory, sender, "客服态度太差了，我要投诉")


def racing_extensions_apply_one_step(url: str) -> None:
    factory, actors = prepare(url)
    number = _complaint(factory, "13900006666")
    calls = [
        lambda s, who=who: (
            service.extend_complaint(
                s, actor=actors[who], number=number, days=30, reason="需调取录音", now=NOW
            ).id
        )
        for who in ("agent", "agent2", "team_lead", "compliance")
    ]
    outcome = run_together(factory, calls)
    only_refusals(outcome, "complaint_extension_days")
    assert len(outcome.results) == 1
    with factory() as session:
        assert session.scalar(select(Complaint.resolution_days)) == 30
        assert session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "notice")) == 1


def racing_approvals_apply_once(url: str) -> None:
    factory, actors = prepare(url)
    number = _complaint(factory, "13900005555")
    with factory() as session:
        service.extend_complaint(
            session, actor=actors["agent"], number=number, days=30, reason="复杂", now=NOW
        )
        service.extend_complaint(
            session, actor=actors["agent"], number=number, days=60, reason="涉及司法程序", now=NOW
        )
        session.commit()
    calls = [
        lambda s, who=who: service.approve_extension(s, actor=actors[who], number=number, now=NOW).id
        for who in ("team_lead", "compliance", "team_lead", "compliance")
    ]
    outcome = run_together(factory, calls)
    only_refusals(outcome, "complaint_extension_none_pending")
    assert len(outcome.results) == 1
    with factory() as session:
        assert session.scalar(select(Complaint.resolution_days)) == 60
        assert session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "notice")) == 2
        statuses = sorted(session.scalars(select(ComplaintExtension.status)))
        assert statuses == ["applied", "approved"]


def racing_alert_jobs_alert_once(url: str) -> None:
    factory, actors = prepare(url)
    number = _complaint(factory, "13900004444")
    with factory() as session:
        service.claim(session, actor=actors["agent"], number=number, now=NOW)
        session.commit()
    breach = NOW + timedelta(days=16)
    outcome = run_together(factory, [lambda s: jobs.complaint_alerts(s, now=breach) for _ in range(4)])
    assert not outcome.errors, outcome.errors
    with factory() as session:
        kinds = session.scalars(
            select(Notification.kind).where(Notification.kind == "complaint_breach")
        ).all()
        assert len(kinds) == 2  # the owner and the team lead, once each


def simultaneous_messages_reopen_a_closed_ticket_once(url: str, senders: int = 4) -> None:
    factory, actors = prepare(url)
    number = _new_ticket(factory, "13900003333")
    with factory() as session:
        service.change_status(
            session, actor=actors["agent"], number=number, status="closed", reason=None, now=NOW
        )
        session.commit()
    later = NOW + timedelta(hours=2)
    calls = [
        lambda s, n=n: (
            service.intake(
                s,
                channel="chat",
                channel_message_id=f"again-{n}",
                sender="13900003333",
                text="还是没有解决",
                received_at=later,
                now=later,
                actor=SYSTEM,
            ).outcome
        )
        for n in range(senders)
    ]
    outcome = run_together(factory, calls)
    assert not outcome.errors, outcome.errors
    assert sorted(outcome.results) == ["joined"] * (senders - 1) + ["reopened"]
    with factory() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None and ticket.active and ticket.reopened_count == 1
        assert session.scalar(select(func.count(Ticket.id))) == 1


def racing_stage_records_record_each_stage_once(url: str) -> None:
    factory, actors = prepare(url)
    number = _complaint(factory, "13900002222")
    calls = [
        lambda s, who=who: (
            service.advance_complaint(
                s, actor=actors[who], number=number, stage="confirm", content="已致电确认", now=NOW
            ).stage
        )
        for who in ("agent", "agent2", "team_lead", "compliance")
    ]
    outcome = run_together(factory, calls)
    only_refusals(outcome, "complaint_stage_repeated")
    assert outcome.results == ["confirm"]
    with factory() as session:
        recorded = session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "complaint.stage")
        )
        assert recorded == 1


def racing_resolutions_end_a_ticket_once(url: str) -> None:
    factory, actors = prepare(url)
    number = _new_ticket(factory, "13900001212")
    with factory() as session:
        service.claim(session, actor=actors["agent"], number=number, now=NOW)
        session.commit()
    calls = [
        lambda s, who=who, status=status: (
            service.change_status(
                s, actor=actors[who], number=number, status=status, reason=None, now=NOW
            ).status
        )
        for who, status in (
            ("agent", "resolved"),
            ("team_lead", "resolved"),
            ("agent2", "closed"),
            ("agent", "closed"),
        )
    ]
    outcome = run_together(factory, calls)
    only_refusals(outcome, "status_transition")
    with factory() as session:
        _loads_match_owned_tickets(session)
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None and not ticket.active
        changes = session.scalars(
            select(TicketEvent.data).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "status")
        ).all()
        assert [c["to"] for c in changes] == outcome.results  # each success recorded once, in lock order


def approval_and_rejection_at_once_settle_the_request_once(url: str) -> None:
    factory, actors = prepare(url)
    number = _complaint(factory, "13900001313")
    with factory() as session:
        service.extend_complaint(
            session, actor=actors["agent"], number=number, days=30, reason="复杂", now=NOW
        )
        service.extend_complaint(
            session, actor=actors["agent"], number=number, days=60, reason="司法程序", now=NOW
        )
        session.commit()
    calls: list[Callable[[Session], Any]] = [
        lambda s: service.approve_extension(s, actor=actors["team_lead"], number=number, now=NOW).status,
        lambda s: (
            service.reject_extension(
                s, actor=actors["compliance"], number=number, reason="材料不足", now=NOW
            ).status
        ),
    ]
    outcome = run_together(factory, calls)
    only_refusals(outcome, "complaint_extension_none_pending")
    assert len(outcome.results) == 1
    with factory() as session:
        days = session.scalar(select(Complaint.resolution_days))
        notices = session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "notice"))
        assert (days, notices) == ((60, 2) if outcome.results == ["approved"] else (30, 1))


def racing_opt_outs_record_one_row(url: str) -> None:
    """The same 退订 delivered four times at once (an SMS gateway retrying): one opt-out row."""
    factory, _ = prepare(url)
    calls = [
        lambda s, address=address: service.record_opt_out(
            s, channel="sms", address=address, borrower_id=None, source="sms_reply", now=NOW
        )
        for address in ("13900001313", "+86 139 0000 1313", "13900001313", "8613900001313")
    ]
    outcome = run_together(factory, calls)
    assert outcome.errors == []
    with factory() as session:
        rows = session.scalars(select(OptOut)).all()
        assert [(row.channel, row.address) for row in rows] == [("sms", "13900001313")]
