"""Declaring an incident, ticking its runbook checklist, resolving it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.collections import service as collections
from lenddesk.core import audit
from lenddesk.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from lenddesk.incidents import rules
from lenddesk.incidents.models import ChecklistItem, Incident
from lenddesk.incidents.service._common import (
    MAX_TITLE,
    guarded_text,
    incidents_policy,
    lock_incident,
    lock_switch,
    require_active,
    required_text,
)
from lenddesk.ledger import service as ledger

MAX_PRODUCTS = 50


def _checked_products(session: Session, products: list[str] | None) -> list[str] | None:
    if products is None:
        return None
    codes = list(dict.fromkeys(code.strip() for code in products))
    if not codes or any(not code for code in codes):
        raise Unprocessable(
            "产品范围不能为空（全部产品请传 null）",
            "products must list product codes, or be null for every product",
            code="empty_products",
        )
    if len(codes) > MAX_PRODUCTS:
        raise Unprocessable(
            f"产品最多 {MAX_PRODUCTS} 个", f"At most {MAX_PRODUCTS} products", code="too_many_products"
        )
    unknown = sorted(set(codes) - ledger.product_codes(session))
    if unknown:
        raise Unprocessable(
            f"未知的产品代码：{'、'.join(unknown)}",
            f"Unknown product codes: {', '.join(unknown)}",
            code="unknown_product",
            details=unknown,
        )
    return codes


def declare(
    session: Session,
    *,
    actor: audit.Actor,
    kind: str,
    title: str,
    public_notice: str,
    pause_outbound: bool,
    products: list[str] | None,
    now: datetime,
) -> Incident:
    """A new active incident with its kind's runbook as the checklist. With `pause_outbound`, every
    reminder and collection contact in scope is held from the moment this transaction commits."""
    if kind not in rules.KINDS:
        raise Unprocessable(
            f"未知的事件类型：{kind}",
            f"Unknown kind {kind!r}; kinds are {', '.join(rules.KINDS)}",
            code="unknown_kind",
        )
    title = required_text(title, "标题", "title", MAX_TITLE)
    public_notice = guarded_text(public_notice, "公告", "public_notice")
    codes = _checked_products(session, products)
    lock_switch(session)
    incident = Incident(
        kind=kind,
        title=title,
        public_notice=public_notice,
        pause_outbound=pause_outbound,
        products=codes,
        status="active",
        declared_by_id=actor.user_id,
        declared_by=actor.name,
        declared_at=now,
    )
    session.add(incident)
    session.flush()
    for position, step in enumerate(incidents_policy().runbooks[kind]):
        session.add(
            ChecklistItem(
                incident_id=incident.id,
                position=position,
                code=step.code,
                title=step.title,
                required=step.required,
                done=False,
            )
        )
    session.flush()
    # Collection messages already queued but not yet handed to a channel are withdrawn too.
    withdrawn = collections.hold_queued_contacts(session, now=now) if pause_outbound else 0
    audit.record(
        session,
        actor,
        "incident.declare",
        ("incident", incident.id),
        None,
        {
            "kind": kind,
            "title": title,
            "pause_outbound": pause_outbound,
            "products": codes,
            "withdrawn": withdrawn,
        },
    )
    return incident


def checklist(session: Session, incident_id: int) -> list[ChecklistItem]:
    return list(
        session.scalars(
            select(ChecklistItem)
            .where(ChecklistItem.incident_id == incident_id)
            .order_by(ChecklistItem.position)
        )
    )


def complete_item(
    session: Session, *, actor: audit.Actor, incident_id: int, code: str, now: datetime
) -> Incident:
    """Mark a checklist item done (again: nothing changes)."""
    incident = lock_incident(session, incident_id)
    require_active(incident)
    item = session.scalar(
        select(ChecklistItem).where(ChecklistItem.incident_id == incident_id, ChecklistItem.code == code)
    )
    if item is None:
        raise NotFound(
            f"应急事件 #{incident_id} 的检查清单没有此项：{code}",
            f"Incident {incident_id} has no checklist item {code!r}",
            code="checklist_item_not_found",
        )
    if not item.done:
        item.done, item.done_by, item.done_at = True, actor.name, now
        session.flush()
        audit.record(
            session,
            actor,
            "incident.checklist_done",
            ("incident", incident_id),
            {"done": False},
            {"code": code, "done": True},
        )
    return incident


def resolve(
    session: Session, *, actor: audit.Actor, incident_id: int, summary: str, now: datetime
) -> Incident:
    """Resolve an incident once every required checklist item is done; a data leak by someone other
    than who declared it. The hold on outbound contact ends with this commit."""
    summary = required_text(summary, "总结", "summary", 4000)
    lock_switch(session)
    incident = lock_incident(session, incident_id)
    require_active(incident)
    open_items = [item.code for item in checklist(session, incident_id) if item.required and not item.done]
    if open_items:
        raise Conflict(
            f"检查清单仍有必做项未完成：{'、'.join(open_items)}",
            f"Required checklist items are still open: {', '.join(open_items)}",
            code="checklist_open",
            details=open_items,
        )
    declarer = (
        actor.user_id == incident.declared_by_id
        if actor.user_id is not None
        else actor.name == incident.declared_by
    )
    if incident.kind == "data_leak" and declarer:
        raise Forbidden(
            "数据泄露事件须由宣布人以外的另一人解除",
            "A data leak is resolved by someone other than who declared it",
            code="same_person",
        )
    incident.status, incident.resolved_by_id, incident.resolved_by = "resolved", actor.user_id, actor.name
    incident.resolved_at, incident.summary = now, summary
    session.flush()
    audit.record(
        session,
        actor,
        "incident.resolve",
        ("incident", incident_id),
        {"status": "active"},
        {"status": "resolved", "summary": summary},
    )
    return incident
