"""Hardship negotiations in `make demo`, played inside the ledger seeder's window (ledger/seed/players.py).

An agreement is computed from the loan as it stands on the day it is accepted and judged by the
closes after it, so this runs on each simulated day, before that day's close, through the rooms'
own use cases:

1. borrowers pay the first instalment of their agreement (most in full, before its date; of the
   others some pay part, some nothing) through the ledger's repayment posting; the close of business
   then judges the agreement kept or broken (negotiation/jobs.py);
2. a proposal the borrower let lapse (not accepted on its day) ends with its case closed;
3. in the window's first days, a few borrowers of overdue loans that would not pay on their own write
   in by SMS about hardship. A team lead gives the ticket to an agent or collector, who sends a
   one-time code; the outbox's delivery worker hands it to the borrower's phone (the SMS channel of
   the demo below), the borrower reads it back, and the ticket is verified. The agent opens a case,
   compares the options and proposes one; a team lead (or compliance) approves or rejects what
   exceeds the agent's authority; the borrower accepts (an agreement: waivers posted, schedule
   restructured), refuses, or lets the proposal lapse; the ticket then waits for the borrower
   (pending_customer: its SLA paused);
4. on the book's business date (today) a few more borrowers write in, and their proposals wait in
   the approvers' queue; a team lead files some judged negotiations in the case library.

Deterministic for the seed and the day; run once with the book (the ledger seeder refuses a seeded book).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import Date, bindparam, select, text
from sqlalchemy.orm import Session

from lenddesk.channels import worker
from lenddesk.core import audit
from lenddesk.core.calendar import SHANGHAI
from lenddesk.core.db import session_factory
from lenddesk.core.errors import LendDeskError
from lenddesk.core.models import User
from lenddesk.core.policy import get_policy
from lenddesk.desk import service as desk
from lenddesk.desk.delivery import DeliveryResult, Outgoing
from lenddesk.ledger import service as ledger
from lenddesk.ledger.read_sql import loan_repaid_fen
from lenddesk.ledger.seed import WindowDay
from lenddesk.negotiation import plans, service
from lenddesk.negotiation.models import Agreement, HardshipCase, Proposal

OPENING_DAYS = 10  # cases are opened in the window's first days, so most first instalments fall inside it
CASES_PER_OVERDUE_LOAN = 0.006  # a day: about 4 % of overdue borrowers negotiate over the opening days
NEGOTIATORS = ("agent", "collector")
SMS = audit.Actor.system("channel:sms")
PAYMENTS = audit.Actor.system("demo:repayments")
# (cause, what the borrower writes)
HARDSHIPS = (
    ("unemployment", "我最近失业了，实在还不上，能不能分期或者延期？"),
    ("income_drop", "公司降薪了，每个月只能还一部分，能不能把月供降下来？"),
    ("illness", "家里老人住院花了很多钱，这个月还不上，可以协商一下吗？"),
    ("business_cashflow", "生意周转不开，想申请延期还款，过两个月就能还上"),
    ("family_emergency", "家里出了急事，罚息太多了，能不能减免一些一次性结清？"),
)
# Option slug prefixes an agent puts to the borrower, with their weights.
CHOICES = (("RI", 35), ("CB", 20), ("DS", 15), ("EXT1", 20), ("IS", 10))
# Outcomes go round in a fixed order (by case, agreement and proposal number), so that even a small
# book shows each of them: the borrower Accepts, Refuses or lets the proposal Lapse; then Keeps the
# agreement, Breaks it paying nothing, or pays Part; an approver turns down one proposal in ten.
ANSWERS = "AAARAAALAA"
PAYMENTS_MADE = "KKBKKPKKBK"
REJECTED_EVERY = 10
LESSONS = {
    "kept": ("success", "月供按还款能力重新安排，借款人首期按时支付"),
    "broken": ("failure", "首期未按约支付；下次先确认还款资金来源再提方案"),
}
LIBRARY_CASES = 2  # of each outcome
OUT_OF_WINDOW_WEIGHT = 0.2  # options judged only after the window are proposed less often


@dataclass
class _Phones:
    """The demo's SMS channel: what reaches each borrower's phone; codes are read off it."""

    channel: str = "sms"
    codes: dict[str, str] = field(default_factory=dict)

    def deliver(self, message: Outgoing, *, now: datetime) -> DeliveryResult:
        if message.secret:  # the one-time code inside the text, as the phone shows it
            self.codes[message.recipient] = message.secret
        return DeliveryResult(True, provider_message_id=f"demo-sms-{message.outbox_id}")


@dataclass(frozen=True)
class _Cast:
    negotiators: list[audit.Actor]
    lead: audit.Actor
    compliance: audit.Actor

    def approver(self, level: str) -> audit.Actor:
        return self.compliance if level == "compliance" else self.lead


@dataclass(frozen=True)
class _Story:
    """A borrower who wrote in about hardship, and what the ticket holds so far."""

    loan: ledger.OverdueLoan
    mobile: str
    ticket_number: str
    negotiator: audit.Actor
    cause: str
    written_at: datetime


def play_window_day(window: WindowDay) -> None:
    factory = session_factory(window.engine)
    with factory() as session:
        cast = _cast(session)
    if cast is None:
        return  # a book without the demo's staff: nobody to negotiate
    _pay_agreements(window)
    _close_lapsed(window, cast)
    if (window.day - window.first_day).days < OPENING_DAYS or _is_today(window):
        _open_cases(window, cast)
    if _is_today(window):
        _mark_library(window, cast)


def _cast(session: Session) -> _Cast | None:
    wanted = (*NEGOTIATORS, "team_lead", "compliance")
    users = {
        user.username: user
        for user in session.scalars(select(User).where(User.username.in_(wanted), User.active.is_(True)))
    }
    negotiators = [audit.Actor.of(users[name]) for name in NEGOTIATORS if name in users]
    if not negotiators or "team_lead" not in users or "compliance" not in users:
        return None
    return _Cast(negotiators, audit.Actor.of(users["team_lead"]), audit.Actor.of(users["compliance"]))


def _is_today(window: WindowDay) -> bool:
    """The book's business date: today's negotiations are still waiting for an approver."""
    return window.day == window.last_day


def _rng(window: WindowDay, *parts: object) -> random.Random:
    return random.Random(":".join(str(part) for part in (window.seed, *parts)))


def _borrower_writes(
    session: Session, message_id: str, mobile: str, text: str, at: datetime
) -> desk.IntakeResult:
    """An SMS from the borrower, taken in by the desk as the SMS channel delivers it."""
    return desk.intake(
        session,
        channel="sms",
        channel_message_id=message_id,
        sender=mobile,
        text=text,
        received_at=at,
        now=at,
        actor=SMS,
    )


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


# --- 1. borrowers pay (or not) what their agreement asks --------------------------------------------


@dataclass(frozen=True)
class _Payment:
    on: date
    share: float  # of the condition's amount


def _payment_plan(window: WindowDay, agreement: Agreement) -> _Payment | None:
    """What the borrower of an agreement pays towards its condition, drawn from the agreement alone."""
    assert agreement.condition_due_on is not None
    behaviour = PAYMENTS_MADE[(agreement.seq - 1) % len(PAYMENTS_MADE)]
    if behaviour == "B":
        return None
    if behaviour == "P":
        return _Payment(max(agreement.condition_due_on - timedelta(days=2), agreement.accepted_on), 0.5)
    before = _rng(window, agreement.number).choice((0, 0, 1, 2, 3, 5))
    return _Payment(max(agreement.condition_due_on - timedelta(days=before), agreement.accepted_on), 1.0)


def _pay_agreements(window: WindowDay) -> None:
    with session_factory(window.engine)() as session:
        agreements = session.scalars(
            select(Agreement)
            .where(
                Agreement.status == "active",
                Agreement.accepted_on < window.day,
                Agreement.condition_due_on >= window.day,
            )
            .order_by(Agreement.id)
        ).all()
        for agreement in agreements:
            plan = _payment_plan(window, agreement)
            if plan is None or plan.on != window.day:
                continue
            assert agreement.condition_amount_fen is not None
            owed = int(agreement.condition_amount_fen * plan.share) - _paid_since(
                session, agreement, window.day
            )
            if owed > 0:
                _pay(session, window, agreement, owed)
        session.commit()


def _paid_since(session: Session, agreement: Agreement, day: date) -> int:
    paid = loan_repaid_fen(":loan", ":since", ":day")
    values = {"loan": agreement.loan_id, "since": agreement.accepted_on, "day": day}
    statement = text(f"SELECT {paid}").bindparams(
        bindparam("since", type_=Date), bindparam("day", type_=Date)
    )
    return int(session.execute(statement, values).scalar() or 0)


def _pay(session: Session, window: WindowDay, agreement: Agreement, amount_fen: int) -> None:
    contract = ledger.contract_number(session, agreement.loan_id)
    assert contract is not None
    channel = _rng(window, agreement.number, "channel").choice(("wechat_pay", "alipay", "bank_transfer"))
    ledger.post_repayment(
        session,
        actor=PAYMENTS,
        contract_number=contract,
        channel=channel,
        external_reference=f"{agreement.number}-{window.day:%Y%m%d}",
        amount_fen=amount_fen,
        value_date=window.day,
        today=window.day,
    )


# --- 2. proposals the borrower let lapse ---------------------------------------------------------------


def _close_lapsed(window: WindowDay, cast: _Cast) -> None:
    with session_factory(window.engine)() as session:
        lapsed = session.execute(
            select(HardshipCase.id, Proposal.proposed_by_id)
            .join(Proposal, Proposal.case_id == HardshipCase.id)
            .where(
                HardshipCase.status == "open",
                Proposal.status == "approved",
                Proposal.effective_on < window.day - timedelta(days=1),
            )
            .order_by(HardshipCase.id)
        ).all()
        for case_id, proposer_id in lapsed:
            actor = next((a for a in cast.negotiators if a.user_id == proposer_id), cast.negotiators[0])
            service.close_case(
                session,
                actor=actor,
                case_id=case_id,
                note="借款人未在当日确认，方案已失效；如需协商请重新联系",
                now=_at(window.day, 9, 30),
            )
        session.commit()


# --- 3. borrowers in hardship write in, are verified, and negotiate --------------------------------


def _open_cases(window: WindowDay, cast: _Cast) -> None:
    factory = session_factory(window.engine)
    rng = _rng(window, window.day, "cases")
    with factory() as session:
        overdue = ledger.overdue_loans(session, min_days=5, max_days=89)
        taken = set(session.scalars(select(HardshipCase.borrower_id)))
        candidates = [
            loan
            for loan in overdue
            if loan.borrower_id not in taken and not window.pays_on_its_own(loan.loan_id)
        ]
        count = min(len(candidates), max(1, round(len(overdue) * CASES_PER_OVERDUE_LOAN)))
        chosen = sorted(rng.sample(candidates, count), key=lambda loan: loan.loan_id)
        stories = _write_in(session, window, cast, rng, chosen)
        session.commit()
    phones = _Phones()
    worker.run(
        factory,
        lambda: {"sms": phones},
        policy=get_policy().channels,
        loop=False,
        clock=lambda: _at(window.day, 10, 3),
    )
    for story in stories:
        with factory() as session:
            try:
                _negotiate(session, window, cast, story, phones.codes.get(story.mobile, ""))
                session.commit()
            except LendDeskError:
                session.rollback()  # what a real agent would see refused; the story ends here


def _write_in(
    session: Session,
    window: WindowDay,
    cast: _Cast,
    rng: random.Random,
    chosen: list[ledger.OverdueLoan],
) -> list[_Story]:
    """Each borrower's SMS, the ticket given to a negotiator, and a one-time code sent to the phone."""
    stories = []
    for index, loan in enumerate(chosen):
        card = ledger.borrower_card(session, loan.borrower_id)
        assert card is not None
        cause, words = HARDSHIPS[rng.randrange(len(HARDSHIPS))]
        written = _at(window.day, 10, 0)
        result = _borrower_writes(
            session, f"hardship-{window.day:%Y%m%d}-{index:03d}", card.mobile, words, written
        )
        negotiator = cast.negotiators[rng.randrange(len(cast.negotiators))]
        assert negotiator.user_id is not None
        desk.assign(
            session,
            actor=cast.lead,
            number=result.ticket_number,
            owner_id=negotiator.user_id,
            team_code=None,
            now=written + timedelta(minutes=1),
        )
        desk.send_otp(
            session, actor=negotiator, number=result.ticket_number, now=written + timedelta(minutes=2)
        )
        stories.append(_Story(loan, card.mobile, result.ticket_number, negotiator, cause, written))
    return stories


