"""Use cases of the negotiation room. Keyword-only functions taking a Session; they never commit.

Every write locks the case's loan first (`ledger.locking.lock_loan`: PostgreSQL row lock, SQLite
write gate) and reads what it changes after the lock, so two approvals or two acceptances of one
proposal cannot both pass. A new agreement also locks the chain head (after the loan: one order,
no deadlock), so the hash chain grows one record at a time.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.calendar import business_date, to_shanghai
from lenddesk.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from lenddesk.core.money import MAX_AMOUNT_FEN, format_fen
from lenddesk.core.pii import mask_name
from lenddesk.core.policy import get_policy
from lenddesk.desk import service as desk
from lenddesk.desk.macros import require_level
from lenddesk.ledger import service as ledger
from lenddesk.ledger.locking import begin_write, lock_loan
from lenddesk.ledger.models import Borrower
from lenddesk.negotiation import agreement as chain
from lenddesk.negotiation import plans
from lenddesk.negotiation.models import Agreement, ChainHead, HardshipCase, Proposal

LEVEL_OF_ROLE = {
    "agent": "agent",
    "collector": "agent",
    "team_lead": "team_lead",
    "compliance": "compliance",
    "admin": "compliance",
}
CHANNELS_ZH = {
    "phone": "电话",
    "chat": "在线客服",
    "email": "电子邮件",
    "wechat": "微信",
    "sms": "短信",
    "web_form": "网页表单",
    "api": "接口",
}
LENDER_NAME = "本公司"
_MAX_TEXT = 2000


# --- input checks ----------------------------------------------------------------------------------


def _text(
    value: str | None, what_zh: str, what_en: str, *, required: bool, max_length: int = _MAX_TEXT
) -> str:
    cleaned = unicodedata.normalize("NFKC", value or "").strip()
    if any("\ud800" <= char <= "\udfff" for char in cleaned) or "\x00" in cleaned:
        raise Unprocessable(
            f"{what_zh}含有无效字符", f"The {what_en} contains invalid characters", code="invalid_text"
        )
    if required and not cleaned:
        raise Unprocessable(
            f"须填写{what_zh}", f"The {what_en} is required", code=f"{what_en.replace(' ', '_')}_required"
        )
    if len(cleaned) > max_length:
        raise Unprocessable(
            f"{what_zh}过长（最多 {max_length} 字）",
            f"The {what_en} is too long (at most {max_length} characters)",
            code="text_too_long",
        )
    return cleaned


def _amount(value: int | None, what_zh: str, what_en: str, *, required: bool) -> int | None:
    if value is None:
        if required:
            raise Unprocessable(f"须填写{what_zh}", f"The {what_en} is required", code="amount_required")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unprocessable(f"{what_zh}格式不正确", f"The {what_en} is not an amount", code="amount_invalid")
    if value <= 0:
        raise Unprocessable(
            f"{what_zh}必须大于 0", f"The {what_en} must be greater than 0", code="amount_not_positive"
        )
    if value > MAX_AMOUNT_FEN:
        raise Unprocessable(f"{what_zh}过大", f"The {what_en} is too large", code="amount_too_large")
    return value


def _cause(cause: str) -> str:
    if cause not in plans.CAUSES:
        raise Unprocessable(
            f"未知的困难原因：{cause}（可选：{'、'.join(plans.CAUSES)}）",
            f"Unknown hardship cause: {cause} (one of: {', '.join(plans.CAUSES)})",
            code="unknown_cause",
        )
    return cause


# --- cases ----------------------------------------------------------------------------------------


def _case_bound(actor: audit.Actor) -> bool:
    return actor.role in get_policy().ledger.case_bound_roles


def _check_ticket_owner(actor: audit.Actor, ticket: Any) -> None:
    if _case_bound(actor) and ticket.owner_id != actor.user_id:
        raise Forbidden(
            "只能处理您负责的工单上的协商",
            "You may negotiate only on a ticket of yours",
            code="not_your_ticket",
        )


def _ticket_for(session: Session, actor: audit.Actor, borrower_id: int, ticket_number: str | None) -> Any:
    if ticket_number:
        ticket = desk.get_ticket(
            session, number=_text(ticket_number, "工单号", "ticket number", required=True, max_length=20)
        )
    else:
        grant = ledger.check_borrower_access(
            session, viewer=actor, borrower_id=borrower_id, case_reference=None
        )
        if grant is None:
            raise Unprocessable(
                "请指定该借款人的工单", "Name the borrower's ticket (ticket_number)", code="ticket_required"
            )
        ticket = desk.get_ticket(session, number=grant.reference)
    if ticket.borrower_id != borrower_id:
        raise Unprocessable(
            "该工单不属于此合同的借款人",
            "The ticket is not the contract's borrower's",
            code="ticket_borrower_mismatch",
        )
    if ticket.status == "closed":
        raise Conflict("工单已关闭", "The ticket is closed", code="ticket_closed")
    _check_ticket_owner(actor, ticket)
    return ticket


def _require_verified(session: Session, ticket: Any, now: datetime, what_zh: str, what_en: str) -> None:
    require_level(
        desk.effective_level(session, ticket, now), desk.desk_policy().account_detail_level, what_zh, what_en
    )


def open_case(
    session: Session,
    *,
    actor: audit.Actor,
    contract_number: str,
    ticket_number: str | None,
    cause: str,
    monthly_capacity_fen: int,
    notes: str = "",
    evidence: str = "",
    monthly_income_fen: int | None = None,
    monthly_expenses_fen: int | None = None,
    now: datetime,
) -> HardshipCase:
    """Open a hardship case on a ticket whose caller is verified to the level account data needs."""
    cause = _cause(cause)
    capacity = _amount(monthly_capacity_fen, "月还款能力", "monthly capacity", required=True)
    income = _amount(monthly_income_fen, "月收入", "monthly income", required=False)
    expenses = _amount(monthly_expenses_fen, "月支出", "monthly expenses", required=False)
    notes = _text(notes, "备注", "notes", required=False)
    evidence = _text(evidence, "证明材料说明", "evidence", required=False)
    contract = _text(contract_number, "合同编号", "contract number", required=True, max_length=32)
    basis = ledger.restructuring_basis(session, contract_number=contract)
    ticket = _ticket_for(session, actor, basis.borrower_id, ticket_number)
    _require_verified(session, ticket, now, "建立协商案件", "A hardship case")
    loan = lock_loan(session, basis.loan_id)
    assert loan is not None
    if loan.status in ("settled", "written_off"):
        raise Conflict(
            f"贷款已{ledger.STATUS_LABELS_ZH[loan.status]}，无需协商",
            f"The loan is {loan.status.replace('_', ' ')}: there is nothing to negotiate",
            code=f"loan_{loan.status}",
        )
    already = session.scalar(
        select(HardshipCase.id).where(HardshipCase.loan_id == loan.id, HardshipCase.status == "open")
    )
    if already:
        raise Conflict(
            f"该贷款已有进行中的协商案件 {already}",
            f"The loan already has an open hardship case ({already})",
            code="case_open",
            details={"case_id": already},
        )
    case = HardshipCase(
        ticket_id=ticket.id,
        ticket_number=ticket.number,
        loan_id=loan.id,
        contract_number=loan.contract_number,
        borrower_id=loan.borrower_id,
        cause=cause,
        notes=notes,
        evidence=evidence,
        monthly_capacity_fen=capacity,
        monthly_income_fen=income,
        monthly_expenses_fen=expenses,
        status="open",
        owner_id=ticket.owner_id or actor.user_id,
        opened_by=actor.name,
        opened_at=now,
    )
    session.add(case)
    session.flush()
    desk.add_note(
        session,
        actor=actor,
        number=ticket.number,
        text=f"已建立困难协商案件 #{case.id}（{plans.CAUSES[cause]}，月还款能力 {format_fen(capacity)} 元）",
        now=now,
    )
    audit.record(
        session,
        actor,
        "negotiation.case.open",
        ("negotiation_case", case.id),
        None,
        {"ticket": ticket.number, "contract": loan.contract_number, "cause": cause, "capacity_fen": capacity},
    )
    return case


def get_case(session: Session, *, case_id: int) -> HardshipCase:
    case = session.get(HardshipCase, case_id)
    if case is None:
        raise NotFound(
            f"协商案件不存在：{case_id}", f"No such hardship case: {case_id}", code="case_not_found"
        )
    return case


def _case_ticket(session: Session, case: HardshipCase) -> Any:
    return desk.get_ticket(session, number=case.ticket_number)


def open_case_for(session: Session, *, actor: audit.Actor, case_id: int) -> HardshipCase:
    """The case, if `actor` may work on it (case-bound roles: only through a ticket of theirs)."""
    case = get_case(session, case_id=case_id)
    _check_ticket_owner(actor, _case_ticket(session, case))
    return case


# --- options --------------------------------------------------------------------------------------


def _terms(first_due_on: date | None) -> plans.Terms:
    policy = get_policy()
    return plans.Terms(
        policy=policy.negotiation,
        rounding=policy.money.rounding,
        waiver_single_approval_fen=policy.ledger.waiver_single_approval_fen,
        first_due_on=first_due_on,
    )


def _extensions_used(session: Session, loan_id: int) -> int:
    return int(
        session.scalar(
            select(func.count(Agreement.id)).where(
                Agreement.loan_id == loan_id, Agreement.kind == "extension"
            )
        )
        or 0
    )


def loan_state(session: Session, *, contract_number: str) -> plans.LoanState:
    basis = ledger.restructuring_basis(session, contract_number=contract_number)
    return plans.LoanState(
        contract_number=basis.contract_number,
        annual_rate=basis.annual_rate,
        disbursed_on=basis.disbursed_on,
        cap_ppm=basis.cap_ppm,
        principal_days_repaid=basis.principal_days_repaid,
        early_repayment_fees_fen=basis.early_repayment_fees_fen,
        lines=tuple(plans.LineState(**asdict(line)) for line in basis.lines),
        extensions_used=_extensions_used(session, basis.loan_id),
    )


def option_id(case_id: int, slug: str) -> str:
    return f"N{case_id}-{slug}"


def _check_first_due(on: date, first_due_on: date | None) -> None:
    if first_due_on is not None and not on < first_due_on <= on + timedelta(days=92):
        raise Unprocessable(
            "首期还款日须在计算日之后三个月内",
            "The first due date must fall within three months after the date of the options",
            code="first_due_out_of_range",
        )


def compare_options(
    session: Session,
    *,
    case: HardshipCase,
    on: date,
    capacity_fen: int | None = None,
    first_due_on: date | None = None,
) -> plans.Comparison:
    """Every option for the case's loan on `on`, for the stated (or a trial) monthly capacity."""
    capacity = (
        _amount(capacity_fen, "月还款能力", "monthly capacity", required=False) or case.monthly_capacity_fen
    )
    _check_first_due(on, first_due_on)
    state = loan_state(session, contract_number=case.contract_number)
    if on < state.disbursed_on:
        raise Unprocessable(
            "计算日期早于放款日", "The date is before the disbursement", code="date_before_disbursement"
        )
    return plans.plan_options(state, on=on, capacity_fen=capacity, terms=_terms(first_due_on))


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


