"""Verification that means something: it lapses, codes are limited and never at rest in clear, and
account data is refused before verification in whatever form it is written."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lenddesk.channels.delivery_log import DeliveryLogAdapter
from lenddesk.core import audit
from lenddesk.core.db import session_factory
from lenddesk.core.errors import ConfigurationError, LendDeskError
from lenddesk.core.settings import get_settings
from lenddesk.desk import macros, service
from lenddesk.desk.delivery import DeliveryResult, Outgoing
from lenddesk.desk.models import Message, OtpChallenge, OutboxMessage, Ticket
from lenddesk.ledger.models import Loan
from tests.desk.conftest import NOW, BorrowerFacts
from tests.support.delivery import deliver_outbox

BORROWER_PHONE = "13812345678"


@dataclass
class CapturingSms:
    """An SMS adapter that keeps what it was handed (what the phone would show)."""

    channel: str = "sms"
    sent: list[Outgoing] = field(default_factory=list)

    def deliver(self, message: Outgoing, *, now: datetime) -> DeliveryResult:
        self.sent.append(message)
        return DeliveryResult(True)


def url(number: str, tail: str = "") -> str:
    return f"/api/v1/desk/tickets/{number}" + (f"/{tail}" if tail else "")


@pytest.fixture
def known(inbound, desk_data, borrower: BorrowerFacts) -> str:
    """A chat ticket from the borrower's registered phone: known, not verified."""
    return inbound("请问我这个月还多少钱？", sender=BORROWER_PHONE).json()["ticket_number"]


def verify(client: TestClient, headers: dict[str, str], number: str) -> None:
    body = {"name": "张伟", "id_last6": "011232", "contract_number": "HT20260105001"}
    response = client.post(url(number, "verify/knowledge"), json=body, headers=headers)
    assert response.status_code == 200 and response.json()["verified"], response.text


def counts(session: Session) -> tuple[int, int]:
    session.expire_all()
    outbox = session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "reply"))
    out = session.scalar(select(func.count(Message.id)).where(Message.direction == "out"))
    return outbox or 0, out or 0


def deliver_sms(session: Session, now: datetime) -> CapturingSms:
    sms = CapturingSms()
    deliver_outbox(session, adapters={"sms": sms}, now=now)
    session.commit()
    return sms


def code_of(sms: CapturingSms) -> str:
    found = re.search(r"验证码为 (\d{6})", sms.sent[-1].body)
    assert found, sms.sent
    return found.group(1)


# --- disclosure -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "您的应还金额：3,200.00",
        "本期要还5000块",
        "请还款 RMB 888.00",
        "应还1234.56，15号前还款",
        "您的欠款為叁仟贰佰圓",
        "請於１２月５日前處理",
        "合同 ZX-7781-B 已结清",
        "您尾号5678的银行卡扣款失败",
    ],
)
def test_account_data_in_any_form_is_refused_before_verification_and_nothing_is_sent(
    client: TestClient, as_role, known: str, session: Session, text: str
) -> None:
    before = counts(session)
    refused = client.post(url(known, "reply"), json={"text": text}, headers=as_role("agent"))
    assert refused.status_code == 403, refused.text
    body = refused.json()
    assert body["code"] == "verification_required"
    assert body["details"]["required"] == "basic" and body["details"]["current"] == "none"
    assert body["details"]["found"] and "回复中包含账户信息" in body["message_zh"]
    assert body["details"]["found"][0]["text"] in body["message_zh"]
    assert counts(session) == before


def test_the_borrowers_own_contract_number_is_refused_whatever_its_shape(
    client: TestClient, as_role, known: str, session: Session, borrower: BorrowerFacts
) -> None:
    loan = session.scalar(select(Loan))
    assert loan is not None
    loan.contract_number = "ZHANGWEI-DAI"  # a custom contract number with no digit in it
    session.commit()
    refused = client.post(
        url(known, "reply"), json={"text": "您的 zhangwei dai 已处理"}, headers=as_role("agent")
    )
    assert refused.status_code == 403
    assert refused.json()["details"]["found"] == [{"kind": "contract", "text": "zhangweidai"}]


