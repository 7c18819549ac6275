"""Use cases of the feedback room: the survey sent when a ticket is resolved, the borrower's answer
on the public page, and the dashboards. Keyword-only functions taking a Session; they never commit.

The link carries a random 256-bit token; only its SHA-256 is stored, so the survey table cannot be
turned back into links. A survey is answered once: the answer is one conditional UPDATE
(status 'sent', not expired), so two answers at once leave exactly one.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.calendar import SHANGHAI, business_date
from lenddesk.core.errors import Conflict, NotFound, Unprocessable
from lenddesk.core.models import User
from lenddesk.core.policy import FeedbackPolicy, get_policy
from lenddesk.desk import hooks as desk_hooks
from lenddesk.desk import service as desk
from lenddesk.feedback import analysis
from lenddesk.feedback.models import Survey
from lenddesk.ledger import service as ledger

TOKEN_BYTES = 32


class QueuedReference(Protocol):
    """What the desk hands a secret drawer: the queued message, whose body is `survey:<id>`."""

    body: str


_SURVEY_REFERENCE = "survey:"
COMMENT_MAX = 1000
CHANNEL_LABELS = {
    "phone": "电话",
    "chat": "在线客服",
    "email": "邮件",
    "wechat": "微信",
    "sms": "短信",
    "web_form": "网页表单",
    "api": "接口",
}

# Called after a survey is answered, in the same transaction: (session, survey, now). Quality
# registers one to put low scores in its review queue (feedback does not import quality).
AnswerHook = Callable[[Session, Survey, datetime], None]
_answer_hooks: list[AnswerHook] = []


def register_answer_hook(hook: AnswerHook) -> None:
    if hook not in _answer_hooks:
        _answer_hooks.append(hook)


def feedback_policy() -> FeedbackPolicy:
    return get_policy().feedback


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


# --- sending ---------------------------------------------------------------------------------------


def _recipient(session: Session, ticket: desk_hooks.ResolvedTicket, now: datetime) -> tuple[str, str] | None:
    """(channel, address) the survey goes to: the ticket's own channel, else SMS to the borrower."""
    if ticket.channel in feedback_policy().survey_channels:
        return ticket.channel, ticket.sender
    if ticket.borrower_id is not None and "sms" in feedback_policy().survey_channels:
        summary = ledger.account_summary(session, borrower_id=ticket.borrower_id, today=business_date(now))
        if summary.mobile:
            return "sms", summary.mobile
    return None


def _survey_text(ticket: desk_hooks.ResolvedTicket, link: str, hours: int) -> str:
    return (
        f"您好，您的工单 {ticket.number} 已处理完毕。请为本次服务评分（1–5 分），"
        f"{hours} 小时内有效：{link} 如不希望再收到此类消息，请回复 TD 退订。"
    )


def _survey_message(session: Session, message: QueuedReference, now: datetime) -> tuple[str, str] | None:
    """The text and token of a `survey:<id>` outbox message, drawn now (a new token replaces any
    earlier try's); None when the survey was answered or expired."""
    survey_id = message.body.removeprefix(_SURVEY_REFERENCE)
    survey = session.get(Survey, int(survey_id)) if survey_id.isdigit() else None
    if survey is None or survey.status != "sent" or survey.expires_at <= now:
        return None
    ticket = desk.find_ticket(session, survey.ticket_id)
    assert ticket is not None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    survey.token_hash = token_hash(token)
    policy = feedback_policy()
    link = f"{policy.survey_link_base.rstrip('/')}/survey/{token}"
    return _survey_text(ticket, link, policy.survey_expiry_hours), token


def _agent_of(session: Session, ticket: desk_hooks.ResolvedTicket) -> int | None:
    """The owner, else the agent who wrote most of the replies (as quality attributes it)."""
    if ticket.owner_id is not None:
        return ticket.owner_id
    sender = desk.top_replier(session, ticket.id)
    if sender is None:
        return None
    return session.scalar(select(User.id).where(User.username == sender))


