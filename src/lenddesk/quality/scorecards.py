"""Scorecards per agent and team, per ISO week or calendar month (Shanghai time).

For the tickets resolved in the period: conversations, average QA score and severe failures,
CSAT (share of survey answers scoring 4–5, surveys sent in the period), average first-response and
resolution minutes (wall clock from the SLA start), SLA attainment (both deadlines met), complaints
and the reopen rate. Trends: the same QA score and CSAT over the eight weeks or six months up to
the period.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.core.calendar import SHANGHAI
from lenddesk.core.errors import Unprocessable
from lenddesk.core.models import User
from lenddesk.desk import service as desk
from lenddesk.feedback import service as feedback
from lenddesk.quality.models import QaScore

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
SCOPES = ("agent", "team")


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime  # UTC
    end: datetime

    @property
    def kind(self) -> str:
        return "week" if "-W" in self.label else "month"


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


def parse_period(text: str) -> Period:
    """ "2026-W48" (ISO week) or "2026-11" (month)."""
    cleaned = text.strip().upper()
    try:
        if week := _WEEK.match(cleaned):
            monday = date.fromisocalendar(int(week[1]), int(week[2]), 1)
            return Period(cleaned, _midnight(monday), _midnight(monday + timedelta(days=7)))
        if month := _MONTH.match(cleaned):
            first = date(int(month[1]), int(month[2]), 1)
            following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return Period(cleaned, _midnight(first), _midnight(following))
    except ValueError:
        pass
    raise Unprocessable(
        f"无法识别的周期：{text}（例如 2026-W48 或 2026-11）",
        f"Unknown period {text!r}: use an ISO week such as 2026-W48 or a month such as 2026-11",
        code="bad_period",
    )


def period_of(moment: datetime, kind: str) -> Period:
    local = moment.astimezone(SHANGHAI)
    if kind == "week":
        year, week, _ = local.isocalendar()
        return parse_period(f"{year}-W{week:02d}")
    return parse_period(local.strftime("%Y-%m"))


def previous(period: Period) -> Period:
    return period_of(period.start - timedelta(hours=1), period.kind)


@dataclass
class Scorecard:
    key: str
    label: str = ""
    conversations: int = 0
    severe: int = 0
    _scores: list[int] = field(default_factory=list)
    _csat_answers: list[int] = field(default_factory=list)
    _first: list[float] = field(default_factory=list)
    _resolution: list[float] = field(default_factory=list)
    _met: int = 0
    complaints: int = 0
    _reopened: int = 0

    @staticmethod
    def _mean(values: list[float] | list[int]) -> float | None:
        return round(sum(values) / len(values), 1) if values else None

    @property
    def qa_score(self) -> float | None:
        return self._mean(self._scores)

    @property
    def csat(self) -> float | None:
        answers = self._csat_answers
        return round(sum(1 for a in answers if a >= 4) / len(answers), 3) if answers else None

    @property
    def surveys_answered(self) -> int:
        return len(self._csat_answers)

    @property
    def first_response_minutes(self) -> float | None:
        return self._mean(self._first)

    @property
    def resolution_minutes(self) -> float | None:
        return self._mean(self._resolution)

    @property
    def sla_attainment(self) -> float | None:
        return round(self._met / self.conversations, 3) if self.conversations else None

    @property
    def reopen_rate(self) -> float | None:
        return round(self._reopened / self.conversations, 3) if self.conversations else None


def _minutes(start: datetime, end: datetime | None) -> float | None:
    return (end - start).total_seconds() / 60 if end is not None else None


def _collect(session: Session, period: Period, scope: str, only: str | None) -> dict[str, Scorecard]:
    # The agent a conversation counts for is the one QA attributed it to (the owner, else the
    # agent who wrote most replies).
    ticket = desk.ticket_rows().c
    owner = func.coalesce(QaScore.agent_id, ticket.owner_id) if scope == "agent" else ticket.team_id
    tickets = session.execute(
        select(
            owner.label("key"),
            ticket.id,
            ticket.sla_started_at,
            ticket.first_response_at,
            ticket.first_response_due,
            ticket.resolved_at,
            ticket.resolution_due,
            ticket.reopened_count,
            QaScore.score,
            QaScore.severe,
        )
        .select_from(desk.ticket_rows())
        .outerjoin(QaScore, QaScore.ticket_id == ticket.id)
        .where(ticket.resolved_at >= period.start, ticket.resolved_at < period.end)
    ).all()
    cards: dict[str, Scorecard] = {}
    ids_by_key: dict[str, list[int]] = defaultdict(list)
    for row in tickets:
        key = "" if row.key is None else str(row.key)
        if only is not None and key != only:
            continue
        card = cards.setdefault(key, Scorecard(key))
        card.conversations += 1
        ids_by_key[key].append(row.id)
        if row.score is not None:
            card._scores.append(row.score)
            card.severe += bool(row.severe)
        if (first := _minutes(row.sla_started_at, row.first_response_at)) is not None:
            card._first.append(first)
        if (resolution := _minutes(row.sla_started_at, row.resolved_at)) is not None:
            card._resolution.append(resolution)
        first_ok = row.first_response_at is not None and row.first_response_at <= row.first_response_due
        if first_ok and row.resolved_at is not None and row.resolved_at <= row.resolution_due:
            card._met += 1
        card._reopened += row.reopened_count > 0
    all_ids = [i for ids in ids_by_key.values() for i in ids]
    complained = desk.tickets_with_complaints(session, all_ids)
    for key, ids in ids_by_key.items():
        cards[key].complaints = sum(1 for i in ids if i in complained)
    answers = feedback.csat_answers(session, start=period.start, end=period.end, by=scope)
    for key_value, csat in answers:
        key = "" if key_value is None else str(key_value)
        if only is not None and key != only:
            continue
        cards.setdefault(key, Scorecard(key))._csat_answers.append(csat)
    return cards


def _labels(session: Session, scope: str, keys: list[str]) -> dict[str, str]:
    ids = [int(k) for k in keys if k.isdigit()]
    if not ids:
        return {}
    if scope == "agent":
        rows = session.execute(select(User.id, User.display_name, User.username).where(User.id.in_(ids)))
        return {str(i): d or u for i, d, u in rows.all()}
    return {str(i): n for i, n in desk.team_names(session, ids).items()}


@dataclass(frozen=True)
class TrendPoint:
    period: str
    qa_score: float | None
    csat: float | None


@dataclass(frozen=True)
class Scorecards:
    period: Period
    scope: str
    rows: list[Scorecard]
    trend: list[TrendPoint]


def scorecards(session: Session, *, period: str, scope: str = "agent", key: str | None = None) -> Scorecards:
    """Scorecards of every agent (or team) for the period; `key` narrows to one agent or team id."""
    if scope not in SCOPES:
        raise Unprocessable("范围应为 agent 或 team", "scope must be agent or team", code="bad_scope")
    chosen = parse_period(period)
    cards = _collect(session, chosen, scope, key)
    labels = _labels(session, scope, list(cards))
    for card in cards.values():
        card.label = labels.get(card.key, card.key or "未分配")
    trend = []
    current = chosen
    for _ in range(8 if chosen.kind == "week" else 6):
        merged = _merged(_collect(session, current, scope, key).values())
        trend.append(TrendPoint(current.label, merged.qa_score, merged.csat))
        current = previous(current)
    rows = sorted(cards.values(), key=lambda c: (c.label == "未分配", c.label))
    return Scorecards(chosen, scope, rows, list(reversed(trend)))


def _merged(cards: Any) -> Scorecard:
    total = Scorecard("all")
    for card in cards:
        total._scores += card._scores
        total._csat_answers += card._csat_answers
    return total