def test_plain_service_replies_still_go_out_before_verification(
    client: TestClient, as_role, known: str
) -> None:
    for text in ("您好，请问有什么可以帮您？", "客服热线 400-000-0000，我们会在3个工作日内回复您。"):
        assert (
            client.post(url(known, "reply"), json={"text": text}, headers=as_role("agent")).status_code == 200
        )


def test_a_macro_with_account_data_in_its_text_is_refused_before_verification(
    client: TestClient, as_role, known: str
) -> None:
    saved = client.post(
        "/api/v1/desk/macros",
        json={"code": "due_day", "title": "还款日", "body": "您的还款日是每月15号，请按时还款。"},
        headers=as_role("team_lead"),
    )
    assert saved.status_code == 200, saved.text
    agent = as_role("agent")
    refused = client.post(url(known, "reply"), json={"macro": "due_day"}, headers=agent)
    assert refused.status_code == 403 and refused.json()["details"]["found"][0]["kind"] == "date"
    preview = client.get(url(known, "macros/due_day"), headers=agent)
    assert preview.status_code == 403
    verify(client, agent, known)
    assert client.post(url(known, "reply"), json={"macro": "due_day"}, headers=agent).status_code == 200


# --- verification lapses --------------------------------------------------------------------------


def test_verification_lapses_after_thirty_minutes_without_a_message_from_the_borrower(
    client: TestClient, as_role, known: str, clock
) -> None:
    agent = as_role("agent")
    verify(client, agent, known)
    clock.now = NOW + timedelta(minutes=29)
    assert (
        client.post(url(known, "reply"), json={"text": "本期应还1050.00元"}, headers=agent).status_code == 200
    )
    clock.now = NOW + timedelta(minutes=31)
    refused = client.post(url(known, "reply"), json={"text": "本期应还1050.00元"}, headers=agent)
    assert refused.status_code == 403 and refused.json()["details"]["current"] == "none"
    panel = client.get(url(known, "panel"), headers=agent).json()
    assert panel["account"] is None and panel["verification_level"] == "none"
    assert client.get(url(known), headers=agent).json()["verification_level"] == "none"
    verify(client, agent, known)  # and the contact can be verified again
    assert (
        client.post(url(known, "reply"), json={"text": "本期应还1050.00元"}, headers=agent).status_code == 200
    )


def test_queue_rows_show_the_verification_as_it_holds_now(
    client: TestClient, as_role, known: str, clock
) -> None:
    """The ticket list used to show the level stored at verification, so a lapsed ticket still read
    "verified" in the queue while its page said "none"."""
    lead = as_role("team_lead")
    verify(client, as_role("agent"), known)

    def listed_level() -> str:
        rows = client.get("/api/v1/desk/tickets", params={"q": known}, headers=lead).json()["items"]
        return next(row["verification_level"] for row in rows if row["number"] == known)

    clock.now = NOW + timedelta(minutes=29)
    assert listed_level() != "none"
    clock.now = NOW + timedelta(minutes=31)
    assert listed_level() == "none"


def test_messages_from_the_borrower_keep_verification_alive_but_never_revive_it(
    client: TestClient, as_role, known: str, clock, inbound
) -> None:
    agent = as_role("agent")
    verify(client, agent, known)
    for minutes in (20, 40):
        clock.now = NOW + timedelta(minutes=minutes)
        assert inbound("还在吗", sender=BORROWER_PHONE).json()["ticket_number"] == known
    clock.now = NOW + timedelta(minutes=65)
    assert (
        client.post(url(known, "reply"), json={"text": "本期应还1050.00元"}, headers=agent).status_code == 200
    )
    clock.now = NOW + timedelta(minutes=120)  # 80 quiet minutes: lapsed …
    inbound("我又来了", sender=BORROWER_PHONE)  # … and a new message (caller ID can be spoofed) …
    clock.now = NOW + timedelta(minutes=121)
    refused = client.post(url(known, "reply"), json={"text": "本期应还1050.00元"}, headers=agent)
    assert refused.status_code == 403  # … does not bring it back