def send_survey(session: Session, ticket: desk_hooks.ResolvedTicket, at: datetime) -> Survey | None:
    """The desk's resolution hook: one survey per resolution, through the desk's outbox.

    No survey when surveys are off; a survey row marked 'unsent' (with the reason) when the ticket's
    channel cannot carry one or the borrower opted out of it, so the response rate counts only what
    was sent.
    """
    policy = feedback_policy()
    if not policy.survey_enabled:
        return None
    existing = session.scalar(
        select(Survey).where(Survey.ticket_id == ticket.id, Survey.resolution == ticket.reopened_count)
    )
    if existing is not None:
        return existing
    target = _recipient(session, ticket, at)
    unsent_reason = None
    if target is None:
        unsent_reason = "no_channel"
    else:
        opted_out = desk.opted_out_channels(
            session, borrower_id=ticket.borrower_id or -1, addresses=(target[1],)
        )
        if target[0] in opted_out:
            unsent_reason = "opted_out"
    survey = Survey(
        ticket_id=ticket.id,
        resolution=ticket.reopened_count,
        borrower_id=ticket.borrower_id,
        agent_id=_agent_of(session, ticket),
        team_id=ticket.team_id,
        channel=ticket.channel,
        sent_on=target[0] if target else ticket.channel,
        category=ticket.category,
        status="unsent" if unsent_reason else "sent",
        unsent_reason=unsent_reason,
        sent_at=at,
        expires_at=at + timedelta(hours=policy.survey_expiry_hours),
    )
    session.add(survey)
    session.flush()
    if target is not None and unsent_reason is None:
        # The link's token is drawn when the message is sent (`_survey_message`): never at rest.
        survey.outbox_id = desk.queue_outbound(
            session,
            ticket_id=ticket.id,
            channel=target[0],
            recipient=target[1],
            kind="survey",
            body=f"{_SURVEY_REFERENCE}{survey.id}",
            now=at,
        )
    audit.record(
        session,
        audit.Actor.system("feedback"),
        "survey.send",
        ("survey", survey.id),
        None,
        {"ticket": ticket.number, "status": survey.status, "channel": survey.sent_on},
    )
    return survey


def sent_survey_ids(session: Session, *, ticket_ids: list[int]) -> dict[int, int]:
    """Ticket id → id of its survey still waiting for an answer."""
    if not ticket_ids:
        return {}
    rows = session.execute(
        select(Survey.ticket_id, Survey.id).where(Survey.ticket_id.in_(ticket_ids), Survey.status == "sent")
    )
    return {ticket_id: survey_id for ticket_id, survey_id in rows}


def draw_survey_link(session: Session, *, survey_id: int, now: datetime) -> str | None:
    """The survey's token, drawn as the delivery worker draws it when it sends the message (the
    demo's borrowers answer without a channel); None when answered or expired."""
    drawn = _survey_message(session, _Reference(f"{_SURVEY_REFERENCE}{survey_id}"), now)
    return None if drawn is None else drawn[1]


@dataclass(frozen=True)
class _Reference:
    body: str


# --- answering -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyPage:
    state: str  # open, answered, expired
    ticket_number: str
    expires_at: datetime
    csat: int | None = None


def _by_token(session: Session, token: str) -> Survey:
    survey = None
    if 20 <= len(token) <= 100 and token.isascii():
        survey = session.scalar(select(Survey).where(Survey.token_hash == token_hash(token)))
    if survey is None:
        raise NotFound("问卷链接无效", "No such survey", code="survey_not_found")
    return survey


def survey_page(session: Session, *, token: str, now: datetime) -> SurveyPage:
    survey = _by_token(session, token)
    number = desk.ticket_numbers(session, [survey.ticket_id]).get(survey.ticket_id, "")
    if survey.status == "answered":
        return SurveyPage("answered", number, survey.expires_at, survey.csat)
    if survey.expires_at <= now:
        return SurveyPage("expired", number, survey.expires_at)
    return SurveyPage("open", number, survey.expires_at)


def _check_answer(csat: int, nps: int | None, comment: str | None) -> str | None:
    if not 1 <= csat <= 5:
        raise Unprocessable("满意度应为 1–5 分", "CSAT must be 1 to 5", code="bad_csat")
    if nps is not None and not 0 <= nps <= 10:
        raise Unprocessable("推荐度应为 0–10 分", "NPS must be 0 to 10", code="bad_nps")
    text = (comment or "").strip()
    if len(text) > COMMENT_MAX:
        raise Unprocessable(f"评价不能超过 {COMMENT_MAX} 字", f"Comment over {COMMENT_MAX} characters")
    if any("\ud800" <= ch <= "\udfff" or ch == "\x00" for ch in text):
        raise Unprocessable("评价含有无效字符", "The comment holds invalid characters", code="bad_text")
    return text or None


