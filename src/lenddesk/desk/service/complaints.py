"""Complaint cases: opening, stages, extensions, closing, the summary and the deadline alerts job."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.calendar import SHANGHAI, business_date
from lenddesk.core.errors import Conflict, Forbidden, NotFound
from lenddesk.core.policy import calendar_from_policy
from lenddesk.desk import complaint_stages
from lenddesk.desk.models import (
    Complaint,
    ComplaintAlert,
    ComplaintExtension,
    ComplaintStage,
    Team,
    Ticket,
)
from lenddesk.desk.service._common import (
    _auto_assign,
    _event,
    _recompute_sla,
    _require_text,
    _set_owner,
    _set_status,
    _team_leads,
    _team_of,
    desk_policy,
    get_ticket,
    lock_ticket,
    require_one_of,
)
from lenddesk.desk.service.notifications import Notice, notify
from lenddesk.desk.service.outbox import queue_outbound
from lenddesk.desk.service.verification import _chinese_date

# --- complaints -----------------------------------------------------------------------------------


def _extension_rule() -> complaint_stages.ExtensionRule:
    policy = desk_policy()
    return complaint_stages.ExtensionRule(policy.complaint_complex_days, policy.complaint_senior_days)


def _complaint_columns(source: str, received_at: datetime) -> dict[str, Any]:
    """A new complaint at the receive stage, with its acknowledgment and resolution due dates."""
    policy = desk_policy()
    return {
        "source": source,
        "flagged": source in ("regulator", "media"),
        "received_at": received_at,
        "stage": "receive",
        "ack_due_at": complaint_stages.acknowledgment_due(
            received_at, policy.complaint_ack_business_days, calendar_from_policy()
        ),
        "resolution_days": policy.complaint_resolution_days,
        "resolution_due_at": complaint_stages.resolution_due(received_at, policy.complaint_resolution_days),
    }


def _complaint_tags(source: str, tags: Sequence[str] = ()) -> list[str]:
    return sorted(set(tags) | {"complaint"} | ({source} if source != "customer" else set()))


def _complaint_event(source: str, received_at: datetime) -> dict[str, Any]:
    """Body, time and data of the timeline line that records a received complaint."""
    flagged = source in ("regulator", "media")
    return {
        "body": "投诉已受理" + ("（监管/媒体来源，已标记）" if flagged else ""),
        "at": received_at,
        "data": {"stage": "receive", "source": source, "flagged": flagged},
    }


def _open_complaint(
    session: Session, ticket: Ticket, *, actor: audit.Actor, source: str, content: str, received_at: datetime
) -> Complaint:
    complaint = Complaint(ticket_id=ticket.id, **_complaint_columns(source, received_at))
    session.add(complaint)
    session.flush()
    session.add(
        ComplaintStage(
            complaint_id=complaint.id,
            stage="receive",
            actor_id=actor.user_id,
            actor_name=actor.name,
            at=received_at,
            content=content,
        )
    )
    ticket.tags = _complaint_tags(source, ticket.tags or [])
    _event(session, ticket, "complaint", actor, **_complaint_event(source, received_at))
    if complaint.flagged:
        team = session.scalar(select(Team).where(Team.code == desk_policy().complaints_team))
        if team is not None and ticket.team_id != team.id:
            ticket.team_id = team.id
            _set_owner(session, ticket, None)
            _auto_assign(session, ticket, team)
            _recompute_sla(ticket, team, now=received_at)
    return complaint


def open_complaint(
    session: Session, *, actor: audit.Actor, number: str, source: str, content: str, now: datetime
) -> Complaint:
    """Record a complaint on a ticket (the receive stage); regulator/media sources are flagged."""
    require_one_of(
        source,
        complaint_stages.SOURCES,
        what_zh="投诉来源",
        what_en="complaint source",
        code="unknown_source",
    )
    ticket = get_ticket(session, number=number)
    if session.scalar(select(Complaint.id).where(Complaint.ticket_id == ticket.id)) is not None:
        raise Conflict("该工单已登记投诉", "The ticket already has a complaint", code="complaint_exists")
    complaint = _open_complaint(
        session, ticket, actor=actor, source=source, content=_require_text(content), received_at=now
    )
    audit.record(
        session,
        actor,
        "complaint.open",
        ("complaint", complaint.id),
        None,
        {"ticket": ticket.number, "source": source},
    )
    return complaint


def get_complaint(session: Session, *, number: str) -> tuple[Ticket, Complaint]:
    ticket = get_ticket(session, number=number)
    complaint = session.scalar(select(Complaint).where(Complaint.ticket_id == ticket.id))
    if complaint is None:
        raise NotFound(
            f"工单 {number} 没有投诉记录", f"Ticket {number} has no complaint", code="complaint_not_found"
        )
    return ticket, complaint


def _open_complaint_locked(session: Session, number: str) -> tuple[Ticket, Complaint]:
    """The ticket (locked) and its complaint, which must still be open."""
    ticket = lock_ticket(session, number=number)
    complaint = session.scalar(
        select(Complaint).where(Complaint.ticket_id == ticket.id).execution_options(populate_existing=True)
    )
    if complaint is None:
        raise NotFound(
            f"工单 {number} 没有投诉记录", f"Ticket {number} has no complaint", code="complaint_not_found"
        )
    if complaint.closed_at is not None:
        raise Conflict("投诉已结案", "The complaint is closed", code="complaint_closed")
    return ticket, complaint


def _pending_extension(session: Session, complaint: Complaint) -> ComplaintExtension | None:
    return session.scalar(
        select(ComplaintExtension).where(
            ComplaintExtension.complaint_id == complaint.id, ComplaintExtension.status == "pending"
        )
    )


def _stages_done(session: Session, complaint: Complaint) -> list[str]:
    recorded = set(
        session.scalars(select(ComplaintStage.stage).where(ComplaintStage.complaint_id == complaint.id))
    )
    return [stage for stage in complaint_stages.STAGES if stage in recorded]


def advance_complaint(
    session: Session, *, actor: audit.Actor, number: str, stage: str, content: str, now: datetime
) -> Complaint:
    ticket, complaint = _open_complaint_locked(session, number)
    complaint_stages.check_advance(_stages_done(session, complaint), stage)
    content = _require_text(content, "环节内容", "stage content")
    session.add(
        ComplaintStage(
            complaint_id=complaint.id,
            stage=stage,
            actor_id=actor.user_id,
            actor_name=actor.name,
            at=now,
            content=content,
        )
    )
    before = {"stage": complaint.stage}
    complaint.stage = stage
    if stage == "confirm":
        complaint.acknowledged_at = now
    _event(
        session,
        ticket,
        "complaint",
        actor,
        f"投诉环节「{complaint_stages.STAGE_LABELS[stage]}」：{content}",
        at=now,
        data={"stage": stage},
    )
    audit.record(session, actor, "complaint.stage", ("complaint", complaint.id), before, {"stage": stage})
    return complaint


def extend_complaint(
    session: Session, *, actor: audit.Actor, number: str, days: int, reason: str, now: datetime
) -> ComplaintExtension:
    """Ask to extend the resolution deadline one step (15 → 30 → 60 days), before it has passed.

    The complex-case step (30) applies at once and notifies the complainant; the senior step (60)
    waits, pending, for a different person of a senior role to approve it (`approve_extension`).
    """
    ticket, complaint = _open_complaint_locked(session, number)
    if _pending_extension(session, complaint) is not None:
        raise Conflict(
            "已有一项延期申请等待批准",
            "An extension is already waiting for approval",
            code="complaint_extension_pending",
        )
    rule = _extension_rule()
    complaint_stages.check_extension(
        current_days=complaint.resolution_days,
        requested_days=days,
        reason=reason,
        due_at=complaint.resolution_due_at,
        now=now,
        rule=rule,
    )
    extension = ComplaintExtension(
        complaint_id=complaint.id,
        days=days,
        reason=reason.strip(),
        requested_by=actor.name,
        requested_by_id=actor.user_id,
        status="pending" if rule.needs_approval(days) else "applied",
        at=now,
        new_due_at=complaint_stages.resolution_due(complaint.received_at, days),
    )
    session.add(extension)
    if extension.status == "applied":
        _apply_extension(session, ticket, complaint, extension, actor=actor, now=now)
        return extension
    session.flush()
    _event(
        session,
        ticket,
        "complaint",
        actor,
        f"申请将投诉处理期限延至 {days} 天：{extension.reason}（待另一位上级批准）",
        at=now,
        data={"days": days, "extension_id": extension.id, "status": "pending"},
    )
    after = {"days": days, "reason": extension.reason, "status": "pending"}
    audit.record(session, actor, "complaint.extend_request", ("complaint", complaint.id), None, after)
    return extension


def next_extension_days(complaint: Complaint) -> int | None:
    """The one extension the complaint may still ask for (the console offers only that)."""
    return _extension_rule().next_step(complaint.resolution_days)


def approve_extension(
    session: Session, *, actor: audit.Actor, number: str, now: datetime
) -> ComplaintExtension:
    """A senior person other than the requester approves the pending extension (before the deadline)."""
    ticket, complaint = _open_complaint_locked(session, number)
    extension = _pending_extension(session, complaint)
    if extension is None:
        raise Conflict(
            "没有等待批准的延期申请",
            "No extension is waiting for approval",
            code="complaint_extension_none_pending",
        )
    complaint_stages.check_approval(
        requester_id=extension.requested_by_id,
        approver_id=actor.user_id,
        approver_role=actor.role,
        senior_roles=desk_policy().complaint_senior_roles,
    )
    complaint_stages.check_before_deadline(complaint.resolution_due_at, now)
    extension.status, extension.approved_at = "approved", now
    extension.approved_by, extension.approved_by_id = actor.name, actor.user_id
    _apply_extension(session, ticket, complaint, extension, actor=actor, now=now)
    return extension


def reject_extension(
    session: Session, *, actor: audit.Actor, number: str, reason: str, now: datetime
) -> ComplaintExtension:
    """A senior person turns the pending extension down, with a reason."""
    ticket, complaint = _open_complaint_locked(session, number)
    extension = _pending_extension(session, complaint)
    if extension is None:
        raise Conflict(
            "没有等待批准的延期申请",
            "No extension is waiting for approval",
            code="complaint_extension_none_pending",
        )
    if actor.role != "admin" and actor.role not in desk_policy().complaint_senior_roles:
        raise Forbidden(
            "只有组长或合规人员可以驳回延期申请",
            "Only a senior role may turn an extension down",
            code="complaint_extension_needs_approval",
        )
    reason = _require_text(reason, "驳回原因", "reason")
    extension.status, extension.approved_at = "rejected", now
    extension.approved_by, extension.approved_by_id = actor.name, actor.user_id
    _event(
        session,
        ticket,
        "complaint",
        actor,
        f"延期至 {extension.days} 天的申请未获批准：{reason}",
        at=now,
        data={"extension_id": extension.id, "status": "rejected"},
    )
    audit.record(
        session,
        actor,
        "complaint.extend_reject",
        ("complaint", complaint.id),
        {"status": "pending"},
        {"status": "rejected", "reason": reason},
    )
    return extension


def _apply_extension(
    session: Session,
    ticket: Ticket,
    complaint: Complaint,
    extension: ComplaintExtension,
    *,
    actor: audit.Actor,
    now: datetime,
) -> None:
    """Move the deadline and tell the complainant (through the outbox)."""
    notice_id = queue_outbound(
        session,
        ticket_id=ticket.id,
        channel=ticket.channel,
        recipient=ticket.sender,
        kind="notice",
        body=(
            f"您好，您的投诉（工单 {ticket.number}）因{extension.reason}，处理期限延长至"
            f"{_chinese_date(business_date(extension.new_due_at))}。我们会尽快处理并及时告知结果。"
        ),
        now=now,
    )
    before = {"resolution_days": complaint.resolution_days, "resolution_due_at": complaint.resolution_due_at}
    complaint.resolution_days, complaint.resolution_due_at = extension.days, extension.new_due_at
    extension.notice_outbox_id = notice_id
    approval = f"，{extension.approved_by} 批准" if extension.approved_by else ""
    _event(
        session,
        ticket,
        "complaint",
        actor,
        f"投诉处理期限延长至 {extension.days} 天：{extension.reason}{approval}（已通知投诉人）",
        at=now,
        data={"days": extension.days, "outbox_id": notice_id, "extension_id": extension.id},
    )
    after = {
        "resolution_days": extension.days,
        "resolution_due_at": extension.new_due_at,
        "reason": extension.reason,
        "requested_by": extension.requested_by,
        "approved_by": extension.approved_by,
    }
    audit.record(session, actor, "complaint.extend", ("complaint", complaint.id), before, after)


def close_complaint(
    session: Session, *, actor: audit.Actor, number: str, root_cause: str, now: datetime
) -> Complaint:
    ticket, complaint = _open_complaint_locked(session, number)
    complaint_stages.check_close(_stages_done(session, complaint), root_cause)
    complaint.root_cause, complaint.closed_at = root_cause, now
    _event(
        session,
        ticket,
        "complaint",
        actor,
        f"投诉结案，根因：{complaint_stages.ROOT_CAUSES[root_cause]}",
        at=now,
        data={"root_cause": root_cause},
    )
    if ticket.active:
        _set_status(session, ticket, "resolved", actor=actor, at=now, reason="投诉结案")
    audit.record(
        session, actor, "complaint.close", ("complaint", complaint.id), None, {"root_cause": root_cause}
    )
    return complaint


@dataclass(frozen=True)
class ComplaintSummary:
    total: int
    open: int
    closed: int
    overdue: int
    ack_overdue: int
    flagged: int
    by_root_cause: dict[str, int] = field(default_factory=dict)
    by_stage: dict[str, int] = field(default_factory=dict)
    by_age: dict[str, int] = field(default_factory=dict)


def complaint_summary(session: Session, *, now: datetime) -> ComplaintSummary:
    """Counts by root cause (closed), stage and age (open), and overdue (open past the deadline)."""
    rows = session.execute(
        select(
            Complaint.stage,
            Complaint.root_cause,
            Complaint.closed_at,
            Complaint.received_at,
            Complaint.resolution_due_at,
            Complaint.ack_due_at,
            Complaint.acknowledged_at,
            Complaint.flagged,
        )
    ).all()
    open_rows = [r for r in rows if r.closed_at is None]
    return ComplaintSummary(
        total=len(rows),
        open=len(open_rows),
        closed=len(rows) - len(open_rows),
        overdue=sum(1 for r in open_rows if now > r.resolution_due_at),
        ack_overdue=sum(1 for r in open_rows if r.acknowledged_at is None and now > r.ack_due_at),
        flagged=sum(1 for r in rows if r.flagged),
        by_root_cause=dict(Counter(r.root_cause for r in rows if r.closed_at is not None)),
        by_stage={stage: sum(1 for r in open_rows if r.stage == stage) for stage in complaint_stages.STAGES},
        by_age={
            bucket: sum(1 for r in open_rows if complaint_stages.age_bucket(r.received_at, now) == bucket)
            for bucket in complaint_stages.AGE_BUCKETS
        },
    )


def complaint_summary_csv(summary: ComplaintSummary) -> str:
    """The summary as CSV: dimension, key, label, count (UTF-8 with BOM so Excel reads the Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["dimension", "key", "label", "count"])
    for key in ("total", "open", "closed", "overdue", "ack_overdue", "flagged"):
        writer.writerow(["total", key, "", getattr(summary, key)])
    for key, count in sorted(summary.by_root_cause.items()):
        writer.writerow(["root_cause", key, complaint_stages.ROOT_CAUSES.get(key, key), count])
    for key, count in summary.by_stage.items():
        writer.writerow(["stage", key, complaint_stages.STAGE_LABELS[key], count])
    for key, count in summary.by_age.items():
        writer.writerow(["age", key, "", count])
    return "\ufeff" + out.getvalue()