def test_a_ticket_reopened_by_the_same_sender_loses_its_verification(
    client: TestClient, as_role, known: str, clock, inbound
) -> None:
    agent = as_role("agent")
    verify(client, agent, known)
    resolved = client.post(url(known, "status"), json={"status": "resolved"}, headers=agent)
    assert resolved.status_code == 200 and resolved.json()["verification_level"] == "basic"
    clock.now = NOW + timedelta(minutes=5)
    assert inbound("还有个问题", sender=BORROWER_PHONE).json()["outcome"] == "reopened"
    detail = client.get(url(known), headers=agent).json()
    assert detail["verification_level"] == "none"
    assert any(e["kind"] == "verification" and "重新打开" in (e["body"] or "") for e in detail["timeline"])
    refused = client.post(url(known, "reply"), json={"text": "本期应还1050.00元"}, headers=agent)
    assert refused.status_code == 403


# --- one-time codes -------------------------------------------------------------------------------


def test_one_code_a_minute_per_ticket(client: TestClient, as_role, known: str, clock) -> None:
    agent = as_role("agent")
    assert client.post(url(known, "verify/otp/send"), headers=agent).status_code == 200
    clock.now = NOW + timedelta(seconds=59)
    too_soon = client.post(url(known, "verify/otp/send"), headers=agent)
    assert too_soon.status_code == 429 and too_soon.json()["code"] == "otp_too_soon"
    assert too_soon.json()["message_zh"] and too_soon.json()["message_en"]
    clock.now = NOW + timedelta(seconds=60)
    assert client.post(url(known, "verify/otp/send"), headers=agent).status_code == 200


def test_five_codes_a_day_per_ticket(
    client: TestClient, as_role, known: str, clock, session: Session
) -> None:
    agent = as_role("agent")
    for minute in range(5):
        clock.now = NOW + timedelta(minutes=minute)
        assert client.post(url(known, "verify/otp/send"), headers=agent).status_code == 200
    clock.now = NOW + timedelta(minutes=10)
    refused = client.post(url(known, "verify/otp/send"), headers=agent)
    assert refused.status_code == 429 and refused.json()["code"] == "otp_daily_limit"
    assert session.scalar(select(func.count(OtpChallenge.id))) == 5
    clock.now = NOW + timedelta(days=1)  # the next Shanghai day
    assert client.post(url(known, "verify/otp/send"), headers=agent).status_code == 200


def test_five_codes_a_day_per_phone_number_across_tickets(
    client: TestClient, as_role, known: str, clock, inbound
) -> None:
    agent = as_role("agent")
    other = inbound("我是张伟，换了个号", sender="13700000000").json()["ticket_number"]
    verify(client, agent, other)  # identified as the same borrower: codes go to the same phone
    for minute, number in enumerate([known, other, known, other, known]):
        clock.now = NOW + timedelta(minutes=minute)
        assert client.post(url(number, "verify/otp/send"), headers=agent).status_code == 200
    clock.now = NOW + timedelta(minutes=10)
    refused = client.post(url(other, "verify/otp/send"), headers=agent)
    assert refused.status_code == 429 and refused.json()["code"] == "otp_daily_limit_phone"