def _callback(session: Session, survey: Survey, now: datetime) -> int | None:
    """A low score: a call-back (回访) follow-up for the ticket's team lead."""
    policy = feedback_policy()
    if survey.csat is None or survey.csat > policy.callback_csat:
        return None
    lead = None
    if survey.team_id is not None:
        lead = desk.team_lead_id(session, survey.team_id)
    if lead is None:
        lead = session.scalar(
            select(User.id).where(User.role == "team_lead", User.active.is_(True)).order_by(User.id).limit(1)
        )
    if lead is None:
        return None
    number = desk.ticket_numbers(session, [survey.ticket_id]).get(survey.ticket_id)
    assert number is not None
    follow_up = desk.add_follow_up(
        session,
        actor=audit.Actor.system("feedback"),
        number=number,
        due_at=now + timedelta(hours=policy.callback_hours),
        note=f"回访：客户满意度 {survey.csat} 分"
        + (f"，评价：{survey.comment[:200]}" if survey.comment else ""),
        owner_id=lead,
        now=now,
    )
    return follow_up.id


def answer_survey(
    session: Session, *, token: str, csat: int, nps: int | None, comment: str | None, now: datetime
) -> Survey:
    """Record the borrower's answer: once, before the link expires."""
    text = _check_answer(csat, nps, comment)
    survey = _by_token(session, token)
    result = analysis.analyse(text, csat)
    answered = session.execute(
        update(Survey)
        .where(Survey.id == survey.id, Survey.status == "sent", Survey.expires_at > now)
        .values(
            status="answered",
            answered_at=now,
            csat=csat,
            nps=nps,
            comment=text,
            sentiment=result.sentiment,
            topics=list(result.topics),
            keywords=list(result.keywords),
        )
    ).rowcount  # type: ignore[attr-defined]
    session.refresh(survey)
    if not answered:
        if survey.status == "answered":
            raise Conflict(
                "该问卷已提交，感谢您的评价", "The survey is already answered", code="survey_answered"
            )
        raise Conflict("该问卷已过期", "The survey link has expired", code="survey_expired")
    survey.callback_follow_up_id = _callback(session, survey, now)
    session.flush()
    audit.record(
        session,
        audit.Actor.system("survey"),
        "survey.answer",
        ("survey", survey.id),
        {"status": "sent"},
        {"status": "answered", "csat": csat, "nps": nps},
    )
    for hook in list(_answer_hooks):
        hook(session, survey, now)
    return survey


# --- dashboards --------------------------------------------------------------------------------------

DIMENSIONS = ("team", "agent", "category", "channel", "week", "month")


def day_start(day: date) -> datetime:
    """Midnight of a Shanghai business date."""
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


@dataclass
class Summary:
    key: str = ""
    label: str = ""
    sent: int = 0
    answered: int = 0
    by_score: dict[int, int] = field(default_factory=lambda: dict.fromkeys(range(1, 6), 0))
    nps_answers: int = 0
    promoters: int = 0
    detractors: int = 0
    csat_total: int = 0
    sentiments: Counter[str] = field(default_factory=Counter)
    topics: Counter[str] = field(default_factory=Counter)

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.sent if self.sent else None

    @property
    def csat(self) -> float | None:
        """CSAT as the share of answers scoring 4 or 5 (the usual definition)."""
        return (self.by_score[4] + self.by_score[5]) / self.answered if self.answered else None

    @property
    def average(self) -> float | None:
        return self.csat_total / self.answered if self.answered else None

    @property
    def nps(self) -> float | None:
        """Promoters (9–10) minus detractors (0–6), in points of −100 … 100."""
        if not self.nps_answers:
            return None
        return 100 * (self.promoters - self.detractors) / self.nps_answers

    def add(self, survey: Any) -> None:
        self.sent += 1
        if survey.status != "answered" or survey.csat is None:
            return
        self.answered += 1
        self.by_score[survey.csat] += 1
        self.csat_total += survey.csat
        if survey.nps is not None:
            self.nps_answers += 1
            self.promoters += survey.nps >= 9
            self.detractors += survey.nps <= 6
        if survey.sentiment:
            self.sentiments[survey.sentiment] += 1
        for topic in survey.topics or ():
            self.topics[topic] += 1


