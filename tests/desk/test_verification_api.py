"""Identity verification gates account data in replies, macros and the side panel."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core.models import AuditEntry
from lenddesk.core.policy import DeskPolicy
from lenddesk.desk import service
from lenddesk.desk.macros import VerificationRequired
from lenddesk.desk.service import verification as service_verification
from lenddesk.ledger.models import Borrower
from tests.desk.conftest import NOW, BorrowerFacts
from tests.desk.test_verification_rules import CapturingSms
from tests.support.delivery import deliver_outbox


@pytest.fixture
def number(inbound, desk_data, borrower: BorrowerFacts) -> str:
    """A chat ticket from a stranger's phone: the borrower is not identified yet."""
    return inbound("请问我这个月还多少钱？", sender="13700000000").json()["ticket_number"]


def url(number: str, tail: str) -> str:
    return f"/api/v1/desk/tickets/{number}/{tail}"


def knowledge(client: TestClient, headers, number: str, **overrides) -> dict:
    body = {"name": "张伟", "id_last6": "011232", "contract_number": "HT20260105001", **overrides}
    response = client.post(url(number, "verify/knowledge"), json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def latest_sms_code(session: Session, now: datetime = NOW) -> str:
    """Deliver the queued code (it is drawn only then) and read it as the borrower's phone shows it."""
    sms = CapturingSms()
    deliver_outbox(session, adapters={"sms": sms}, now=now)
    session.commit()
    assert sms.sent and sms.sent[-1].recipient == "13812345678"
    found = re.search(r"验证码为 (\d{6})", sms.sent[-1].body)
    assert found
    return found.group(1)


def test_account_data_is_refused_until_the_contact_is_verified(
    client: TestClient, as_role, number: str
) -> None:
    agent = as_role("agent")
    refused = client.post(url(number, "reply"), json={"text": "您本期应还 1050.00 元"}, headers=agent)
    assert refused.status_code == 403
    assert refused.json()["code"] == "verification_required"
    assert refused.json()["details"] == {
        "required": "basic",
        "current": "none",
        "found": [{"kind": "amount", "text": "应还1050.00元"}],
    }
    macro = client.post(url(number, "reply"), json={"macro": "amount_due"}, headers=agent)
    assert macro.status_code == 403 and macro.json()["code"] == "verification_required"
    panel = client.get(url(number, "panel"), headers=agent).json()
    assert panel["account"] is None and panel["identified"] is False
    # A reply without account details goes out.
    assert (
        client.post(
            url(number, "reply"), json={"text": "请先提供身份信息以便核实"}, headers=agent
        ).status_code
        == 200
    )


def test_knowledge_check_gives_basic_level_and_unlocks_account_data(
    client: TestClient, as_role, number: str, session: Session
) -> None:
    agent = as_role("agent")
    outcome = knowledge(client, agent, number)
    assert outcome["verified"] is True and outcome["level"] == "basic"
    panel = client.get(url(number, "panel"), headers=agent).json()
    assert panel["masked_name"] == "张*" and panel["masked_mobile"] == "138****5678"
    assert panel["account"]["loans"][0]["next_due_amount"] == "1050.00"
    assert panel["account"]["loans"][0]["next_due_on"] == "2026-12-05"
    sent = client.post(url(number, "reply"), json={"macro": "amount_due"}, headers=agent)
    assert sent.status_code == 200
    assert sent.json()["text"] == "张伟您好，合同 HT20260105001 本期应还 1050.00 元，还款日 2026年12月5日。"
    timeline = client.get(f"/api/v1/desk/tickets/{number}", headers=agent).json()["timeline"]
    assert any(e["kind"] == "verification" and "基础验证" in e["body"] for e in timeline)
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "ticket.verify")) is not None


def test_wrong_knowledge_answers_are_counted_and_locked_out(client: TestClient, as_role, number: str) -> None:
    agent = as_role("agent")
    for left in (2, 1, 0):
        outcome = knowledge(client, agent, number, id_last6="999999")
        assert outcome == {**outcome, "verified": False, "level": "none", "attempts_left": left}
    locked = client.post(
        url(number, "verify/knowledge"),
        json={"name": "张伟", "id_last6": "011232", "contract_number": "HT20260105001"},
        headers=agent,
    )
    assert locked.status_code == 403 and locked.json()["code"] == "verification_locked"


