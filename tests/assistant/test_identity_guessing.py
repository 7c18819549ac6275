"""Outsiders learn nothing from the chat's identity check: wrong and unknown details read alike (as a
code sent), failures count per borrower, phone and address across sessions, and the lock stops a
right answer."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.assistant import replies
from lenddesk.desk.models import OtpChallenge, OutboxMessage
from tests.assistant.conftest import new_session_id, token_headers
from tests.desk.conftest import BorrowerFacts, Clock

# What depends on the account (the rest reads the borrower's own words or numbers the session).
SECRET_BEARING = ("reply", "handoff", "risk_flags")


class Borrower:
    """One chat session from one client address."""

    def __init__(self, app: FastAPI, address: str) -> None:
        self.browser = TestClient(app, client=(address, 50000))
        self.session_id = new_session_id()

    def say(self, text: str) -> dict[str, Any]:
        response = self.browser.post(
            "/api/v1/assistant/messages", json={"text": text}, headers=token_headers(self.session_id)
        )
        assert response.status_code == 200, response.text
        return response.json()


def _codes_queued(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "otp")) or 0


def _details(name: str, borrower: BorrowerFacts, mobile: str | None = None) -> str:
    return f"{name} {borrower.id_number[-6:]} {mobile or borrower.mobile}"


def test_wrong_and_unknown_details_read_exactly_like_a_code_sent(
    app: FastAPI, clock: Clock, desk_data: dict, borrower: BorrowerFacts, session: Session
) -> None:
    answers = []
    for n, (name, mobile) in enumerate(
        [("李四", borrower.mobile), ("张伟", "13800005678"), ("张伟", borrower.mobile)]
    ):
        chat = Borrower(app, f"198.51.100.{n + 1}")
        chat.say("验证")
        answers.append(chat.say(_details(name, borrower, mobile)))
        if n < 2:
            assert _codes_queued(session) == 0  # nothing matched: nothing is sent
    assert _codes_queued(session) == 1  # the right details: one code
    assert answers[0].keys() == answers[1].keys() == answers[2].keys()
    wrong, unknown, right = ({k: a[k] for k in SECRET_BEARING} for a in answers)
    assert wrong == unknown == right
    assert wrong["reply"].startswith("验证码已发送至 138****5678")


def test_codes_for_details_that_matched_nothing_are_refused_like_real_ones(
    app: FastAPI, clock: Clock, desk_data: dict, borrower: BorrowerFacts, session: Session
) -> None:
    real, decoy = Borrower(app, "198.51.100.11"), Borrower(app, "198.51.100.12")
    for chat, name in ((real, "张伟"), (decoy, "李四")):
        chat.say("验证")
        chat.say(_details(name, borrower))
    session.execute(OtpChallenge.__table__.update().values(code_hash="0" * 64))  # as if delivered
    session.commit()
    replies_real = [real.say("000001")["reply"] for _ in range(5)]
    replies_decoy = [decoy.say("000001")["reply"] for _ in range(5)]
    assert replies_real == replies_decoy
    assert replies_decoy[0] == replies.CODE_WRONG.format(left=4) and replies_decoy[-1] == replies.CODE_VOID


def test_guesses_across_sessions_and_addresses_lock_the_borrowers_check(
    app: FastAPI, clock: Clock, desk_data: dict, borrower: BorrowerFacts, session: Session
) -> None:
    # 12 wrong answers in 4 sessions, each from its own address (the finding: a 5th session with the
    # right name, ID tail and phone was sent a code).
    for n in range(4):
        chat = Borrower(app, f"203.0.113.{n + 1}")
        chat.say("验证")
        for guess in ("李四", "王五", "赵六"):
            chat.say(_details(guess, borrower))
    fifth = Borrower(app, "203.0.113.99")
    fifth.say("验证")
    assert fifth.say(_details("张伟", borrower))["reply"] == replies.VERIFY_LOCKED
    assert _codes_queued(session) == 0


def test_guesses_from_one_address_lock_that_address(
    app: FastAPI, clock: Clock, desk_data: dict, borrower: BorrowerFacts, session: Session
) -> None:
    for n in range(4):  # unknown phones, one address: only the address's counter links them
        chat = Borrower(app, "203.0.113.50")
        chat.say("验证")
        for guess in range(3):
            chat.say(_details("李四", borrower, f"1390000{n}{guess}00"))
    chat = Borrower(app, "203.0.113.50")
    chat.say("验证")
    assert chat.say(_details("张伟", borrower))["reply"] == replies.VERIFY_LOCKED
    other = Borrower(app, "203.0.113.51")
    other.say("验证")
    assert other.say(_details("张伟", borrower))["reply"].startswith("验证码已发送至")
    assert _codes_queued(session) == 1