# --- acceptance and agreements --------------------------------------------------------------------


def _channel(channel: str) -> str:
    if channel not in CHANNELS_ZH:
        raise Unprocessable(
            f"未知的确认渠道：{channel}（可选：{'、'.join(CHANNELS_ZH)}）",
            f"Unknown acceptance channel: {channel} (one of: {', '.join(CHANNELS_ZH)})",
            code="unknown_channel",
        )
    return channel


def _check_accepted_at(accepted_at: datetime, proposal: Proposal, now: datetime) -> datetime:
    if accepted_at.tzinfo is None:
        raise Unprocessable(
            "确认时间须带时区（例如 2026-11-24T10:00:00+08:00）",
            "accepted_at needs a time zone (e.g. 2026-11-24T10:00:00+08:00)",
            code="accepted_at_naive",
        )
    if accepted_at > now + timedelta(minutes=5) or accepted_at < proposal.proposed_at - timedelta(minutes=5):
        raise Unprocessable(
            "确认时间须在方案提出之后、当前时间之前",
            "accepted_at must lie between the proposal and now",
            code="accepted_at_out_of_range",
        )
    return accepted_at


def _waiver_actor(proposal: Proposal) -> tuple[audit.Actor, audit.Actor | None]:
    requester = audit.Actor(proposal.proposed_by_id, proposal.proposed_by, proposal.proposed_by_role)
    if proposal.decided_by is None or proposal.decided_by == proposal.proposed_by:
        return requester, None
    return requester, audit.Actor(proposal.decided_by_id, proposal.decided_by, proposal.decided_by_role or "")