# --- complaint deadline alerts job -----------------------------------------------------------------

_ALERT_WINDOW = timedelta(days=4)  # D-3 in Shanghai calendar days is at most this far before the deadline


def alert_complaint_deadlines(session: Session, *, now: datetime) -> int:
    """Alert each open complaint's owner and team lead at D-3, D-1 and on breach of its deadline.

    Once per complaint, alert kind and deadline (an extension earns new alerts): the alert row is
    inserted with ON CONFLICT DO NOTHING, so two runs at once alert once. Returns alerts sent.
    """
    rows = session.execute(
        select(Complaint.id, Complaint.resolution_due_at, Ticket.id.label("ticket_id"), Ticket.number)
        .join(Ticket, Ticket.id == Complaint.ticket_id)
        .where(Complaint.closed_at.is_(None), Complaint.resolution_due_at <= now + _ALERT_WINDOW)
        .order_by(Complaint.id)
    ).all()
    system = audit.Actor.system("complaint-alerts")
    sent = 0
    for row in rows:
        kind = complaint_stages.alert_due(row.resolution_due_at, now)
        if kind is None or not _claim_alert(session, row.id, kind, row.resolution_due_at, now):
            continue
        ticket = lock_ticket(session, ticket_id=row.ticket_id)
        due = f"{row.resolution_due_at.astimezone(SHANGHAI):%Y-%m-%d}"
        body = f"投诉工单 {row.number}：{complaint_stages.ALERT_LABELS[kind]}（处理期限 {due}）"
        recipients = {ticket.owner_id, *_team_leads(session, _team_of(session, ticket))} - {None}
        notices = [Notice(user_id, kind, body, ticket.id) for user_id in sorted(recipients)]  # type: ignore[type-var]
        notify(session, notices, now=now)
        _event(session, ticket, "complaint", system, body, at=now, data={"alert": kind, "due_at": due})
        sent += 1
    return sent


def _claim_alert(session: Session, complaint_id: int, kind: str, due_at: datetime, now: datetime) -> bool:
    """Record that this alert is sent; False when it already was (by this job earlier, or one running now)."""
    upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        upsert(ComplaintAlert)
        .values(complaint_id=complaint_id, kind=kind, due_at=due_at, at=now)
        .on_conflict_do_nothing()
        .returning(ComplaintAlert.id)
    )
    return session.execute(statement).scalar() is not None
