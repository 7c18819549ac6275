"""Scheduled work and demo data of the desk room."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core import audit, auth
from lenddesk.core.db import utcnow
from lenddesk.core.models import User
from lenddesk.core.settings import get_settings
from lenddesk.desk import complaint_stages, service
from lenddesk.desk.models import Agent, Macro, Message, SlaPolicy, Team, Ticket
from lenddesk.ledger import service as ledger


def sla_check(session: Session, *, now: datetime) -> service.SlaCheck:
    """Flag at-risk/breached tickets and escalate new breaches (run every few minutes; idempotent)."""
    return service.evaluate_sla(session, now=now)


def complaint_alerts(session: Session, *, now: datetime) -> int:
    """Alert owners and team leads at D-3 and D-1 before a complaint's deadline and on breach (idempotent)."""
    return service.alert_complaint_deadlines(session, now=now)


# --- demo data ------------------------------------------------------------------------------------

DEMO_TEAMS = (
    # code, name, skills, opens, closes, 7×24
    (
        "general",
        "综合服务组",
        ["repayment_question", "product_question", "account_change", "early_settlement", "*"],
    ),
    ("repayment", "还款与协商组", ["repayment_failed", "hardship", "fee_dispute", "credit_report"]),
    ("complaints", "投诉处理组", ["complaint", "collection_conduct"]),
    ("fraud", "反欺诈热线（7×24）", ["fraud"]),
)
DEMO_AGENTS = (
    # username, display name, team, status, capacity
    ("agent", "李客服", "general", "online", 20),
    ("agent2", "王小明", "general", "online", 20),
    ("agent3", "陈晓红", "repayment", "online", 15),
    ("collector", "王贷后", "repayment", "away", 15),
    ("agent4", "刘投诉", "complaints", "online", 10),
    ("team_lead", "张组长", "complaints", "online", 5),
    ("agent5", "赵夜班", "fraud", "online", 10),
)
DEMO_MACROS = (
    (
        "greeting",
        "问候",
        "您好，我是客服{agent_name}，您的工单 {ticket_number} 已收到，我们会尽快为您处理。",
        None,
    ),
    (
        "amount_due",
        "本期应还",
        "{borrower_name}您好，您的合同 {contract_number} 本期应还 {amount_due} 元，还款日为 {due_date}。",
        "repayment_question",
    ),
    (
        "overdue",
        "逾期金额",
        "{borrower_name}您好，您目前逾期金额为 {overdue_amount} 元，请尽快还款以免影响征信。",
        None,
    ),
    (
        "verify_request",
        "请求核身",
        "为保护您的账户安全，请提供您的姓名、身份证号后六位以及合同编号或注册手机号。",
        None,
    ),
    (
        "hardship",
        "困难协商",
        "理解您的困难。我们可以为您申请延期或分期方案，请告知您目前的收入情况和可承受的月还款额。",
        "hardship",
    ),
    (
        "complaint_ack",
        "投诉受理",
        "您的投诉（工单 {ticket_number}）我们已受理，将在15日内给您答复。如有疑问请致电 {hotline}。",
        "complaint",
    ),
)
DEMO_SLA = (
    ("*", "P1", 15, 240),
    ("*", "P2", 60, 480),
    ("*", "P3", 240, 1440),
    ("*", "P4", 480, 2880),
    ("fraud", "P1", 5, 120),
    ("collection_conduct", "P2", 30, 480),
)
DEMO_MESSAGES = (
    "请问我这个月应该还多少钱？还款日是哪天？",
    "我昨天已经还款了，但是到现在还没有入账，请尽快处理",
    "最近失业了，实在还不起，能不能协商延期或者分期？",
    "你们的利息太高了，还有一笔服务费我根本不知道是什么",
    "我想提前结清，需要怎么操作？结清证明怎么开？",
    "你们的催收天天打电话给我家人，还辱骂威胁，我要投诉！",
    "我的征信上有一条逾期记录，我是按时还款的，要求更正",
    "我换手机号了，怎么修改绑定的手机号和银行卡？",
    "有人冒用我的身份借款，这笔贷款不是我借的！",
    "你们的产品额度是多少？申请需要什么条件？",
    "如果再不处理我就向银保监会和12378投诉，还要找媒体曝光",
    "我的還款沒有入賬，請儘快處理，否則我要向金融監管總局投訴",
    "客服态度太差了，我要投诉",
    "我已经请了律师，准备起诉你们暴力催收",
    "扣款失败了，银行卡余额是够的，怎么回事？",
    "我在黑猫投诉上已经发帖了，你们到底管不管",
)
DEMO_CHANNELS = ("chat", "email", "wechat", "sms", "web_form", "phone", "api")


