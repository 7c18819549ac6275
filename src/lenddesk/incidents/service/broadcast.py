"""Updates: published on the status page and, when broadcast, queued once per affected borrower
through the desk's outbox (an SMS to the registered mobile).

An update passes the guard's text checks (the same as every collection message); a data leak's
broadcast must also say what PIPL Art. 57 requires and warn against scams, or it is refused (422)
naming what is missing. The incident's own broadcast is not held by EMERGENCY_HOLD, quiet hours or
a channel opt-out: like a security notice it is what the borrower must hear. A `reference` makes a
retried request return the first update instead of sending again, and one delivery row per (update,
borrower) keeps a repeated broadcast from sending twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import Unprocessable
from lenddesk.desk.service import queue_outbound
from lenddesk.incidents import rules
from lenddesk.incidents.models import Delivery, Incident, Update
from lenddesk.incidents.service._common import guarded_text, incidents_policy, lock_incident, require_active
from lenddesk.ledger import service as ledger

BROADCAST_CHANNEL = "sms"
OUTBOX_KIND = "incident"


def _check_leak_notice(text: str) -> None:
    missing = rules.missing_leak_elements(text, incidents_policy().leak_notice_elements)
    if missing:
        names_zh, names_en = rules.element_names(missing)
        raise Unprocessable(
            f"数据泄露通知缺少个人信息保护法第五十七条要求的内容：{names_zh}",
            f"A data-leak notice must say (PIPL Art. 57): {names_en}",
            code="leak_notice_incomplete",
            details=missing,
        )


def publish_update(
    session: Session,
    *,
    actor: audit.Actor,
    incident_id: int,
    text: str,
    broadcast: bool,
    now: datetime,
    reference: str | None = None,
) -> Update:
    """Publish an update (status page) and, with `broadcast`, send it to every affected borrower."""
    incident = lock_incident(session, incident_id)
    if reference is not None:
        earlier = session.scalar(
            select(Update).where(Update.incident_id == incident_id, Update.reference == reference)
        )
        if earlier is not None:
            return earlier
    require_active(incident)
    text = guarded_text(text, "更新内容", "text")
    if broadcast and incident.kind == "data_leak":
        _check_leak_notice(text)
    update = Update(
        incident_id=incident_id,
        text=text,
        broadcast=broadcast,
        recipients=0,
        reference=reference,
        author=actor.name,
        created_at=now,
    )
    session.add(update)
    session.flush()
    if broadcast:
        update.recipients = broadcast_update(session, incident=incident, update=update, now=now)
    audit.record(
        session,
        actor,
        "incident.update",
        ("incident", incident_id),
        None,
        {"update": update.id, "broadcast": broadcast, "recipients": update.recipients},
    )
    return update


def _insert(session: Session):  # type: ignore[no-untyped-def]
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def broadcast_update(session: Session, *, incident: Incident, update: Update, now: datetime) -> int:
    """Queue the update for every borrower in the incident's scope who has none yet; the count queued."""
    page = incidents_policy().broadcast_page
    queued = 0
    after = 0
    while True:
        borrowers = ledger.borrowers_with_open_loans(
            session, product_codes=incident.products, after_id=after, limit=page
        )
        if not borrowers:
            return queued
        for borrower in borrowers:
            claimed = session.execute(
                _insert(session)(Delivery)
                .values(
                    update_id=update.id,
                    borrower_id=borrower.id,
                    status="queued" if borrower.mobile else "no_address",
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=["update_id", "borrower_id"])
                .returning(Delivery.id)
            ).scalar()
            if claimed is None or not borrower.mobile:
                continue
            outbox_id = queue_outbound(
                session,
                channel=BROADCAST_CHANNEL,
                recipient=borrower.mobile,
                kind=OUTBOX_KIND,
                body=update.text,
                now=now,
            )
            session.execute(
                Delivery.__table__.update().where(Delivery.id == claimed).values(outbox_id=outbox_id)
            )
            queued += 1
        after = borrowers[-1].id
