"""Proposals and their approval by a team lead or compliance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.calendar import business_date
from lenddesk.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from lenddesk.desk import service as desk
from lenddesk.ledger.locking import lock_loan
from lenddesk.negotiation import plans
from lenddesk.negotiation.models import HardshipCase, Proposal
from lenddesk.negotiation.service._common import LEVEL_OF_ROLE, _text
from lenddesk.negotiation.service.cases import _case_ticket, _check_ticket_owner, get_case
from lenddesk.negotiation.service.options import compare_options, option_id

# --- proposals ------------------------------------------------------------------------------------


def _option_json(option: plans.Option) -> dict[str, Any]:
    return {
        "slug": option.slug,
        "kind": option.kind,
        "title_zh": option.title_zh,
        "lines": [
            {
                "period": line.period,
                "due_on": line.due_on.isoformat(),
                "principal": line.principal,
                "interest": line.interest,
                "penalty": line.penalty,
                "late_fee": line.late_fee,
            }
            for line in option.lines
        ],
        "monthly_amount": option.monthly_amount,
        "total_to_pay": option.total_to_pay,
        "extra_cost": option.extra_cost,
        "waivers": [{"component": w.component, "amount": w.amount} for w in option.waivers],
        "conditional_waiver": option.conditional_waiver,
        "restructures": option.restructures,
        "condition": (
            {"amount": option.condition.amount_fen, "due_on": option.condition.due_on.isoformat()}
            if option.condition
            else None
        ),
        "conditions_zh": list(option.conditions_zh),
        "pros_zh": list(option.pros_zh),
        "cons_zh": list(option.cons_zh),
        "approval": option.approval,
        "months": option.months,
    }


def _slug_of(case: HardshipCase, chosen: str) -> str:
    prefix = f"N{case.id}-"
    cleaned = (chosen or "").strip().upper()
    if not cleaned.startswith(prefix):
        raise Unprocessable(
            f"方案编号不属于协商案件 {case.id}：{chosen}",
            f"The option id does not belong to case {case.id}: {chosen}",
            code="option_not_in_case",
        )
    return cleaned[len(prefix) :]


def _lock_case(session: Session, case_id: int) -> HardshipCase:
    """The case with its loan locked, read after the lock."""
    case = get_case(session, case_id=case_id)
    lock_loan(session, case.loan_id)
    session.refresh(case)
    return case


def _rank(level: str) -> int:
    return plans.LEVELS.index(level)


def propose(
    session: Session, *, actor: audit.Actor, case_id: int, chosen_option_id: str, now: datetime
) -> Proposal:
    """Put one option to the borrower: approved at once within the proposer's own authority, else
    pending for the level the authority matrix names. Earlier open proposals of the case are withdrawn."""
    case = _lock_case(session, case_id)
    ticket = _case_ticket(session, case)
    _check_ticket_owner(actor, ticket)
    if case.status != "open":
        raise Conflict("协商案件已结束", "The hardship case is no longer open", code="case_not_open")
    slug = _slug_of(case, chosen_option_id)
    today = business_date(now)
    comparison = compare_options(session, case=case, on=today)
    option = comparison.option(slug)
    if option is None:
        raise Unprocessable(
            f"当前没有这个方案：{chosen_option_id}（请重新生成方案）",
            f"No such option for the case today: {chosen_option_id} (load the options again)",
            code="unknown_option",
        )
    own_level = LEVEL_OF_ROLE.get(actor.role, "agent")

    within_own = _rank(own_level) >= _rank(option.approval)
    state_zh = "在本人权限内，已批准" if within_own else f"待{plans.LEVEL_LABELS_ZH[option.approval]}审批"
    for earlier in session.scalars(
        select(Proposal).where(
            Proposal.case_id == case.id, Proposal.status.in_(("pending_approval", "approved"))
        )
    ):
        earlier.status = "withdrawn"
    proposal = Proposal(
        case_id=case.id,
        option_id=option_id(case.id, slug),
        kind=option.kind,
        title_zh=option.title_zh,
        effective_on=today,
        option=_option_json(option),
        approval_level=option.approval,
        status="approved" if within_own else "pending_approval",
        proposed_by=actor.name,
        proposed_by_id=actor.user_id,
        proposed_by_role=actor.role,
        proposed_at=now,
    )
    if within_own:
        proposal.decided_by, proposal.decided_by_id, proposal.decided_by_role = (
            actor.name,
            actor.user_id,
            actor.role,
        )
        proposal.decided_at, proposal.decision_comment = now, "在本人权限内"
    session.add(proposal)
    session.flush()
    desk.add_note(
        session,
        actor=actor,
        number=ticket.number,
        text=f"提出协商方案：{option.title_zh}（{state_zh}）",
        now=now,
    )
    audit.record(
        session,
        actor,
        "negotiation.proposal.create",
        ("negotiation_proposal", proposal.id),
        None,
        {
            "case_id": case.id,
            "option_id": proposal.option_id,
            "approval": option.approval,
            "status": proposal.status,
        },
    )
    return proposal


def get_proposal(session: Session, *, proposal_id: int) -> Proposal:
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound(
            f"协商方案不存在：{proposal_id}", f"No such proposal: {proposal_id}", code="proposal_not_found"
        )
    return proposal


def _locked_proposal(session: Session, proposal_id: int) -> tuple[HardshipCase, Proposal]:
    found = get_proposal(session, proposal_id=proposal_id)
    case = _lock_case(session, found.case_id)
    session.refresh(found)
    return case, found


def _decide(
    session: Session, *, actor: audit.Actor, proposal_id: int, comment: str, now: datetime, approve: bool
) -> Proposal:
    comment = _text(comment, "审批意见", "comment", required=not approve)
    case, proposal = _locked_proposal(session, proposal_id)
    if proposal.status != "pending_approval":
        raise Conflict(
            "该方案不在待审批状态",
            "The proposal is not waiting for approval",
            code="proposal_decided",
            details={"status": proposal.status},
        )
    if actor.name == proposal.proposed_by:
        raise Forbidden("不能审批自己提出的方案", "Nobody approves their own proposal", code="own_proposal")
    level = LEVEL_OF_ROLE.get(actor.role)
    if level is None or _rank(level) < _rank(proposal.approval_level) or level == "agent":
        raise Forbidden(
            f"该方案须由{plans.LEVEL_LABELS_ZH[proposal.approval_level]}审批",
            f"This proposal needs approval by {proposal.approval_level}",
            code="approval_level",
        )
    before = {"status": proposal.status}
    proposal.status = "approved" if approve else "rejected"
    proposal.decided_by, proposal.decided_by_id, proposal.decided_by_role = (
        actor.name,
        actor.user_id,
        actor.role,
    )
    proposal.decided_at, proposal.decision_comment = now, comment
    desk.add_note(
        session,
        actor=actor,
        number=case.ticket_number,
        text=f"{'批准' if approve else '驳回'}协商方案：{proposal.title_zh}"
        + (f"（{comment}）" if comment else ""),
        now=now,
    )
    audit.record(
        session,
        actor,
        f"negotiation.proposal.{'approve' if approve else 'reject'}",
        ("negotiation_proposal", proposal.id),
        before,
        {"status": proposal.status, "comment": comment},
    )
    return proposal


def approve_proposal(
    session: Session, *, actor: audit.Actor, proposal_id: int, comment: str, now: datetime
) -> Proposal:
    return _decide(session, actor=actor, proposal_id=proposal_id, comment=comment, now=now, approve=True)


def reject_proposal(
    session: Session, *, actor: audit.Actor, proposal_id: int, comment: str, now: datetime
) -> Proposal:
    return _decide(session, actor=actor, proposal_id=proposal_id, comment=comment, now=now, approve=False)


@dataclass(frozen=True)
class QueueRow:
    proposal: Proposal
    case: HardshipCase


def approval_queue(session: Session, *, actor: audit.Actor) -> list[QueueRow]:
    """Proposals waiting for a level the actor holds, oldest first (their own excluded)."""
    level = LEVEL_OF_ROLE.get(actor.role, "agent")
    levels = [name for name in plans.LEVELS[1:] if _rank(name) <= _rank(level)]
    rows = session.execute(
        select(Proposal, HardshipCase)
        .join(HardshipCase, HardshipCase.id == Proposal.case_id)
        .where(
            Proposal.status == "pending_approval",
            Proposal.approval_level.in_(levels),
            Proposal.proposed_by != actor.name,
        )
        .order_by(Proposal.proposed_at, Proposal.id)
    ).all()
    return [QueueRow(proposal, case) for proposal, case in rows]


def case_proposals(session: Session, *, case_id: int) -> list[Proposal]:
    return list(session.scalars(select(Proposal).where(Proposal.case_id == case_id).order_by(Proposal.id)))