def _surveys(start: datetime, end: datetime) -> Select[Any]:
    return (
        select(
            Survey.status,
            Survey.csat,
            Survey.nps,
            Survey.sentiment,
            Survey.topics,
            Survey.team_id,
            Survey.agent_id,
            Survey.category,
            Survey.channel,
            Survey.sent_at,
        )
        .where(Survey.status != "unsent", Survey.sent_at >= start, Survey.sent_at < end)
        .order_by(Survey.sent_at)
    )


def _key(row: Any, by: str) -> str:
    if by == "week":
        year, week, _ = row.sent_at.astimezone(SHANGHAI).isocalendar()
        return f"{year}-W{week:02d}"
    if by == "month":
        return row.sent_at.astimezone(SHANGHAI).strftime("%Y-%m")
    value = {"team": row.team_id, "agent": row.agent_id, "category": row.category, "channel": row.channel}[by]
    return "" if value is None else str(value)


def _labels(session: Session, by: str, keys: list[str]) -> dict[str, str]:
    ids = [int(k) for k in keys if k.isdigit()]
    if by == "team" and ids:
        return {str(i): n for i, n in desk.team_names(session, ids).items()}
    if by == "agent" and ids:
        rows = session.execute(
            select(User.id, User.display_name, User.username).where(User.id.in_(ids))
        ).all()
        return {str(i): d or u for i, d, u in rows}
    if by == "category":
        return {k: analysis.TOPIC_LABELS.get(k, k) for k in keys}
    if by == "channel":
        return {k: CHANNEL_LABELS.get(k, k) for k in keys}
    return {}


def summary(
    session: Session, *, start: datetime, end: datetime, by: str | None = None, team_id: int | None = None
) -> tuple[Summary, list[Summary]]:
    """CSAT, NPS, response rate and counts by score for surveys sent in [start, end); with `by`,
    the same per team, agent, category, channel, week or month; with `team_id`, that team's only."""
    if by is not None and by not in DIMENSIONS:
        raise Unprocessable(
            f"分组应为 {'、'.join(DIMENSIONS)} 之一",
            f"by must be one of {', '.join(DIMENSIONS)}",
            code="bad_by",
        )
    if end <= start:
        raise Unprocessable("结束日期应晚于开始日期", "to must be after from", code="bad_period")
    total = Summary(key="all", label="合计")
    groups: dict[str, Summary] = {}
    surveys = _surveys(start, end)
    if team_id is not None:
        surveys = surveys.where(Survey.team_id == team_id)
    for row in session.execute(surveys).all():
        total.add(row)
        if by is not None:
            key = _key(row, by)
            groups.setdefault(key, Summary(key=key)).add(row)
    labels = _labels(session, by, list(groups)) if by else {}
    for key, group in groups.items():
        group.label = labels.get(key, key or "未分配")
    return total, [groups[k] for k in sorted(groups)]


def csat_by_ticket(session: Session, ticket_ids: list[int]) -> dict[int, int]:
    """The latest answered CSAT of each ticket (quality's scorecards read it)."""
    if not ticket_ids:
        return {}
    rows = session.execute(
        select(Survey.ticket_id, Survey.csat)
        .where(Survey.ticket_id.in_(ticket_ids), Survey.status == "answered")
        .order_by(Survey.answered_at)
    ).all()
    return {ticket_id: csat for ticket_id, csat in rows}


def csat_answers(
    session: Session, *, start: datetime, end: datetime, by: str
) -> list[tuple[int | None, int]]:
    """(agent or team id, CSAT) of every survey sent in [start, end) and answered; `by` is "agent" or
    "team" (quality's scorecards read it)."""
    key = Survey.agent_id if by == "agent" else Survey.team_id
    return [
        (key_value, csat)
        for key_value, csat in session.execute(
            select(key, Survey.csat).where(
                Survey.status == "answered", Survey.sent_at >= start, Survey.sent_at < end
            )
        ).all()
    ]


desk_hooks.register_resolution_hook(send_survey)
# Found by the desk through `DRAWER_MODULES` (desk/service/outbox.py) in every process that delivers.
desk.register_secret_drawer("survey", _survey_message)
