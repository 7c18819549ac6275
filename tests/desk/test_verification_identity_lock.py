"""Failed knowledge checks counted per borrower, phone and address across tickets (SQLite), the
lock that stops a right answer, and an agent lifting it after a one-time code."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lenddesk.core.models import AuditEntry
from tests.desk.conftest import NOW, BorrowerFacts, Clock
from tests.desk.identity_races import wrong_answers_at_once_stop_at_the_limit
from tests.desk.test_verification_rules import code_of, deliver_sms, url


def test_wrong_answers_at_once_never_pass_the_limit(engine: Engine, desk_data: dict) -> None:
    wrong_answers_at_once_stop_at_the_limit(engine, NOW)


def _knowledge(client: TestClient, headers: dict[str, str], number: str, name: str) -> tuple[int, dict]:
    body = {"name": name, "id_last6": "011232", "phone": "13812345678"}
    response = client.post(url(number, "verify/knowledge"), json=body, headers=headers)
    return response.status_code, response.json()


def test_the_lock_spans_tickets_stops_a_right_answer_and_an_agent_lifts_it_after_a_code(
    client: TestClient,
    as_role,  # type: ignore[no-untyped-def]
    inbound,  # type: ignore[no-untyped-def]
    desk_data: dict,
    borrower: BorrowerFacts,
    session: Session,
    clock: Clock,
) -> None:
    headers = as_role("agent")
    tickets = [inbound("查询账户", sender=f"1370000000{n}").json()["ticket_number"] for n in range(6)]
    for number in tickets[:2]:  # 3 + 2 wrong answers: the borrower's and the phone's limit of 5
        for _ in range(3 if number == tickets[0] else 2):
            assert _knowledge(client, headers, number, "李四")[1]["reason"] == "mismatch"
    status, body = _knowledge(client, headers, tickets[2], "张伟")
    assert status == 403 and body["code"] == "verification_locked"  # right, but locked
    # The lock lifts by time: two windows later the failures have aged out.
    clock.now = NOW + timedelta(minutes=121)
    assert _knowledge(client, headers, tickets[2], "张伟")[1]["verified"] is True
    clock.now = NOW + timedelta(minutes=122)
    for number in (tickets[3], tickets[3], tickets[3], tickets[4], tickets[4]):
        assert _knowledge(client, headers, number, "李四")[1]["reason"] == "mismatch"
    assert _knowledge(client, headers, tickets[5], "张伟")[1]["code"] == "verification_locked"
    unlock = client.post(url(tickets[2], "verify/unlock"), headers=headers)
    assert unlock.status_code == 403 and unlock.json()["code"] == "verification_required"
    assert client.post(url(tickets[2], "verify/otp/send"), headers=headers).status_code == 200
    code = code_of(deliver_sms(session, clock.now))
    check = client.post(url(tickets[2], "verify/otp/check"), json={"code": code}, headers=headers)
    assert check.json()["verified"] is True
    unlock = client.post(url(tickets[2], "verify/unlock"), headers=headers)
    assert unlock.status_code == 200, unlock.text
    audited = session.scalar(select(AuditEntry).where(AuditEntry.action == "ticket.verify_unlock"))
    assert audited is not None and audited.actor_name
    assert _knowledge(client, headers, tickets[5], "张伟")[1]["verified"] is True
