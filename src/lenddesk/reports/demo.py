"""Twelve months of service and collections history for `make demo`, made through the rooms' services.

The ledger's seeder makes the book (18 months of loans, their buckets and repayments) and the
reports room fills every month end from it. This module then plays the year on top of that book,
month by month, with each room's own use cases, so every page has figures on first sight:

- the desk: customers write in on every channel; agents of four teams answer, some twice, and
  resolve; complaints go through their stages (受理 → 核实 → 分析 → 处理 → 回访) and close with a
  root cause. Each resolution sends a survey (feedback) and is scored by automatic QA (quality),
  both through the desk's resolution hooks.
- feedback: about half the surveys are answered (mostly 4–5, some 1–2; low ones join QA's queue), and
  at least one a month (a small demo's month could otherwise have none, and its scorecards no CSAT).
- quality: reviewers decide most of the queued reviews, overriding an item now and then.
- collections: collectors contact borrowers that were M1–M3 at the month end before, and record
  outcomes — promises to pay among them, judged kept or broken from the repayments of the book as
  the close would judge them.

Deterministic for the seed and today's date; idempotent (a second run finds its marker and stops).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Date, bindparam, select, text
from sqlalchemy.orm import Session

from lenddesk.collections import service as collections
from lenddesk.core import audit, auth
from lenddesk.core.calendar import SHANGHAI, business_today
from lenddesk.core.errors import LendDeskError
from lenddesk.core.models import AuditEntry, User
from lenddesk.core.settings import get_settings
from lenddesk.desk import service as desk
from lenddesk.desk.complaint_stages import STAGES
from lenddesk.feedback import service as feedback
from lenddesk.ledger import read_sql
from lenddesk.ledger import service as ledger
from lenddesk.quality import service as quality
from lenddesk.reports.models import MonthEndPosition
from lenddesk.reports.states import month_of, months_between, shift_month

SEED = 20261207
HISTORY_MONTHS = 12
MARKER = "demo.history"  # the audit action that records the seeding: present means seeded

# (agent username, display name) of each team's agents, as the desk's demo seeds them.
DESK_AGENTS = ("agent", "agent2", "agent3", "agent4", "agent5")
COLLECTORS = (("collector", "王贷后"), ("collector2", "孙催收"), ("collector3", "周回款"))
REVIEWERS = ("qa", "team_lead")

# What customers write (the last three read as complaints to the desk's classifier).
REQUESTS = (
    "请问我这个月应该还多少钱？还款日是哪天？",
    "我昨天已经还款了，但是到现在还没有入账，请尽快处理",
    "我想提前结清，需要怎么操作？结清证明怎么开？",
    "我换手机号了，怎么修改绑定的手机号和银行卡？",
    "扣款失败了，银行卡余额是够的，怎么回事？",
    "最近失业了，实在还不起，能不能协商延期或者分期？",
    "你们的产品额度是多少？申请需要什么条件？",
    "我的征信上有一条逾期记录，我是按时还款的，要求更正",
    "你们的催收天天打电话给我家人，我要投诉！",
    "你们的利息太高了，还有一笔服务费我根本不知道是什么，我要投诉",
    "客服态度太差了，我要投诉",
)
GOOD_REPLIES = (
    "您好，感谢您的耐心等待。已为您核实，您本期应还金额和还款日请以 App 账单页为准，如有疑问请随时联系我们。",
    "您好，已为您查询，款项已于今日入账，给您带来不便深表歉意。请问还有其他可以帮您的吗？",
    "您好，提前结清可在 App「我的借款」中申请，结清后 3 个工作日内可下载结清证明。感谢您的支持。",
)
SHORT_REPLIES = ("已处理。", "请看 App。", "知道了，等通知。")
FOLLOW_UP = "您好，补充说明一下：如仍有疑问，可回复本消息或致电客服热线，我们会继续为您跟进。"
COMPLAINT_TEXTS = {
    "confirm": "已致电客户确认投诉事项",
    "analyse": "调取通话录音与还款记录核查",
    "resolve": "减免罚息并向客户致歉",
    "feedback": "客户表示理解，同意结案",
}
ROOT_CAUSES = ("collection_conduct", "pricing_fees", "service_attitude", "information_disclosure", "process")
SURVEY_COMMENTS = {5: "处理很及时，谢谢", 4: "还可以", 3: None, 2: "等了很久才回复", 1: "态度很差"}
POLITE = "您好，您的借款已逾期，应还金额请以账单为准，请尽快通过银行转账、微信支付或支付宝还款。"
CONTACT_OUTCOMES = (("promise_to_pay", 30), ("right_party", 20), ("no_answer", 35), ("refused", 15))
CONTACT_OUTCOMES_PAYING = (("promise_to_pay", 75), ("right_party", 15), ("no_answer", 10))


@dataclass
class HistoryReport:
    skipped: bool = False
    tickets: int = 0
    complaints: int = 0
    surveys_answered: int = 0
    reviews: int = 0
    contacts: int = 0
    promises: int = 0


@dataclass(frozen=True)
class Cast:
    """The people who act in the history, as audit actors."""

    agents: list[tuple[audit.Actor, int]]
    lead: audit.Actor
    collectors: list[audit.Actor]
    reviewers: list[User]


def seed_demo(session: Session, *, borrowers: int) -> HistoryReport:
    if borrowers <= 0 or session.scalar(select(AuditEntry.id).where(AuditEntry.action == MARKER).limit(1)):
        return HistoryReport(skipped=True)
    cast = _cast(session)
    rng = random.Random(SEED)
    people = ledger.first_borrowers(session, min(max(borrowers // 10, 20), 400))
    today = business_today()
    report = HistoryReport()
    first_month = shift_month(month_of(today), -(HISTORY_MONTHS - 1))
    sequence = 0
    for month in months_between(first_month, month_of(today)):
        days = _days_of(month, today)
        answered_before, unanswered = report.surveys_answered, []
        for _ in range(_tickets_per_month(borrowers)):
            if silent := _service_story(session, rng, cast, people, days, sequence, report):
                unanswered.append(silent)
            sequence += 1
        if report.surveys_answered == answered_before and unanswered:
            # Every month's scorecards show a CSAT on first sight, however small the demo.
            _answer_survey(session, rng, *unanswered[-1], report, always=True)
        _collections_month(session, rng, cast, month, days, _contacts_per_month(borrowers), report)
    collections.judge_promises(session.connection(), today - timedelta(days=1))
    _decide_reviews(session, rng, cast, report)
    audit.record(session, audit.Actor.system("demo"), MARKER, ("demo", 1), None, vars(report))
    return report


def _tickets_per_month(borrowers: int) -> int:
    return max(6, min(borrowers // 150, 40))


def _contacts_per_month(borrowers: int) -> int:
    return max(6, min(borrowers // 100, 60))


def _days_of(month: str, today: date) -> list[date]:
    first = date.fromisoformat(f"{month}-01")
    last = min(
        date.fromisoformat(f"{shift_month(month, 1)}-01") - timedelta(days=1), today - timedelta(days=1)
    )
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def _at(day: date, rng: random.Random, first_hour: int = 9, last_hour: int = 19) -> datetime:
    local = datetime.combine(day, time(rng.randint(first_hour, last_hour), rng.randint(0, 59)), SHANGHAI)
    return local.astimezone(SHANGHAI)


# --- the people -------------------------------------------------------------------------------------


def _user(session: Session, username: str, *, role: str, display_name: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = auth.create_user(
            session,
            actor=audit.Actor.system("demo"),
            username=username,
            password=get_settings().demo_password,
            role=role,
            display_name=display_name,
        )
    return user


def _existing(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def _cast(session: Session) -> Cast:
    agents = [(audit.Actor.of(user), user.id) for name in DESK_AGENTS if (user := _existing(session, name))]
    lead = _existing(session, "team_lead") or _user(
        session, "team_lead", role="team_lead", display_name="张组长"
    )
    if not agents:
        agents = [(audit.Actor.of(lead), lead.id)]
    collectors = [
        audit.Actor.of(_user(session, name, role="collector", display_name=label))
        for name, label in COLLECTORS
    ]
    reviewers = [user for name in REVIEWERS if (user := _existing(session, name))]
    return Cast(agents, audit.Actor.of(lead), collectors, reviewers)


# --- the desk: a customer's request from intake to survey -----------------------------------------


def _service_story(
    session: Session,
    rng: random.Random,
    cast: Cast,
    people: list[ledger.BorrowerCard],
    days: list[date],
    sequence: int,
    report: HistoryReport,
) -> tuple[int, bool, datetime] | None:
    """Plays one request; returns (ticket, careful, resolved at) when its survey went unanswered."""
    received = _at(rng.choice(days), rng, 8, 21)
    text = REQUESTS[rng.randrange(len(REQUESTS))]
    person = people[rng.randrange(len(people))] if people else None
    channel = rng.choice(("sms", "sms", "email", "wechat", "chat", "web_form"))
    sender = _address(person, channel, sequence)
    result = desk.intake(
        session,
        channel=channel,
        channel_message_id=f"history-{sequence:05d}",
        sender=sender,
        text=text,
        received_at=received,
        now=received,
        actor=audit.Actor.system("demo"),
    )
    if not result.created:
        return None
    report.tickets += 1
    number = result.ticket_number
    actor, agent_id = cast.agents[rng.randrange(len(cast.agents))]
    moment = received + timedelta(minutes=rng.choice((6, 20, 45, 90, 240, 600, 1500)))
    desk.assign(session, actor=cast.lead, number=number, owner_id=agent_id, team_code=None, now=moment)
    careful = rng.random() < 0.8
    desk.reply(
        session,
        actor=actor,
        number=number,
        text=rng.choice(GOOD_REPLIES if careful else SHORT_REPLIES),
        macro_code=None,
        now=moment,
    )
    if rng.random() < 0.25:
        moment += timedelta(hours=rng.uniform(1, 20))
        desk.reply(session, actor=actor, number=number, text=FOLLOW_UP, macro_code=None, now=moment)
    ticket = desk.find_ticket(session, result.ticket_id)
    assert ticket is not None
    if "complaint" in (ticket.tags or []):  # the desk's classifier decides
        report.complaints += 1
        if rng.random() < 0.15:
            return None  # still being worked on
        moment = _play_complaint(session, rng, cast.lead, number, moment)
    elif rng.random() < 0.1:
        return None  # left open: some tickets breach their SLA
    moment += timedelta(hours=rng.uniform(0.5, 30))
    session.refresh(ticket)
    if ticket.status in ("resolved", "closed"):
        return None
    desk.change_status(session, actor=actor, number=number, status="resolved", reason="已解答", now=moment)
    if _answer_survey(session, rng, result.ticket_id, careful, moment, report):
        return None
    return result.ticket_id, careful, moment


def _address(person: ledger.BorrowerCard | None, channel: str, sequence: int) -> str:
    if channel == "email":
        return person.email if person and person.email else f"customer{sequence}@example.com"
    if channel == "wechat":
        return person.wechat_openid if person and person.wechat_openid else f"oHist{sequence:06d}"
    if channel == "sms" or person:
        return person.mobile if person else f"137{sequence:08d}"
    return f"visitor-{sequence}"


def _play_complaint(
    session: Session, rng: random.Random, lead: audit.Actor, number: str, moment: datetime
) -> datetime:
    for stage in STAGES[1:5]:
        moment += timedelta(hours=rng.uniform(2, 48))
        desk.advance_complaint(
            session, actor=lead, number=number, stage=stage, content=COMPLAINT_TEXTS[stage], now=moment
        )
    cause = ROOT_CAUSES[min(int(rng.expovariate(0.9)), len(ROOT_CAUSES) - 1)]  # a Pareto-like spread
    desk.close_complaint(session, actor=lead, number=number, root_cause=cause, now=moment)
    return moment


def _answer_survey(
    session: Session,
    rng: random.Random,
    ticket_id: int,
    careful: bool,
    resolved: datetime,
    report: HistoryReport,
    *,
    always: bool = False,
) -> bool:
    survey_id = feedback.sent_survey_ids(session, ticket_ids=[ticket_id]).get(ticket_id)
    if survey_id is None or (rng.random() < 0.45 and not always):
        return False  # not every borrower answers
    answered = resolved + timedelta(minutes=rng.randint(5, 600))
    token = feedback.draw_survey_link(session, survey_id=survey_id, now=answered)
    if token is None:
        return False
    csat = rng.choices((5, 4, 3, 2, 1), weights=(50, 25, 10, 8, 7) if careful else (15, 20, 20, 25, 20))[0]
    nps = max(0, min(10, csat * 2 + rng.randint(-2, 1))) if rng.random() < 0.7 else None
    feedback.answer_survey(
        session, token=token, csat=csat, nps=nps, comment=SURVEY_COMMENTS[csat], now=answered
    )
    report.surveys_answered += 1
    return True


def _decide_reviews(session: Session, rng: random.Random, cast: Cast, report: HistoryReport) -> None:
    """Reviewers decide about four in five queued reviews, overriding an item now and then."""
    if not cast.reviewers:
        return
    for row in quality.review_queue(session, viewer=cast.reviewers[0], status="pending", limit=10_000):
        if rng.random() < 0.2:
            continue
        reviewer = next((r for r in cast.reviewers if r.id != row.review.agent_id), None)
        if reviewer is None:
            continue
        verdicts = [quality.ItemVerdictIn(code, "pass") for code in row.failed[:1] if rng.random() < 0.3]
        decided = row.review.created_at + timedelta(days=rng.randint(1, 4))
        try:
            quality.submit_review(
                session,
                actor=audit.Actor.of(reviewer),
                review_id=row.review.id,
                verdicts=verdicts,
                comment=None,
                now=decided,
            )
        except LendDeskError:
            continue
        report.reviews += 1


# --- collections: contacts and promises on last month's delinquent loans ---------------------------


def _collections_month(
    session: Session,
    rng: random.Random,
    cast: Cast,
    month: str,
    days: list[date],
    contacts: int,
    report: HistoryReport,
) -> None:
    delinquent = session.execute(
        select(MonthEndPosition.loan_id, MonthEndPosition.principal_fen)
        .where(
            MonthEndPosition.month == shift_month(month, -1), MonthEndPosition.state.in_(("M1", "M2", "M3"))
        )
        .order_by(MonthEndPosition.loan_id)
    ).all()
    if not delinquent or not days:
        return
    for loan_id, principal_fen in rng.sample(list(delinquent), min(contacts, len(delinquent))):
        contract = ledger.contract_number(session, loan_id)
        borrower_id = ledger.borrower_id_of_contract(session, contract) if contract else None
        if borrower_id is None:
            continue
        collector = cast.collectors[rng.randrange(len(cast.collectors))]
        day = rng.choice(days[: max(1, 2 * len(days) // 3)])
        at = _at(day, rng, 9, 19)
        sent = collections.send_contact(
            session,
            actor=collector,
            borrower_id=borrower_id,
            recipient="self",
            channel="sms",
            text=POLITE,
            now=at,
        )
        if sent.contact.status != "sent":
            continue
        report.contacts += 1
        promise_date = day + timedelta(days=rng.randint(5, 14))
        will_pay = _repaid_fen(session, borrower_id, day, promise_date)
        kind = _outcome(rng, paying=will_pay > 0)
        promise = {}
        if kind == "promise_to_pay":
            promised = _promised_fen(rng, principal_fen)
            if will_pay:  # they pay what they promised (or promised what they then paid)
                promised = min(promised, will_pay)
            promise = {"promise_amount_fen": promised, "promise_date": promise_date}
            report.promises += 1
        collections.record_outcome(
            session,
            actor=collector,
            borrower_id=borrower_id,
            kind=kind,
            now=at + timedelta(minutes=3),
            contact_id=sent.contact.id,
            **promise,
        )


def _outcome(rng: random.Random, *, paying: bool) -> str:
    """What the call gives: a borrower who pays in the next days mostly promises it first; one who
    will not pay promises less often (those promises break) and refuses or does not answer more."""
    weights = CONTACT_OUTCOMES_PAYING if paying else CONTACT_OUTCOMES
    return rng.choices([k for k, _ in weights], weights=[w for _, w in weights])[0]


def _repaid_fen(session: Session, borrower_id: int, first: date, last: date) -> int:
    """What the borrower repaid (posted) valued `first`..`last`, read from the book as it is."""
    paid = read_sql.borrower_repaid_fen(":borrower", ":first", ":last")
    values = {"borrower": borrower_id, "first": first, "last": last}
    statement = text(f"SELECT {paid}").bindparams(
        bindparam("first", type_=Date), bindparam("last", type_=Date)
    )
    return int(session.execute(statement, values).scalar() or 0)


def _promised_fen(rng: random.Random, principal_fen: int) -> int:
    """About one instalment or part of it, in whole hundreds of yuan (at least 100 yuan)."""
    instalment = principal_fen // rng.choice((3, 6, 12))
    return max(10_000, int(instalment * rng.choice((0.3, 0.5, 1.0))) // 10_000 * 10_000)