def _lock_chain(session: Session) -> ChainHead:
    begin_write(session)
    head = session.scalar(
        select(ChainHead).where(ChainHead.id == 1).with_for_update().execution_options(populate_existing=True)
    )
    if head is not None:
        return head
    try:
        with session.begin_nested():
            session.add(ChainHead(id=1, last_seq=0, last_sha256=chain.GENESIS))
    except IntegrityError:
        pass  # another transaction created it first: lock theirs
    head = session.scalar(
        select(ChainHead).where(ChainHead.id == 1).with_for_update().execution_options(populate_existing=True)
    )
    assert head is not None
    return head


def _yuan(fen: int) -> str:
    return format_fen(fen, thousands=True, symbol=True)


def _day(day: date | str) -> str:
    value = date.fromisoformat(day) if isinstance(day, str) else day
    return f"{value.year}年{value.month}月{value.day}日"


_WAIVER_LABELS = {"penalty": "罚息", "late_fee": "滞纳金", "interest": "利息"}


def _terms_for_text(
    session: Session,
    *,
    case: HardshipCase,
    proposal: Proposal,
    comparison: plans.Comparison,
    number: str,
    accepted_at: datetime,
    channel: str,
    evidence_text: str,
) -> dict[str, Any]:
    borrower = session.get(Borrower, case.borrower_id)
    assert borrower is not None
    option = proposal.option
    owed = comparison.outstanding
    extra = option["extra_cost"]
    difference = (
        f"多支付{_yuan(extra)}" if extra > 0 else (f"少支付{_yuan(-extra)}" if extra < 0 else "金额相同")
    )
    condition = option["condition"]
    return {
        "number": number,
        "lender": LENDER_NAME,
        "borrower_name": borrower.name,
        "contract_number": case.contract_number,
        "cause_zh": plans.CAUSES[case.cause],
        "title_zh": option["title_zh"],
        "effective_on": _day(proposal.effective_on),
        "owed": {
            "principal": _yuan(owed.principal),
            "interest": _yuan(owed.interest),
            "penalty": _yuan(owed.penalty),
            "late_fee": _yuan(owed.late_fee),
            "total": _yuan(owed.total),
        },
        "continue_total": _yuan(comparison.continue_total),
        "continue_monthly": _yuan(comparison.continue_monthly),
        "restructures": option["restructures"],
        "schedule": [
            {
                "period": line["period"],
                "due_date": _day(line["due_on"]),
                "principal": _yuan(line["principal"]),
                "interest": _yuan(line["interest"]),
                "fees": _yuan(line["penalty"] + line["late_fee"]),
                "total": _yuan(line["principal"] + line["interest"] + line["penalty"] + line["late_fee"]),
            }
            for line in option["lines"]
        ],
        "waivers": [
            {"label": _WAIVER_LABELS[w["component"]], "amount": _yuan(w["amount"])} for w in option["waivers"]
        ],
        "conditional_waiver": option["conditional_waiver"],
        "total_to_pay": _yuan(option["total_to_pay"]),
        "difference": difference,
        "conditions": option["conditions_zh"],
        "condition_due_on": _day(condition["due_on"]) if condition else "",
        "condition_amount": _yuan(condition["amount"]) if condition else "",
        "accepted_at": to_shanghai(accepted_at).strftime("%Y年%m月%d日 %H:%M"),
        "channel_zh": CHANNELS_ZH[channel],
        "evidence_text": evidence_text,
        "proposed_by": proposal.proposed_by,
        "approved_by": proposal.decided_by if proposal.decided_by != proposal.proposed_by else "",
    }