def test_the_code_never_rests_in_clear(
    client: TestClient, as_role, known: str, session: Session, tmp_path: Path
) -> None:
    agent = as_role("agent")
    assert client.post(url(known, "verify/otp/send"), headers=agent).status_code == 200
    session.expire_all()
    outbox = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "otp"))
    challenge = session.scalar(select(OtpChallenge))
    assert outbox is not None and challenge is not None
    assert outbox.body == f"otp:{challenge.id}" and challenge.code_hash is None
    log = DeliveryLogAdapter("sms", tmp_path / "sms.jsonl")
    sms = CapturingSms()

    class Both:
        channel = "sms"

        def deliver(self, message: Outgoing, *, now: datetime) -> DeliveryResult:
            sms.deliver(message, now=now)
            return log.deliver(message, now=now)

    deliver_outbox(session, adapters={"sms": Both()}, now=NOW)
    session.commit()
    code = code_of(sms)
    logged = json.loads((tmp_path / "sms.jsonl").read_text(encoding="utf-8"))
    assert code not in logged["body"] and "******" in logged["body"]
    session.expire_all()
    assert session.get(OutboxMessage, outbox.id).body == f"otp:{challenge.id}"  # type: ignore[union-attr]
    stored = session.get(OtpChallenge, challenge.id)
    assert stored is not None and stored.code_hash and code not in stored.code_hash
    timeline = json.dumps(client.get(url(known), headers=agent).json(), ensure_ascii=False)
    assert code not in timeline
    right = client.post(url(known, "verify/otp/check"), json={"code": code}, headers=agent).json()
    assert right["verified"] is True and right["level"] == "strong"


def test_the_delivery_log_masks_the_code_it_is_given(tmp_path: Path) -> None:
    adapter = DeliveryLogAdapter("sms", tmp_path / "sms.jsonl")
    message = Outgoing(
        7, "sms", BORROWER_PHONE, "【LendDesk】您的验证码为 482913，5 分钟内有效。", secret="482913"
    )
    assert adapter.deliver(message, now=NOW).delivered
    assert "482913" not in (tmp_path / "sms.jsonl").read_text(encoding="utf-8")