def test_someone_elses_contract_does_not_verify(client: TestClient, as_role, number: str) -> None:
    outcome = knowledge(client, as_role("agent"), number, contract_number="HT99999999")
    assert outcome["verified"] is False


def test_registered_phone_can_replace_the_contract_number(client: TestClient, as_role, number: str) -> None:
    outcome = knowledge(client, as_role("agent"), number, contract_number=None, phone="13812345678")
    assert outcome["verified"] is True


def test_one_time_code_to_the_registered_phone_gives_strong_level(
    client: TestClient, as_role, number: str, session: Session
) -> None:
    agent = as_role("agent")
    knowledge(client, agent, number)
    sent = client.post(url(number, "verify/otp/send"), headers=agent).json()
    assert sent["sent_to"] == "138****5678"
    code = latest_sms_code(session)
    wrong = client.post(
        url(number, "verify/otp/check"),
        json={"code": "000000" if code != "000000" else "111111"},
        headers=agent,
    ).json()
    assert wrong["verified"] is False and wrong["reason"] == "wrong" and wrong["attempts_left"] == 4
    right = client.post(url(number, "verify/otp/check"), json={"code": code}, headers=agent).json()
    assert right["verified"] is True and right["level"] == "strong"


def test_one_time_codes_expire_and_lock(
    client: TestClient, as_role, number: str, session: Session, clock
) -> None:
    agent = as_role("agent")
    knowledge(client, agent, number)
    client.post(url(number, "verify/otp/send"), headers=agent)
    code = latest_sms_code(session)
    clock.now = NOW + timedelta(minutes=6)
    expired = client.post(url(number, "verify/otp/check"), json={"code": code}, headers=agent).json()
    assert expired["verified"] is False and expired["reason"] == "expired"
    client.post(url(number, "verify/otp/send"), headers=agent)
    code = latest_sms_code(session, clock.now)
    for _ in range(5):
        last = client.post(url(number, "verify/otp/check"), json={"code": "x"}, headers=agent).json()
    assert last["reason"] == "locked"
    after_lock = client.post(url(number, "verify/otp/check"), json={"code": code}, headers=agent)
    assert after_lock.status_code == 422 and after_lock.json()["code"] == "otp_none"


def test_otp_needs_an_identified_borrower(client: TestClient, as_role, number: str) -> None:
    response = client.post(url(number, "verify/otp/send"), headers=as_role("agent"))
    assert response.status_code == 422 and response.json()["code"] == "borrower_unknown"


def test_a_stricter_policy_needs_the_one_time_code(
    client: TestClient, as_role, number: str, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the account-data rules read the policy in the verification module
    monkeypatch.setattr(
        service_verification, "desk_policy", lambda: DeskPolicy(account_detail_level="strong")
    )
    agent = as_role("agent")
    knowledge(client, agent, number)
    refused = client.post(url(number, "reply"), json={"text": "合同 HT20260105001 已结清"}, headers=agent)
    assert refused.status_code == 403
    assert refused.json()["details"]["required"] == "strong"
    assert refused.json()["details"]["current"] == "basic"
    client.post(url(number, "verify/otp/send"), headers=agent)
    client.post(url(number, "verify/otp/check"), json={"code": latest_sms_code(session)}, headers=agent)
    assert (
        client.post(
            url(number, "reply"), json={"text": "合同 HT20260105001 已结清"}, headers=agent
        ).status_code
        == 200
    )


def test_the_service_layer_refuses_the_account_below_the_level(session: Session, number: str) -> None:
    ticket = service.get_ticket(session, number=number)
    ticket.borrower_id = session.scalar(select(Borrower.id))
    with pytest.raises(VerificationRequired):
        service.account_details(session, ticket=ticket, now=NOW)
    ticket.verification_level, ticket.verified_at = "basic", NOW
    assert service.account_details(session, ticket=ticket, now=NOW).name == "张伟"
