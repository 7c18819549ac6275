"""The negotiation room's step in the close of business: agreements kept and broken.

Registered with the ledger's after-close steps at import. For business date D (set-based, in two
phases, idempotent for the date and resumable after a crash):
1. one statement marks `kept` every active agreement whose condition fell due by D and whose
   repayments since acceptance (not reversed) reach the condition's amount, and marks `breaking`
   those whose condition fell due before D − grace without that;
2. all `breaking` agreements in one transaction, read in one statement: conditional waivers are
   reinstated through the ledger (policy; loan-id order), the case owners get desk follow-ups,
   one statement makes them `broken`, and their audit entries are inserted together.
Only agreements whose condition date has come are read (index on status, condition_due_on), so
10,000 active agreements cost the close almost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Connection, func, select, text, update
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.calendar import SHANGHAI
from lenddesk.core.errors import LendDeskError
from lenddesk.core.money import format_fen
from lenddesk.core.policy import get_policy
from lenddesk.ledger import after_close
from lenddesk.ledger.locking import begin_write
from lenddesk.ledger.read_sql import loan_repaid_fen
from lenddesk.negotiation.models import Agreement, HardshipCase

SYSTEM = audit.Actor.system("cob:negotiation")

# What was repaid on the agreement's loan since acceptance: the ledger's SQL, embedded (read_sql).
_PAID_SINCE_ACCEPTANCE = loan_repaid_fen(
    "negotiation_agreements.loan_id", "negotiation_agreements.accepted_on", ":d"
)
KEPT = text(
    "UPDATE negotiation_agreements SET status = 'kept', closed_on = :d"
    " WHERE status = 'active' AND condition_due_on <= :d"
    f" AND condition_amount_fen <= {_PAID_SINCE_ACCEPTANCE}"
)
BREAKING = text(
    "UPDATE negotiation_agreements SET status = 'breaking', closed_on = :d"
    " WHERE status = 'active' AND condition_due_on < :cutoff"
)


def judge_agreements(connection: Connection, day: date) -> dict[str, int]:
    """The after-close step: mark kept and broken agreements for `day`, then act on the broken."""
    cutoff = day - timedelta(days=get_policy().negotiation.broken_grace_days)
    with connection.begin():
        kept = connection.execute(KEPT, {"d": day}).rowcount
        breaking = connection.execute(BREAKING, {"d": day, "cutoff": cutoff}).rowcount
    with Session(bind=connection) as session:
        broken = _handle_broken(session, day)
        session.commit()
    return {"kept": kept, "marked_broken": breaking, "broken_handled": broken}


@dataclass(frozen=True)
class _Breaking:
    id: int
    number: str
    loan_id: int
    waiver_ids: list[int]
    amount_fen: int
    condition_due_on: date | None
    owner_id: int | None
    ticket_number: str


BREAKING_ROWS = (
    select(
        Agreement.id,
        Agreement.number,
        Agreement.loan_id,
        Agreement.conditional_waiver_ids,
        Agreement.condition_amount_fen,
        Agreement.condition_due_on,
        func.coalesce(Agreement.owner_id, HardshipCase.owner_id),
        HardshipCase.ticket_number,
    )
    .join(HardshipCase, HardshipCase.id == Agreement.case_id)
    .where(Agreement.status == "breaking")
    .order_by(Agreement.loan_id, Agreement.id)
    .with_for_update(of=Agreement)
)


def _handle_broken(session: Session, day: date) -> int:
    """All `breaking` agreements of the day in one transaction: one read, the ledger's and the
    desk's own use cases for waivers and follow-ups, one update to `broken`, the audit entries
    inserted together. A crash rolls all of it back and the next run finds them `breaking` again."""
    begin_write(session)
    rows = [
        _Breaking(row[0], row[1], row[2], list(row[3] or []), row[4] or 0, row[5], row[6], row[7])
        for row in session.execute(BREAKING_ROWS)
    ]
    if not rows:
        return 0
    policy = get_policy().negotiation
    reinstated = _reinstate_waivers(session, rows, day) if policy.reinstate_conditional_waivers else {}
    _add_follow_ups(session, rows, day, policy.follow_up_hours)
    session.execute(
        update(Agreement)
        .where(Agreement.id.in_([row.id for row in rows]), Agreement.status == "breaking")
        .values(status="broken")
    )
    for row in rows:
        audit.record(
            session,
            SYSTEM,
            "negotiation.agreement.broken",
            ("negotiation_agreement", row.number),
            {"status": "breaking"},
            {"status": "broken", "business_date": day, "reinstated_waivers": reinstated.get(row.id, [])},
        )
    session.flush()
    return len(rows)


def _reinstate_waivers(session: Session, rows: list[_Breaking], day: date) -> dict[int, list[int]]:
    """Conditional waivers owed again, through the ledger (it locks each loan, in loan-id order)."""
    from lenddesk.ledger import service as ledger

    reinstated: dict[int, list[int]] = {}
    for row in rows:
        for waiver_id in row.waiver_ids:
            try:
                ledger.reinstate_waiver(
                    session,
                    waiver_id=waiver_id,
                    actor=SYSTEM,
                    today=day,
                    reason=f"协议 {row.number} 违约，附条件减免恢复计收",
                )
                reinstated.setdefault(row.id, []).append(waiver_id)
            except LendDeskError:
                continue  # no longer applied (e.g. reversed by hand): nothing to reinstate
    return reinstated


def _add_follow_ups(session: Session, rows: list[_Breaking], day: date, follow_up_hours: int) -> None:
    """The case owner's follow-up on the case's ticket, through the desk."""
    from lenddesk.desk import service as desk

    due_at = datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI) + timedelta(
        hours=follow_up_hours
    )
    now = datetime.combine(day, time(23, 0), tzinfo=SHANGHAI)
    for row in rows:
        if row.owner_id is None:
            continue
        amount = format_fen(row.amount_fen, thousands=True, symbol=True)
        desk.add_follow_up(
            session,
            actor=SYSTEM,
            number=row.ticket_number,
            due_at=due_at,
            note=f"协议 {row.number} 违约：{row.condition_due_on} 前应付{amount}未付清，请联系借款人",
            owner_id=row.owner_id,
            now=now,
        )


after_close.register("negotiation", judge_agreements, order=50, label="broken agreements 协议履约判定")