@dataclass(frozen=True)
class AcceptResult:
    agreement: Agreement
    revision_number: int | None


def accept(
    session: Session,
    *,
    actor: audit.Actor,
    proposal_id: int,
    channel: str,
    evidence_text: str,
    accepted_at: datetime,
    now: datetime,
) -> AcceptResult:
    """Record the borrower's acceptance: the agreement is rendered, chained and applied to the
    ledger (waivers posted, schedule restructured) in this transaction; the borrower is told."""
    channel = _channel(channel)
    evidence_text = _text(evidence_text, "确认内容", "evidence text", required=True)
    case, proposal = _locked_proposal(session, proposal_id)
    ticket = _case_ticket(session, case)
    _check_ticket_owner(actor, ticket)
    if proposal.status == "accepted":
        raise Conflict(
            "该方案已被接受，协议已生成", "The proposal was already accepted", code="already_accepted"
        )
    if proposal.status != "approved":
        raise Conflict(
            "方案尚未批准（或已驳回、撤回），不能接受",
            "Only an approved proposal can be accepted",
            code="proposal_not_approved",
            details={"status": proposal.status},
        )
    accepted_at = _check_accepted_at(accepted_at, proposal, now)
    _require_verified(session, ticket, now, "记录协议", "Recording an agreement")
    today = business_date(now)
    comparison = compare_options(session, case=case, on=today)
    current = comparison.option(proposal.option["slug"])
    if proposal.effective_on != today or current is None or _option_json(current) != proposal.option:
        raise Conflict(
            "账户或日期已变化，方案需重新生成并审批",
            "The loan or the date changed since the proposal: propose the option again",
            code="plan_changed",
        )
    waiver_ids = _post_waivers(session, case=case, proposal=proposal, option=current, today=today)
    revision = None
    if current.restructures:
        revision = ledger.restructure(
            session,
            loan_id=case.loan_id,
            instalments=[
                ledger.NewInstalment(line.due_on, line.principal, line.interest, line.penalty, line.late_fee)
                for line in current.lines
            ],
            on=today,
            actor=actor,
            kind=current.kind,
            reference=f"negotiation proposal {proposal.id}",
        )
    agreement = _store_agreement(
        session,
        case=case,
        proposal=proposal,
        comparison=comparison,
        option=current,
        accepted_at=accepted_at,
        channel=channel,
        evidence_text=evidence_text,
        waiver_ids=waiver_ids if current.conditional_waiver else [],
        ticket=ticket,
        today=today,
    )
    proposal.status, case.status = "accepted", "agreed"
    _confirm(session, actor=actor, case=case, agreement=agreement, option=current, now=now)
    audit.record(
        session,
        actor,
        "negotiation.agreement.create",
        ("negotiation_agreement", agreement.number),
        None,
        {
            "case_id": case.id,
            "proposal_id": proposal.id,
            "sha256": agreement.sha256,
            "previous_sha256": agreement.previous_sha256,
            "channel": channel,
            "waiver_ids": waiver_ids,
            "schedule_revision": revision.number if revision else None,
        },
    )
    return AcceptResult(agreement, revision.number if revision else None)


