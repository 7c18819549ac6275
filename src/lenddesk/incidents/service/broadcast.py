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

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import Unprocessable
from lenddesk.desk.service import queue_addressed
from lenddesk.incidents import rules
from lenddesk.incidents.models import Delivery, Incident, Update
from lenddesk.incidents.service._common import guarded_text, incidents_policy, lock_incident, require_active
from lenddesk.ledger import service as ledger

_deliveries = Delivery.__table__
_SET_OUTBOX_ID = (
    _deliveries.update()
    .where(_deliveries.c.id == bindparam("delivery_id"))
    .values(outbox_id=bindparam("queued_as"))
)
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
    """Queue the update for every borrower in the incident's scope who has none yet; the count queued.
    A page of `broadcast_page` borrowers costs four statements: the page, its delivery rows (those a
    retry already made are skipped), its outbox messages, their ids on the delivery rows."""
    page = incidents_policy().broadcast_page
    queued = 0
    after = 0
    while True:
        borrowers = ledger.borrowers_with_open_loans(
            session, product_codes=incident.products, after_id=after, limit=page
        )
        if not borrowers:
            return queued
        queued += _queue_page(session, update, borrowers, now)
        after = borrowers[-1].id


def _queue_page(session: Session, update: Update, borrowers: list[ledger.BorrowerCard], now: datetime) -> int:
    mobiles = {borrower.id: borrower.mobile for borrower in borrowers}
    claimed = session.execute(
        _insert(session)(_deliveries)
        .on_conflict_do_nothing(index_elements=["update_id", "borrower_id"])
        .returning(_deliveries.c.id, _deliveries.c.borrower_id),
        [
            {
                "update_id": update.id,
                "borrower_id": borrower_id,
                "status": "queued" if mobile else "no_address",
                "created_at": now,
            }
            for borrower_id, mobile in mobiles.items()
        ],
    ).all()
    to_send = sorted((row for row in claimed if mobiles[row.borrower_id]), key=lambda row: row.borrower_id)
    outbox_ids = queue_addressed(
        session,
        channel=BROADCAST_CHANNEL,
        kind=OUTBOX_KIND,
        body=update.text,
        recipients=[mobiles[row.borrower_id] for row in to_send],
        now=now,
    )
    if to_send:
        pairs = zip(to_send, outbox_ids, strict=True)
        ids = [{"delivery_id": row.id, "queued_as": queued} for row, queued in pairs]
        session.execute(_SET_OUTBOX_ID, ids)
    return len(to_send)