def test_codes_are_hashed_with_their_own_key_not_the_token_key(
    client: TestClient, as_role, known: str, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = as_role("agent")
    client.post(url(known, "verify/otp/send"), headers=agent)
    code = code_of(deliver_sms(session, NOW))
    challenge = session.scalar(select(OtpChallenge))
    assert challenge is not None
    settings = get_settings()
    otp_key, token_key = settings.resolved_otp_key(), settings.resolved_secret_key()
    assert otp_key != token_key
    expected = hmac.new(otp_key.encode(), f"{challenge.salt}:{code}".encode(), hashlib.sha256).hexdigest()
    assert challenge.code_hash == expected
    monkeypatch.setattr(settings, "secret_key", "another-token-key-after-rotation-0123456789")
    outcome = service.check_otp(session, actor=audit.Actor.system("t"), number=known, code=code, now=NOW)
    assert outcome.verified  # rotating the token key leaves codes (and their limits) alone


def test_an_otp_key_equal_to_the_token_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = get_settings()
    monkeypatch.setattr(settings, "otp_key", settings.resolved_secret_key())
    with pytest.raises(ConfigurationError):
        settings.resolved_otp_key()


def test_full_width_digits_are_the_same_code(
    client: TestClient, as_role, known: str, session: Session
) -> None:
    agent = as_role("agent")
    client.post(url(known, "verify/otp/send"), headers=agent)
    code = code_of(deliver_sms(session, NOW))
    full_width = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert client.post(url(known, "verify/otp/check"), json={"code": full_width}, headers=agent).json()[
        "verified"
    ]


# --- hostile input --------------------------------------------------------------------------------


def post_raw(client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    """JSON with \\uXXXX escapes, as a hostile client sends a lone surrogate (httpx cannot encode one)."""
    raw = json.dumps(body, ensure_ascii=True)
    return client.post(path, content=raw, headers={**headers, "Content-Type": "application/json"})


@pytest.mark.parametrize(
    "overrides",
    [
        {"id_last6": "01123张"},
        {"id_last6": "01123\ufffd"},  # what an invalid UTF-8 byte in a console form becomes
        {"name": "张\ud800"},
        {"contract_number": "HT\ud800"},
        {"contract_number": None, "phone": "138\ud83d"},
    ],
)
def test_hostile_values_in_the_knowledge_form_are_refused_not_a_server_error(
    client: TestClient, as_role, known: str, overrides: dict[str, Any]
) -> None:
    body = {"name": "张伟", "id_last6": "011232", "contract_number": "HT20260105001", **overrides}
    response = post_raw(client, url(known, "verify/knowledge"), body, as_role("agent"))
    assert response.status_code == 422, response.text
    assert response.json()["code"] and response.json()["message_zh"] and response.json()["message_en"]


@pytest.mark.parametrize("field", ["name", "id_last6", "contract_number", "phone"])
def test_the_service_refuses_unpaired_surrogates_in_verification_input(
    session: Session, known: str, field: str
) -> None:
    values: dict[str, Any] = {"name": "张伟", "id_last6": "011232", "contract_number": "HT20260105001"}
    values |= (
        {"phone": None, field: values.get(field, "138") + "\ud800"}
        if field != "phone"
        else {"contract_number": None, "phone": "1381234567\ud800"}
    )
    with pytest.raises(LendDeskError) as refused:
        service.verify_knowledge(session, actor=audit.Actor.system("t"), number=known, now=NOW, **values)
    assert refused.value.status_code == 422 and refused.value.code == "verification_input"
    with pytest.raises(LendDeskError) as refused_code:
        service.check_otp(session, actor=audit.Actor.system("t"), number=known, code="1\ud800", now=NOW)
    assert refused_code.value.status_code == 422


def test_full_width_id_digits_are_the_same_answer(client: TestClient, as_role, known: str) -> None:
    body = {"name": "张伟", "id_last6": "０１１２３２", "contract_number": "ｈｔ２０２６０１０５００１"}
    response = client.post(url(known, "verify/knowledge"), json=body, headers=as_role("agent"))
    assert response.status_code == 200 and response.json()["verified"] is True


def test_an_unpaired_surrogate_as_a_code_is_refused_not_a_server_error(
    client: TestClient, as_role, known: str
) -> None:
    agent = as_role("agent")
    client.post(url(known, "verify/otp/send"), headers=agent)
    response = post_raw(client, url(known, "verify/otp/check"), {"code": "12\ud800"}, agent)
    assert response.status_code == 422, response.text


# --- concurrent callers (SQLite; PostgreSQL in tests/integration) -----------------------------------


def run_together(engine: Engine, calls: int, work) -> list[Any]:  # type: ignore[no-untyped-def]
    """`calls` threads, each with its own session, start `work(session)` at once and commit."""
    barrier, results = threading.Barrier(calls), []
    lock = threading.Lock()

    def one() -> None:
        with session_factory(engine)() as session:
            barrier.wait()
            try:
                outcome: Any = work(session)
                session.commit()
            except LendDeskError as exc:
                session.rollback()
                outcome = exc.code
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=one) for _ in range(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_simultaneous_code_requests_send_one_code(engine: Engine, known: str, session: Session) -> None:
    actor = audit.Actor.system("test")
    results = run_together(
        engine, 8, lambda s: service.send_otp(s, actor=actor, number=known, now=NOW).reason
    )
    assert sorted(results) == ["otp_too_soon"] * 7 + ["sent"]
    session.expire_all()
    assert session.scalar(select(func.count(OtpChallenge.id))) == 1
    assert session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "otp")) == 1


def test_simultaneous_wrong_codes_use_up_exactly_the_attempts(
    engine: Engine, known: str, session: Session
) -> None:
    actor = audit.Actor.system("test")
    with session_factory(engine)() as first:
        service.send_otp(first, actor=actor, number=known, now=NOW)
        first.commit()
    code = code_of(deliver_sms(session, NOW))
    wrong = "000000" if code != "000000" else "111111"
    results = run_together(
        engine, 9, lambda s: service.check_otp(s, actor=actor, number=known, code=wrong, now=NOW).reason
    )
    assert sorted(results) == ["locked"] + ["otp_none"] * 4 + ["wrong"] * 4
    session.expire_all()
    challenge = session.scalar(select(OtpChallenge))
    assert challenge is not None and challenge.attempts == 5 and challenge.status == "locked"