def _post_waivers(
    session: Session, *, case: HardshipCase, proposal: Proposal, option: plans.Option, today: date
) -> list[int]:
    requester, approver = _waiver_actor(proposal)
    posted = []
    for grant in option.waivers:
        waiver = ledger.waive(
            session,
            loan_id=case.loan_id,
            component=grant.component,
            amount_fen=grant.amount,
            reason=f"协商方案 {proposal.option_id}：{option.title_zh}",
            requested_by=requester,
            approved_by=approver,
            today=today,
        )
        posted.append(waiver.id)
    return posted


def _store_agreement(
    session: Session,
    *,
    case: HardshipCase,
    proposal: Proposal,
    comparison: plans.Comparison,
    option: plans.Option,
    accepted_at: datetime,
    channel: str,
    evidence_text: str,
    waiver_ids: list[int],
    ticket: Any,
    today: date,
) -> Agreement:
    head = _lock_chain(session)
    seq = head.last_seq + 1
    number = f"XY{today:%Y%m%d}{seq:06d}"
    text_zh = chain.render_text(
        _terms_for_text(
            session,
            case=case,
            proposal=proposal,
            comparison=comparison,
            number=number,
            accepted_at=accepted_at,
            channel=channel,
            evidence_text=evidence_text,
        )
    )
    content = chain.canonical(
        {
            "contract_number": case.contract_number,
            "ticket_number": case.ticket_number,
            "effective_on": proposal.effective_on.isoformat(),
            "option": proposal.option,
            "accepted_at": accepted_at.isoformat(),
            "channel": channel,
            "evidence_text": evidence_text,
            "proposed_by": proposal.proposed_by,
            "approved_by": proposal.decided_by,
        }
    )
    record = {
        "seq": seq,
        "number": number,
        "case_id": case.id,
        "proposal_id": proposal.id,
        "loan_id": case.loan_id,
        "kind": option.kind,
        "content": content,
        "text_zh": text_zh,
    }
    sha = chain.chain_hash(record, head.last_sha256)
    agreement = Agreement(
        **record,
        previous_sha256=head.last_sha256,
        sha256=sha,
        status="active",
        condition_amount_fen=option.condition.amount_fen if option.condition else None,
        condition_due_on=option.condition.due_on if option.condition else None,
        accepted_on=today,
        conditional_waiver_ids=waiver_ids,
        owner_id=case.owner_id,
        ticket_id=ticket.id,
    )
    session.add(agreement)
    head.last_seq, head.last_sha256 = seq, sha
    session.flush()
    return agreement