def _negotiate(session: Session, window: WindowDay, cast: _Cast, story: _Story, code: str) -> None:
    rng = _rng(window, story.ticket_number)
    moment = story.written_at + timedelta(minutes=5)
    outcome = desk.check_otp(
        session, actor=story.negotiator, number=story.ticket_number, code=code, now=moment
    )
    if not outcome.verified:
        return
    case = service.open_case(
        session,
        actor=story.negotiator,
        contract_number=story.loan.contract_number,
        ticket_number=story.ticket_number,
        cause=story.cause,
        monthly_capacity_fen=_capacity(rng, story.loan),
        notes="借款人来信说明困难情况，已完成短信验证",
        now=moment + timedelta(minutes=2),
    )
    proposal = _propose(session, window, cast, rng, story.negotiator, case, moment + timedelta(minutes=6))
    if proposal is None or _is_today(window):
        return
    moment += timedelta(minutes=15)
    if proposal.status == "rejected":
        note = "方案未获审批通过，另约时间协商"
        service.close_case(session, actor=story.negotiator, case_id=case.id, note=note, now=moment)
        waiting_for = note
    else:
        waiting_for = _answer(session, story, proposal, moment)
    # The ticket waits for the borrower (its SLA paused), as an agent leaves it after the call.
    desk.change_status(
        session,
        actor=story.negotiator,
        number=story.ticket_number,
        status="pending_customer",
        reason=waiting_for,
        now=moment + timedelta(minutes=5),
    )


