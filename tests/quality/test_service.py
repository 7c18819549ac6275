"""Automatic QA of stored conversations: scored when a ticket is resolved, severe ones in the queue
with the team lead notified, the nightly run idempotent, a rubric change re-scored on demand."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.core.policy import get_policy
from lenddesk.desk.models import Notification, Ticket
from lenddesk.quality import service
from lenddesk.quality.models import QaReview, QaScore
from tests.quality.conftest import GOOD_AGENT, GOOD_BORROWER, NOW, user_id


def score_of(session: Session, number: str) -> QaScore:
    session.expire_all()
    ticket_id = session.scalar(select(Ticket.id).where(Ticket.number == number))
    found = session.scalar(select(QaScore).where(QaScore.ticket_id == ticket_id))
    assert found is not None, f"{number} has no QA score"
    return found


def results(score: QaScore) -> dict[str, str]:
    return {item["code"]: item["result"] for item in score.items}


def test_a_resolved_ticket_is_scored_with_evidence(work_ticket, session: Session, desk_data) -> None:
    number = work_ticket(GOOD_BORROWER, GOOD_AGENT)
    score = score_of(session, number)
    assert results(score) == {
        "GREETING": "pass",
        "IDENTITY_CHECK": "pass",  # the borrower's own loan is touched, no account data was given
        "ACCURACY": "n/a",
        "EMPATHY": "pass",
        "SOLUTION_OFFERED": "pass",
        "BANNED_LANGUAGE": "pass",
        "PRIVACY": "pass",
        "CLOSING": "pass",
        "RESPONSE_TIME": "pass",
    }
    assert score.score == 100 and not score.severe
    empathy = next(i for i in score.items if i["code"] == "EMPATHY")
    assert "非常理解您的难处" in empathy["evidence"]
    assert score.agent_id == user_id(session, "agent")


def test_banned_language_goes_straight_to_review_and_the_team_lead_is_told(
    work_ticket, session: Session, desk_data
) -> None:
    number = work_ticket(["你好，我还不上了"], ["您好，我是客服。再不还钱就等着坐牢吧，我们会通知你单位。"])
    score = score_of(session, number)
    assert score.severe and score.score == 0
    assert results(score)["BANNED_LANGUAGE"] == "fail"
    review = session.scalar(select(QaReview).where(QaReview.ticket_id == score.ticket_id))
    assert review is not None and review.reason == "severe" and review.status == "pending"
    note = session.scalar(select(Notification).where(Notification.kind == "qa_severe"))
    assert note is not None and note.user_id == user_id(session, "team_lead") and number in note.body


def test_a_private_note_with_an_id_number_is_a_privacy_failure(
    work_ticket, session: Session, desk_data, borrower
) -> None:
    number = work_ticket(GOOD_BORROWER, GOOD_AGENT, notes=(f"客户身份证 {borrower.id_number}，已电话沟通",))
    score = score_of(session, number)
    assert results(score)["PRIVACY"] == "fail" and score.severe
    evidence = next(i for i in score.items if i["code"] == "PRIVACY")["evidence"]
    assert borrower.id_number not in evidence.split("（")[-1]  # the number is masked in the finding


def test_the_nightly_run_scores_what_changed_and_a_second_run_writes_nothing(
    work_ticket, session: Session, desk_data, client, as_role, clock
) -> None:
    number = work_ticket(GOOD_BORROWER, GOOD_AGENT)
    assert service.score_changed(session, now=NOW).written == 0  # scored at resolution already
    session.commit()
    before = score_of(session, number)
    fingerprint = before.content_hash
    # An agent adds a note to the resolved ticket: it changed, so the nightly run re-scores it once.
    clock.now = NOW + timedelta(hours=1)
    client.post(f"/api/v1/desk/tickets/{number}/notes", json={"text": "你这个废物"}, headers=as_role("agent"))
    first = service.score_changed(session, now=clock.now)
    session.commit()
    assert first.written == 1 and first.severe == 1
    again = service.score_changed(session, now=clock.now)
    assert again.written == 0 and again.read == 0
    after = score_of(session, number)
    assert after.content_hash != fingerprint and after.score == 0
    assert results(after)["BANNED_LANGUAGE"] == "fail"


def test_a_rubric_change_rescores_on_demand(work_ticket, session: Session, desk_data, monkeypatch) -> None:
    number = work_ticket(["你好"], ["在的。"])  # no greeting, no closing
    old = score_of(session, number)
    assert results(old)["GREETING"] == "fail"
    old_version, old_score = old.rubric_version, old.score
    policy = get_policy()
    weights = [
        item.model_copy(update={"weight": 0 if item.code == "GREETING" else item.weight})
        for item in policy.quality.rubric
    ]
    changed = policy.model_copy(update={"quality": policy.quality.model_copy(update={"rubric": weights})})
    monkeypatch.setattr("lenddesk.quality.service.policy.get_policy", lambda: changed)
    assert service.score_changed(session, now=NOW).written == 0  # not without asking
    run = service.score_changed(session, now=NOW, rescore=True)
    session.commit()
    assert run.written == 1
    new = score_of(session, number)
    assert new.rubric_version != old_version and new.score > old_score
    assert service.score_changed(session, now=NOW, rescore=True).written == 0


def test_only_ended_tickets_are_scored(work_ticket, session: Session, desk_data) -> None:
    work_ticket(GOOD_BORROWER, GOOD_AGENT, resolve=False)
    assert service.score_changed(session, now=NOW).read == 0
    assert session.scalar(select(func.count(QaScore.id))) == 0


LINES = st.sampled_from(
    [
        "您好，我是客服小李。",
        "本期应还1,050.00元。",
        "我失业了，还不上",
        "你这个废物",
        "理解您的难处，可以申请延期方案。",
        "谢谢，再见",
        "身份证110105199001011232",
        "我要投诉",
        "好的",
    ]
)


def _stored_ticket(session: Session, index: int, turns: list[tuple[str, str]]) -> int:
    from lenddesk.desk.models import Message

    opened = NOW - timedelta(hours=1)
    ticket = Ticket(
        number=f"T20261124-{900000 + index:06d}",
        channel="chat",
        sender=f"1390000{index:04d}",
        subject="咨询",
        status="resolved",
        active=False,
        sla_started_at=opened,
        first_response_minutes=60,
        resolution_minutes=480,
        first_response_due=opened + timedelta(minutes=60),
        resolution_due=opened + timedelta(minutes=480),
        due_at=opened + timedelta(minutes=480),
        at_risk_at=opened + timedelta(minutes=400),
        updated_at=NOW,
        resolved_at=NOW,
    )
    session.add(ticket)
    session.flush()
    for minute, (speaker, text) in enumerate(turns):
        session.add(
            Message(
                ticket_id=ticket.id,
                direction="in" if speaker == "borrower" else "out",
                channel="chat",
                sender="agent" if speaker == "agent" else ticket.sender,
                text=text,
                text_simplified=text,
                received_at=opened + timedelta(minutes=minute),
            )
        )
    session.flush()
    return ticket.id


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    conversations=st.lists(
        st.lists(st.tuples(st.sampled_from(["agent", "borrower"]), LINES), min_size=1, max_size=6),
        min_size=1,
        max_size=4,
    )
)
def test_qa_is_idempotent(session: Session, conversations: list[list[tuple[str, str]]]) -> None:
    """Scoring the same stored conversations again writes nothing and changes nothing, whether they
    are scored alone or alongside new ones, and opens no second review."""
    session.rollback()
    base = session.scalar(select(func.count(Ticket.id))) or 0
    ids = [_stored_ticket(session, base + i, turns) for i, turns in enumerate(conversations)]
    first = service.score_tickets(session, ticket_ids=ids[:-1] or ids, now=NOW)
    rows = {s.ticket_id: (s.score, s.items, s.content_hash) for s in session.scalars(select(QaScore))}
    reviews = session.scalar(select(func.count(QaReview.id)))
    again = service.score_tickets(session, ticket_ids=ids, now=NOW)  # the earlier ones plus the last
    assert again.written == len(ids) - first.written
    third = service.score_tickets(session, ticket_ids=list(reversed(ids)), now=NOW)
    assert third.written == 0 and third.read == len(ids)
    after = {s.ticket_id: (s.score, s.items, s.content_hash) for s in session.scalars(select(QaScore))}
    assert {k: after[k] for k in rows} == rows
    assert session.scalar(select(func.count(QaReview.id))) >= reviews
    assert service.score_changed(session, now=NOW).written == 0
    session.rollback()
