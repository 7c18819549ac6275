"""Alerts: the list, acknowledging, closing with a disposition, and a desk ticket for an alert."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import Conflict, NotFound, Unprocessable
from lenddesk.desk import service as desk
from lenddesk.risk import rules
from lenddesk.risk.models import Alert
from lenddesk.risk.service._common import identity_of, take_write_gate

STATUSES = ("open", "acknowledged", "closed")
STATUS_LABELS_ZH = {"open": "待处理", "acknowledged": "已确认", "closed": "已关闭"}
DISPOSITIONS = {
    "confirmed_fraud": "确认异常/欺诈",
    "customer_verified": "已与借款人核实，正常",
    "false_positive": "误报",
    "monitor": "持续观察",
}
# The desk category and severity of a ticket opened from an alert of each rule.
TICKET_CATEGORY = {
    rules.NEW_REGION: ("fraud", "P2"),
    rules.LARGE_TRANSFERS: ("fraud", "P2"),
    rules.STRUCTURING: ("fraud", "P2"),
    rules.EARLY_WARNING_HIGH: ("other", "P3"),
}


def list_alerts(
    session: Session, *, borrower_id: int | None = None, status: str | None = None, limit: int = 200
) -> list[Alert]:
    statement = select(Alert).order_by(Alert.created_at.desc(), Alert.id.desc()).limit(limit)
    if borrower_id is not None:
        statement = statement.where(Alert.borrower_id == borrower_id)
    if status is not None:
        statement = statement.where(Alert.status == status)
    return list(session.scalars(statement).all())


def lock_alert(session: Session, alert_id: int) -> Alert:
    take_write_gate(session)
    alert = session.scalar(
        select(Alert).where(Alert.id == alert_id).with_for_update().execution_options(populate_existing=True)
    )
    if alert is None:
        raise NotFound(f"预警不存在：{alert_id}", f"No such alert: {alert_id}", code="unknown_alert")
    return alert


def _snapshot(alert: Alert) -> dict[str, object]:
    return {"status": alert.status, "disposition": alert.disposition, "ticket": alert.ticket_number}


def acknowledge_alert(session: Session, *, actor: audit.Actor, alert_id: int, now: datetime) -> Alert:
    alert = lock_alert(session, alert_id)
    if alert.status != "open":
        raise Conflict(
            f"预警状态为「{STATUS_LABELS_ZH[alert.status]}」，不能确认",
            f"The alert is {alert.status}; only an open alert can be acknowledged",
            code="alert_not_open",
        )
    before = _snapshot(alert)
    alert.status, alert.acknowledged_by, alert.acknowledged_at = "acknowledged", actor.name, now
    audit.record(session, actor, "risk.alert.acknowledge", ("risk_alert", alert.id), before, _snapshot(alert))
    return alert


def close_alert(
    session: Session, *, actor: audit.Actor, alert_id: int, disposition: str, note: str = "", now: datetime
) -> Alert:
    """Close with a disposition; the borrower may then get a new alert of the rule."""
    if disposition not in DISPOSITIONS:
        raise Unprocessable(
            f"未知的处置结论：{disposition}",
            f"Unknown disposition {disposition!r}; dispositions are {', '.join(DISPOSITIONS)}",
            code="unknown_disposition",
        )
    alert = lock_alert(session, alert_id)
    if alert.status == "closed":
        raise Conflict("预警已关闭", "The alert is already closed", code="alert_closed")
    before = _snapshot(alert)
    alert.status, alert.open_key, alert.disposition = "closed", None, disposition
    alert.closed_by, alert.closed_at, alert.note = actor.name, now, note.strip()[:500] or None
    audit.record(session, actor, "risk.alert.close", ("risk_alert", alert.id), before, _snapshot(alert))
    return alert


def open_alert_ticket(session: Session, *, actor: audit.Actor, alert_id: int, now: datetime) -> Alert:
    """A desk ticket for the alert (through the desk's intake, on the borrower's mobile), once."""
    alert = lock_alert(session, alert_id)
    if alert.ticket_number is not None:
        raise Conflict(
            f"该预警已有工单 {alert.ticket_number}",
            f"The alert already has ticket {alert.ticket_number}",
            code="alert_has_ticket",
            details={"ticket_number": alert.ticket_number},
        )
    _, mobile = identity_of(session, alert.borrower_id)
    result = desk.intake(
        session,
        channel="api",
        channel_message_id=f"risk-alert-{alert.id}",
        sender=mobile,
        text=f"风险预警 #{alert.id}：{rules.RULE_LABELS_ZH[alert.rule]}，请核实借款人账户活动。",
        received_at=now,
        now=now,
        actor=actor,
    )
    category, severity = TICKET_CATEGORY[alert.rule]
    desk.categorise_ticket(
        session, actor=actor, number=result.ticket_number, category=category, severity=severity, now=now
    )
    before = _snapshot(alert)
    alert.ticket_number = result.ticket_number
    audit.record(session, actor, "risk.alert.ticket", ("risk_alert", alert.id), before, _snapshot(alert))
    return alert