def test_simultaneous_wrong_knowledge_answers_count_every_failure(
    engine: Engine, known: str, session: Session
) -> None:
    actor = audit.Actor.system("test")

    def wrong(s: Session) -> str:
        outcome = service.verify_knowledge(
            s,
            actor=actor,
            number=known,
            name="张伟",
            id_last6="999999",
            contract_number="HT20260105001",
            phone=None,
            now=NOW,
        )
        return outcome.reason

    results = run_together(engine, 6, wrong)
    assert sorted(results) == ["mismatch"] * 3 + ["verification_locked"] * 3
    session.expire_all()
    assert session.scalar(select(Ticket.knowledge_failures).where(Ticket.number == known)) == 3


def test_simultaneous_codes_to_one_phone_from_different_tickets_send_one(
    engine: Engine, inbound, desk_data, borrower: BorrowerFacts, session: Session
) -> None:
    numbers = [inbound("你好", sender=f"1370000000{i}").json()["ticket_number"] for i in range(6)]
    for ticket in session.scalars(select(Ticket).where(Ticket.number.in_(numbers))):
        ticket.borrower_id = borrower.id  # each identified as the same borrower: one phone
    session.commit()
    actor, queue = audit.Actor.system("test"), iter(numbers)
    lock = threading.Lock()

    def send(s: Session) -> str:
        with lock:
            number = next(queue)
        return service.send_otp(s, actor=actor, number=number, now=NOW).reason

    assert sorted(run_together(engine, 6, send)) == ["otp_too_soon"] * 5 + ["sent"]


# --- the lapse rule -------------------------------------------------------------------------------

IDLE = timedelta(minutes=30)
minutes = st.integers(min_value=0, max_value=600)


@settings(max_examples=300, deadline=None)
@given(st.lists(minutes, max_size=12), minutes, minutes)
def test_a_lapse_is_final_whatever_comes_after(messages: list[int], lapse_at: int, later: int) -> None:
    at = [NOW + timedelta(minutes=m) for m in messages]
    now = NOW + timedelta(minutes=lapse_at)
    if not macros.verification_current(NOW, at, now, IDLE):
        afterwards = [*at, now + timedelta(minutes=1), now + timedelta(minutes=later)]
        assert not macros.verification_current(NOW, afterwards, now + timedelta(minutes=later + 1), IDLE)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=30), max_size=12), st.integers(min_value=0, max_value=30))
def test_messages_at_most_the_idle_time_apart_keep_it(gaps: list[int], quiet: int) -> None:
    at, last = [], NOW
    for gap in gaps:
        last += timedelta(minutes=gap)
        at.append(last)
    assert macros.verification_current(NOW, at, last + timedelta(minutes=quiet), IDLE)
    assert not macros.verification_current(NOW, at, last + timedelta(minutes=31), IDLE)


def test_a_code_replaced_before_delivery_is_never_sent(
    client: TestClient, as_role, known: str, session: Session, clock
) -> None:
    agent = as_role("agent")
    client.post(url(known, "verify/otp/send"), headers=agent)
    clock.now = NOW + timedelta(minutes=1)
    client.post(url(known, "verify/otp/send"), headers=agent)
    sms = deliver_sms(session, clock.now)
    assert len(sms.sent) == 1
    statuses = session.scalars(
        select(OutboxMessage.status).where(OutboxMessage.kind == "otp").order_by(OutboxMessage.id)
    )
    assert list(statuses) == ["failed", "delivered"]
    checked = client.post(url(known, "verify/otp/check"), json={"code": code_of(sms)}, headers=agent).json()
    assert checked["verified"] is True