def _demo_user(session: Session, username: str, display_name: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = auth.create_user(
            session,
            actor=audit.Actor.system("demo"),
            username=username,
            password=get_settings().demo_password,
            role="agent",
            display_name=display_name,
        )
    return user


def _seed_setup(session: Session) -> None:
    lead = session.scalar(select(User.id).where(User.username == "team_lead"))
    for code, name, skills in DEMO_TEAMS:
        if session.scalar(select(Team.id).where(Team.code == code)) is None:
            session.add(
                Team(
                    code=code,
                    name=name,
                    skills=skills,
                    opens="00:00" if code == "fraud" else "09:00",
                    closes="23:59" if code == "fraud" else "21:00",
                    always_open=code == "fraud",
                    lead_user_id=lead,
                )
            )
    session.flush()
    teams = {team.code: team.id for team in session.scalars(select(Team))}
    for username, display_name, team_code, status, capacity in DEMO_AGENTS:
        user = _demo_user(session, username, display_name)
        if session.get(Agent, user.id) is None:
            session.add(
                Agent(user_id=user.id, team_id=teams[team_code], status=status, capacity=capacity, load=0)
            )
    for code, title, body, category in DEMO_MACROS:
        if session.scalar(select(Macro.id).where(Macro.code == code)) is None:
            session.add(Macro(code=code, title=title, body=body, category=category, active=True))
    for category, severity, first, resolution in DEMO_SLA:
        exists = session.scalar(
            select(SlaPolicy.id).where(SlaPolicy.category == category, SlaPolicy.severity == severity)
        )
        if exists is None:
            session.add(
                SlaPolicy(
                    category=category,
                    severity=severity,
                    first_response_minutes=first,
                    resolution_minutes=resolution,
                )
            )
    session.flush()


def _sender(rng: random.Random, channel: str, index: int, people: list[ledger.BorrowerCard]) -> str:
    person = people[index % len(people)] if people and rng.random() < 0.7 else None
    if channel == "email":
        return person.email if person and person.email else f"customer{index}@example.com"
    if channel == "wechat":
        return person.wechat_openid if person and person.wechat_openid else f"oDemo{index:06d}"
    if channel in ("sms", "phone") or person:
        return person.mobile if person else f"139{index:08d}"
    return f"visitor-{index}"


def _play_complaint(session: Session, number: str, depth: int, now: datetime, lead: audit.Actor) -> None:
    """Advance a demo complaint `depth` stages past receipt; 5 closes it."""
    texts = {
        "confirm": "已致电客户确认投诉事项",
        "analyse": "调取通话录音与还款记录核查",
        "resolve": "减免罚息并向客户致歉",
        "feedback": "客户表示满意",
    }
    for stage in complaint_stages.STAGES[1 : 1 + min(depth, 4)]:
        service.advance_complaint(
            session, actor=lead, number=number, stage=stage, content=texts[stage], now=now
        )
    if depth >= 5:
        cause = ("collection_conduct", "service_attitude", "pricing_fees", "system_failure")[len(number) % 4]
        service.close_complaint(session, actor=lead, number=number, root_cause=cause, now=now)


def seed_demo(session: Session, *, borrowers: int) -> None:
    """Teams, agents, SLA policies, macros, and tickets of recent weeks (idempotent)."""
    _seed_setup(session)
    if session.scalar(select(Message.id).where(Message.channel_message_id == "demo-00000")) is not None:
        return
    now = utcnow()
    rng = random.Random(20261126)
    people = ledger.first_borrowers(session, min(borrowers, 200))
    system = audit.Actor.system("demo")
    lead_user = session.scalar(select(User).where(User.username == "team_lead"))
    agent_user = session.scalar(select(User).where(User.username == "agent"))
    assert lead_user is not None and agent_user is not None
    lead, agent = audit.Actor.of(lead_user), audit.Actor.of(agent_user)
    complaint_depth = 0
    for index in range(80):
        channel = DEMO_CHANNELS[index % len(DEMO_CHANNELS)]
        received = now - timedelta(days=rng.uniform(0, 28), minutes=rng.randint(0, 600))
        result = service.intake(
            session,
            channel=channel,
            channel_message_id=f"demo-{index:05d}",
            sender=_sender(rng, channel, index, people),
            text=DEMO_MESSAGES[index % len(DEMO_MESSAGES)],
            received_at=received,
            now=now,
            actor=system,
        )
        if not result.created:
            continue
        ticket = session.get(Ticket, result.ticket_id)
        assert ticket is not None
        moment = received + timedelta(hours=rng.uniform(0.2, 30))
        if moment >= now:
            continue
        if rng.random() < 0.7:
            service.reply(
                session,
                actor=agent,
                number=ticket.number,
                text="您好，已收到您的问题，正在为您核实。",
                macro_code=None,
                now=moment,
            )
        has_complaint = "complaint" in (ticket.tags or [])
        if has_complaint:
            _play_complaint(session, ticket.number, complaint_depth % 6, moment, lead)
            complaint_depth += 1
        elif rng.random() < 0.45:
            service.change_status(
                session, actor=agent, number=ticket.number, status="resolved", reason="已解答", now=moment
            )
        elif rng.random() < 0.2:
            service.change_status(
                session,
                actor=agent,
                number=ticket.number,
                status="pending_customer",
                reason="等待客户提供材料",
                now=moment,
            )
    service.evaluate_sla(session, now=now)
