"""Acceptance: the agreement rendered, chained and applied to the ledger; the chain verified."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.calendar import business_date, to_shanghai
from lenddesk.core.errors import Conflict, NotFound, Unprocessable
from lenddesk.core.money import format_fen
from lenddesk.core.pii import mask_name
from lenddesk.desk import service as desk
from lenddesk.ledger import service as ledger
from lenddesk.ledger.locking import begin_write
from lenddesk.negotiation import agreement_chain as chain
from lenddesk.negotiation import plans
from lenddesk.negotiation.models import Agreement, ChainHead, HardshipCase, Proposal
from lenddesk.negotiation.service._common import CHANNELS_ZH, LENDER_NAME, _text
from lenddesk.negotiation.service.cases import _case_ticket, _check_ticket_owner, _require_verified
from lenddesk.negotiation.service.options import compare_options
from lenddesk.negotiation.service.proposals import _locked_proposal, _option_json

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


@dataclass(frozen=True)
class AgreementMade:
    """What a hook hears of a new hardship agreement."""

    agreement_id: int
    number: str
    borrower_id: int
    owner_id: int | None
    ticket_id: int | None


# Called after a hardship agreement is made, in the same transaction: (session, agreement, now). The
# care room registers one to put a revisit (回访) on the owner's list (negotiation does not import care).
AgreementHook = Callable[[Session, AgreementMade, datetime], None]
_agreement_hooks: list[AgreementHook] = []


def register_agreement_hook(hook: AgreementHook) -> None:
    if hook not in _agreement_hooks:
        _agreement_hooks.append(hook)


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
    borrower = ledger.borrower_card(session, case.borrower_id)
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
    made = AgreementMade(
        agreement.id, agreement.number, case.borrower_id, agreement.owner_id, agreement.ticket_id
    )
    for hook in list(_agreement_hooks):
        hook(session, made, now)
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
    borrower = ledger.borrower_card(session, case.borrower_id)
    return mask_name(borrower.name) if borrower else ""
