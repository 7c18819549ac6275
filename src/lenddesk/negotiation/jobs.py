"""The negotiation room's step in the close of business: agreements kept and broken.

Registered with the ledger's after-close steps at import. For business date D (set-based, in two
phases, idempotent for the date and resumable after a crash):
1. one statement marks `kept` every active agreement whose condition fell due by D and whose
   repayments since acceptance (not reversed) reach the condition's amount, and marks `breaking`
   those whose condition fell due before D − grace without that;
2. the `breaking` agreements (a handful a day), in loan-id order in one transaction: conditional waivers are
   reinstated through the ledger (policy), the case owner gets a desk follow-up, the agreement
   becomes `broken`, and the audit trail says so.
Only agreements whose condition date has come are read (index on status, condition_due_on), so
10,000 active agreements cost the close almost nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.calendar import SHANGHAI
from lenddesk.core.errors import LendDeskError
from lenddesk.core.money import format_fen
from lenddesk.core.policy import get_policy
from lenddesk.ledger import after_close
from lenddesk.negotiation.models import Agreement, HardshipCase

SYSTEM = audit.Actor.system("cob:negotiation")

_PAID_SINCE_ACCEPTANCE = (
    "(SELECT COALESCE(SUM(r.amount_fen), 0) FROM repayments r"
    " WHERE r.loan_id = negotiation_agreements.loan_id AND r.status <> 'reversed'"
    " AND r.value_date >= negotiation_agreements.accepted_on AND r.value_date <= :d)"
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
    broken = 0
    with Session(bind=connection) as session:
        ids = session.scalars(
            select(Agreement.id).where(Agreement.status == "breaking").order_by(Agreement.id)
        )
        for agreement_id in list(ids):
            _handle_broken(session, agreement_id, day)
            session.commit()
            broken += 1
    return {"kept": kept, "marked_broken": breaking, "broken_handled": broken}


def _handle_broken(session: Session, agreement_id: int, day: date) -> None:
    from lenddesk.desk import service as desk
    from lenddesk.ledger import service as ledger
    from lenddesk.ledger.locking import lock_loan

    agreement = session.get(Agreement, agreement_id)
    assert agreement is not None
    lock_loan(session, agreement.loan_id)
    session.refresh(agreement)
    if agreement.status != "breaking":
        return
    policy = get_policy().negotiation
    reinstated = []
    if policy.reinstate_conditional_waivers:
        for waiver_id in agreement.conditional_waiver_ids or []:
            try:
                ledger.reinstate_waiver(
                    session,
                    waiver_id=waiver_id,
                    actor=SYSTEM,
                    today=day,
                    reason=f"协议 {agreement.number} 违约，附条件减免恢复计收",
                )
                reinstated.append(waiver_id)
            except LendDeskError:
                continue  # no longer applied (e.g. reversed by hand): nothing to reinstate
    case = session.get(HardshipCase, agreement.case_id)
    assert case is not None
    owner = agreement.owner_id or case.owner_id
    if owner is not None:
        due_at = datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI) + timedelta(
            hours=policy.follow_up_hours
        )
        amount = format_fen(agreement.condition_amount_fen or 0, thousands=True, symbol=True)
        desk.add_follow_up(
            session,
            actor=SYSTEM,
            number=case.ticket_number,
            due_at=due_at,
            note=f"协议 {agreement.number} 违约：{agreement.condition_due_on} 前应付{amount}未付清，"
            "请联系借款人",
            owner_id=owner,
            now=datetime.combine(day, time(23, 0), tzinfo=SHANGHAI),
        )
    agreement.status = "broken"
    audit.record(
        session,
        SYSTEM,
        "negotiation.agreement.broken",
        ("negotiation_agreement", agreement.number),
        {"status": "breaking"},
        {"status": "broken", "business_date": day, "reinstated_waivers": reinstated},
    )


after_close.register("negotiation", judge_agreements, order=50)