def _confirmation_text(agreement: Agreement, option: plans.Option) -> str:
    parts = [f"您好，您已确认协商方案「{option.title_zh}」，协议编号 {agreement.number}。"]
    if option.restructures and option.lines:
        first = option.lines[0]
        parts.append(
            f"新还款计划共{len(option.lines)}期，首期还款日{_day(first.due_on)}，应还{_yuan(first.total)}"
            + (f"，此后每月约{_yuan(option.monthly_amount)}" if len(option.lines) > 1 else "")
            + "。"
        )
    if option.waivers:
        parts.append(
            f"减免{_yuan(option.waived_fen)}"
            + ("（以按时付款为条件）" if option.conditional_waiver else "")
            + "。"
        )
    extra = option.extra_cost
    if extra > 0:
        parts.append(f"与原计划相比，总还款额增加{_yuan(extra)}（利息变化）。")
    elif extra < 0:
        parts.append(f"与原计划相比，总还款额减少{_yuan(-extra)}。")
    if option.condition:
        parts.append(
            f"请于{_day(option.condition.due_on)}前支付{_yuan(option.condition.amount_fen)}，逾期未付协议将视为违约。"
        )
    return "".join(parts)


def _confirm(
    session: Session,
    *,
    actor: audit.Actor,
    case: HardshipCase,
    agreement: Agreement,
    option: plans.Option,
    now: datetime,
) -> None:
    desk.reply(
        session,
        actor=actor,
        number=case.ticket_number,
        text=_confirmation_text(agreement, option),
        macro_code=None,
        now=now,
    )