def _capacity(rng: random.Random, loan: ledger.OverdueLoan) -> int:
    """What the borrower says they can pay a month: part of an instalment, in hundreds of yuan."""
    instalment = loan.principal_fen // max(loan.term, 1)
    return max(30_000, int(instalment * rng.uniform(0.4, 0.9)) // 10_000 * 10_000)


def _propose(
    session: Session,
    window: WindowDay,
    cast: _Cast,
    rng: random.Random,
    negotiator: audit.Actor,
    case: HardshipCase,
    moment: datetime,
) -> Proposal | None:
    """The agent's choice among today's options; above their authority, an approver decides."""
    comparison = service.compare_options(session, case=case, on=window.day)
    weighted = [
        (option.slug, weight * _in_window_weight(option, window))
        for prefix, weight in CHOICES
        for option in comparison.options
        if option.slug.startswith(prefix)
        and option.condition is not None
        and (option.approval != "agent" or not _is_today(window))
    ]
    if not weighted:
        return None
    slug = rng.choices([s for s, _ in weighted], weights=[w for _, w in weighted])[0]
    proposal = service.propose(
        session,
        actor=negotiator,
        case_id=case.id,
        chosen_option_id=service.option_id(case.id, slug),
        now=moment,
    )
    if proposal.status != "pending_approval" or _is_today(window):
        return proposal
    approver = cast.approver(proposal.approval_level)
    decided = moment + timedelta(minutes=4)
    if proposal.id % REJECTED_EVERY == 0:
        return service.reject_proposal(
            session,
            actor=approver,
            proposal_id=proposal.id,
            comment="超出本月审批额度，请先争取部分还款后再议",
            now=decided,
        )
    return service.approve_proposal(
        session, actor=approver, proposal_id=proposal.id, comment="同意", now=decided
    )


def _in_window_weight(option: plans.Option, window: WindowDay) -> float:
    """Options the window's closes will judge are proposed more often than those they will not."""
    assert option.condition is not None
    return 1.0 if option.condition.due_on < window.last_day else OUT_OF_WINDOW_WEIGHT


def _answer(session: Session, story: _Story, proposal: Proposal, moment: datetime) -> str:
    """The borrower accepts by SMS, refuses, or does not answer (the proposal lapses); what the
    ticket then waits for."""
    answer = ANSWERS[(proposal.case_id - 1) % len(ANSWERS)]
    if answer == "L":
        return "等待借款人确认方案"
    if answer == "R":
        note = "借款人不接受方案"
        service.close_case(session, actor=story.negotiator, case_id=proposal.case_id, note=note, now=moment)
        return note
    words = "同意这个方案，我会按时还款"
    _borrower_writes(session, f"hardship-accept-{story.ticket_number}", story.mobile, words, moment)
    service.accept(
        session,
        actor=story.negotiator,
        proposal_id=proposal.id,
        channel="sms",
        evidence_text=f"借款人短信回复：{words}",
        accepted_at=moment,
        now=moment + timedelta(minutes=2),
    )
    return "等待借款人按协议支付首期"


# --- the case library -------------------------------------------------------------------------------


def _mark_library(window: WindowDay, cast: _Cast) -> None:
    """A team lead files a few judged negotiations in the case library, kept and broken alike."""
    with session_factory(window.engine)() as session:
        for status, (outcome, lesson) in LESSONS.items():
            case_ids = session.scalars(
                select(Agreement.case_id)
                .where(Agreement.status == status)
                .order_by(Agreement.seq)
                .limit(LIBRARY_CASES)
            ).all()
            for case_id in case_ids:
                service.mark_library(
                    session,
                    actor=cast.lead,
                    case_id=case_id,
                    outcome=outcome,
                    lesson=lesson,
                    now=_at(window.day, 17, 0),
                )
        session.commit()
