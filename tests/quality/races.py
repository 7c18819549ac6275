"""Concurrent callers of the quality and feedback write paths, shared by the SQLite and PostgreSQL
tests: two answers to one survey, two QA runs of one conversation, two reviewers on one review.

Each scenario takes a migrated database URL with one user per role (named after the role).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from lenddesk.core import audit
from lenddesk.core.db import make_engine, session_factory
from lenddesk.core.models import AuditEntry, User
from lenddesk.desk import hooks
from lenddesk.desk import service as desk
from lenddesk.desk.models import FollowUp, Notification, Team
from lenddesk.feedback import service as feedback
from lenddesk.feedback.models import Survey
from lenddesk.quality import service as quality
from lenddesk.quality.models import QaItemVerdict, QaReview, QaScore
from tests.desk.races import NOW, SYSTEM, only_refusals, run_together
from tests.feedback.delivery import survey_links

LINK = re.compile(r"/survey/([A-Za-z0-9_-]+)")


def _actor(session: Session, username: str) -> audit.Actor:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    return audit.Actor.of(user)


@contextmanager
def _without_hooks() -> Iterator[None]:
    saved = list(hooks._resolution_hooks)
    hooks._resolution_hooks.clear()
    try:
        yield
    finally:
        hooks._resolution_hooks.extend(saved)


def _resolved_ticket(factory: sessionmaker[Session], agent_says: str, *, with_hooks: bool = True) -> str:
    """A chat ticket: the borrower writes, the agent answers, the agent resolves it."""
    with factory() as session:
        if session.scalar(select(Team.id)) is None:
            lead = session.scalar(select(User.id).where(User.username == "team_lead"))
            session.add(Team(code="general", name="综合服务组", skills=["*"], lead_user_id=lead))
            session.flush()
        number = desk.intake(
            session,
            channel="chat",
            channel_message_id="first",
            sender="13900001111",
            text="你好，我失业了，还不上",
            received_at=NOW,
            now=NOW,
            actor=SYSTEM,
        ).ticket_number
        agent = _actor(session, "agent")
        desk.claim(session, actor=agent, number=number, now=NOW)
        desk.reply(
            session,
            actor=agent,
            number=number,
            text=agent_says,
            macro_code=None,
            now=NOW + timedelta(minutes=1),
        )
        if with_hooks:
            desk.change_status(
                session,
                actor=agent,
                number=number,
                status="resolved",
                reason=None,
                now=NOW + timedelta(minutes=2),
            )
        else:
            with _without_hooks():
                desk.change_status(
                    session,
                    actor=agent,
                    number=number,
                    status="resolved",
                    reason=None,
                    now=NOW + timedelta(minutes=2),
                )
        session.commit()
    return number


def _token(session: Session) -> str:
    links = list(survey_links(session, NOW).values())
    assert len(links) == 1
    return links[0].rsplit("/", 1)[1]


def two_answers_to_one_survey_record_one(url: str) -> None:
    factory = session_factory(make_engine(url))
    _resolved_ticket(factory, "您好，我是客服，理解您的难处，可以为您申请延期方案。感谢您！")
    with factory() as session:
        token = _token(session)
    at = NOW + timedelta(hours=1)
    outcome = run_together(
        factory,
        [
            lambda s, csat=csat: (
                feedback.answer_survey(s, token=token, csat=csat, nps=None, comment=None, now=at).csat
            )
            for csat in (1, 2, 1, 2)
        ],
    )
    only_refusals(outcome, "survey_answered")
    assert len(outcome.results) == 1 and len(outcome.errors) == 3
    with factory() as session:
        survey = session.scalar(select(Survey))
        assert survey is not None and survey.status == "answered" and survey.csat == outcome.results[0]
        assert session.scalar(select(func.count(FollowUp.id))) == 1  # one call-back, not four
        assert (
            session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "survey.answer")) == 1
        )
        reviews = session.scalars(select(QaReview)).all()
        assert [r.reason for r in reviews] == ["low_csat"]


def two_qa_runs_write_one_score(url: str) -> None:
    factory = session_factory(make_engine(url))
    _resolved_ticket(factory, "你这个废物，赶紧还钱", with_hooks=False)
    outcome = run_together(factory, [lambda s: quality.score_changed(s, now=NOW).written for _ in range(3)])
    only_refusals(outcome)
    assert sorted(outcome.results) == [0, 0, 1]
    with factory() as session:
        assert session.scalar(select(func.count(QaScore.id))) == 1
        assert session.scalar(select(func.count(QaReview.id))) == 1
        assert (
            session.scalar(select(func.count(Notification.id)).where(Notification.kind == "qa_severe")) == 1
        )


def two_reviewers_decide_a_review_once(url: str) -> None:
    factory = session_factory(make_engine(url))
    _resolved_ticket(factory, "你这个废物，赶紧还钱")
    with factory() as session:
        review_id = session.scalar(select(QaReview.id))
        qa, lead = _actor(session, "qa"), _actor(session, "team_lead")
    assert review_id is not None
    verdicts = [quality.ItemVerdictIn("GREETING", "pass", "开场白在电话里")]
    outcome = run_together(
        factory,
        [
            lambda s, who=who: (
                quality.submit_review(
                    s, actor=who, review_id=review_id, verdicts=verdicts, comment=None, now=NOW
                ).reviewer_name
            )
            for who in (qa, lead, qa)
        ],
    )
    only_refusals(outcome, "review_decided")
    assert len(outcome.results) == 1
    with factory() as session:
        assert session.scalar(select(func.count(QaItemVerdict.id))) == 9  # one set of verdicts
        assert session.scalar(select(QaReview.status)) == "reviewed"