def get_agreement(session: Session, *, number: str) -> Agreement:
    cleaned = (number or "").strip().upper()
    agreement = session.scalar(select(Agreement).where(Agreement.number == cleaned))
    if agreement is None:
        raise NotFound(f"协议不存在：{number}", f"No such agreement: {number}", code="agreement_not_found")
    return agreement


def verify_agreements(session: Session, *, batch: int = 1000) -> chain.ChainCheck:
    """Walk the whole chain in `seq` order, a batch of rows at a time (plain rows, no objects kept)."""
    columns = [getattr(Agreement, name) for name in (*chain.CHAINED_FIELDS, "previous_sha256", "sha256")]

    def records() -> Iterator[dict[str, Any]]:
        last = 0
        while True:
            rows = session.execute(
                select(*columns).where(Agreement.seq > last).order_by(Agreement.seq).limit(batch)
            ).all()
            if not rows:
                return
            for row in rows:
                yield dict(row._mapping)
            last = rows[-1].seq

    return chain.verify_chain(records())


def borrower_name_masked(session: Session, case: HardshipCase) -> str:
    borrower = session.get(Borrower, case.borrower_id)
    return mask_name(borrower.name) if borrower else ""


# --- the case library -----------------------------------------------------------------------------

OUTCOMES = {"success": "成功案例", "failure": "失败案例"}


def mark_library(
    session: Session, *, actor: audit.Actor, case_id: int, outcome: str, lesson: str, now: datetime
) -> HardshipCase:
    """Mark a closed (or agreed) negotiation as a success or failure case with its lesson."""
    if outcome not in OUTCOMES:
        raise Unprocessable(
            f"未知的案例类型：{outcome}（可选：success、failure）",
            f"Unknown outcome: {outcome} (success or failure)",
            code="unknown_outcome",
        )
    lesson = _text(lesson, "经验教训", "lesson", required=True)
    case = _lock_case(session, case_id)
    if case.status == "open":
        raise Conflict(
            "协商尚未结束，不能收入案例库", "The negotiation is still open", code="case_not_closed"
        )
    before = {"outcome": case.library_outcome, "lesson": case.library_lesson}
    case.library_outcome, case.library_lesson = outcome, lesson
    case.library_marked_by, case.library_marked_at = actor.name, now
    audit.record(
        session,
        actor,
        "negotiation.case.library",
        ("negotiation_case", case.id),
        before,
        {"outcome": outcome, "lesson": lesson},
    )
    return case


def close_case(
    session: Session, *, actor: audit.Actor, case_id: int, note: str, now: datetime
) -> HardshipCase:
    """End a negotiation without (or after) an agreement; open proposals are withdrawn."""
    note = _text(note, "结案说明", "note", required=True)
    case = _lock_case(session, case_id)
    _check_ticket_owner(actor, _case_ticket(session, case))
    if case.status == "closed":
        return case
    before = {"status": case.status}
    for proposal in session.scalars(
        select(Proposal).where(
            Proposal.case_id == case.id, Proposal.status.in_(("pending_approval", "approved"))
        )
    ):
        proposal.status = "withdrawn"
    case.status = "closed"
    desk.add_note(
        session, actor=actor, number=case.ticket_number, text=f"协商案件 #{case.id} 结案：{note}", now=now
    )
    audit.record(
        session,
        actor,
        "negotiation.case.close",
        ("negotiation_case", case.id),
        before,
        {"status": "closed", "note": note},
    )
    return case


def library(session: Session, *, outcome: str | None = None, limit: int = 200) -> list[HardshipCase]:
    statement = select(HardshipCase).where(HardshipCase.library_outcome.is_not(None))
    if outcome:
        statement = statement.where(HardshipCase.library_outcome == outcome)
    return list(session.scalars(statement.order_by(HardshipCase.library_marked_at.desc()).limit(limit)))


def case_agreements(session: Session, *, case_id: int) -> list[Agreement]:
    return list(
        session.scalars(select(Agreement).where(Agreement.case_id == case_id).order_by(Agreement.seq))
    )
