"""The borrower's chat through the public API: answers, rephrasing, handoff, scams, verification."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.assistant.delivery import WebChatDelivery
from lenddesk.assistant.models import ChatMessage, ChatSession
from lenddesk.core.db import session_factory
from lenddesk.desk.delivery import DeliveryResult, Outgoing
from lenddesk.desk.models import Message, Ticket
from tests.assistant.conftest import badge_of, new_session_id, token_headers
from tests.desk.conftest import BorrowerFacts, Clock
from tests.support.delivery import deliver_outbox

Chat = Callable[..., dict[str, Any]]


def ticket(session: Session, number: str) -> Ticket:
    session.expire_all()
    found = session.scalar(select(Ticket).where(Ticket.number == number))
    assert found is not None
    return found


def test_an_faq_question_gets_its_answer_with_the_policy_values(chat: Chat) -> None:
    answer = chat("請問怎麼還款")  # Traditional
    assert answer["intent"] == "repay_how"
    assert answer["handoff"] is False and answer["ticket_number"] is None
    assert "自动扣款" in answer["reply"] and "支付宝" in answer["reply"]
    assert answer["emotion"] == "calm" and answer["risk_flags"] == []
    assert answer["confidence"] >= 0.45


def test_brand_names_and_full_width_text_are_understood(chat: Chat) -> None:
    assert chat("ＡＰＰ里怎么提前结清，借呗都可以提前还")["intent"] == "early_repay"
    assert chat("征信上有你们的逾期记录")["intent"] == "credit_report"


def test_two_misses_in_a_row_hand_off_and_a_hit_in_between_resets(chat: Chat, session: Session) -> None:
    first = chat("asdkjh qwe")
    assert first["handoff"] is False and "换个说法" in first["reply"]
    assert chat("怎么还款")["handoff"] is False  # understood: the misses start again
    assert chat("zzzz xx")["handoff"] is False
    second = chat("今天天气怎么样")
    assert second["handoff"] is True and second["ticket_number"]
    found = ticket(session, second["ticket_number"])
    assert found.channel == "chat" and found.sender == f"chat:{chat.session_id}"


def test_an_angry_borrower_is_handed_off_with_transcript_intent_and_emotion(
    chat: Chat, session: Session
) -> None:
    chat("怎么还款")
    answer = chat("扣了我两次钱！！！你们这什么垃圾平台，赶紧退钱")
    assert answer["emotion"] == "angry" and answer["handoff"] is True
    number = answer["ticket_number"]
    first = session.scalar(select(Message).join(Ticket).where(Ticket.number == number))
    assert first is not None
    assert "情绪：angry" in first.text and "意图：repay_failed" in first.text
    assert "怎么还款" in first.text and "垃圾平台" in first.text  # the transcript
    # Later messages join the same ticket; nothing new is opened.
    again = chat("人呢？")
    assert again["ticket_number"] == number and again["handoff"] is True
    messages = session.scalars(select(Message).join(Ticket).where(Ticket.number == number)).all()
    assert [m.text for m in messages][-1] == "人呢？"


def test_a_scam_story_gets_a_warning_and_an_urgent_fraud_ticket_and_the_bot_stays(
    chat: Chat, session: Session
) -> None:
    answer = chat("有人自称你们客服，让我注销校园贷账户，把钱转到安全账户")
    assert answer["risk_flags"] == ["SCAM_SUSPECTED"]
    # Issue 19: the fraud team gets an urgent ticket, but the chat is not handed to a person.
    assert answer["intent"] == "fraud_report" and answer["handoff"] is False
    assert "警惕诈骗" in answer["reply"] and "110" in answer["reply"]
    found = ticket(session, answer["ticket_number"])
    assert found.severity == "P1" and found.category == "fraud"
    assert (
        "SCAM_SUSPECTED"
        in found.subject + session.scalars(select(Message.text).where(Message.ticket_id == found.id)).first()
    )
    chat_session = session.scalar(select(ChatSession).where(ChatSession.public_id == chat.session_id))
    assert chat_session is not None and chat_session.risk_flags == ["SCAM_SUSPECTED"]
    assert chat_session.state == "bot"
    follow_up = chat("请问怎么还款")  # the bot still answers
    assert follow_up["intent"] == "repay_how" and follow_up["handoff"] is False
    assert "支付宝" in follow_up["reply"]


def test_an_angry_scam_victim_is_handed_to_a_person_on_the_fraud_ticket(chat: Chat, session: Session) -> None:
    answer = chat("我被骗了！！！你们的客服让我开屏幕共享，钱全被转走了，你们这什么垃圾平台")
    assert answer["risk_flags"] == ["SCAM_SUSPECTED"] and answer["handoff"] is True
    assert "警惕诈骗" in answer["reply"]
    assert ticket(session, answer["ticket_number"]).category == "fraud"


def test_a_fraud_report_without_a_scam_script_opens_a_fraud_ticket_without_a_handoff(
    chat: Chat, session: Session
) -> None:
    answer = chat("这笔借款不是我借的，有人冒用了我的身份")
    assert answer["intent"] == "fraud_report" and answer["handoff"] is False
    assert answer["ticket_number"] and "96110" in answer["reply"]
    assert ticket(session, answer["ticket_number"]).category == "fraud"
    asked = chat("转人工")
    assert asked["handoff"] is True and asked["ticket_number"] == answer["ticket_number"]


def test_out_of_hours_the_borrower_is_told_when_a_person_replies(chat: Chat, clock: Clock) -> None:
    clock.now = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)  # Saturday 22:00 Shanghai
    answer = chat("转人工")
    assert answer["handoff"] is True
    assert "非工作时间" in answer["reply"] and "11月30日（周一）09:00" in answer["reply"]


def test_within_hours_no_out_of_hours_note(chat: Chat) -> None:
    answer = chat("我要人工客服")
    assert answer["handoff"] is True and "非工作时间" not in answer["reply"]


def test_unverified_account_questions_disclose_nothing(
    chat: Chat, borrower: BorrowerFacts, session: Session
) -> None:
    for text in ("我这个月还要还多少", f"{borrower.mobile}这个号码还欠多少钱", "提前结清要多少钱"):
        answer = chat(text)
        reply = answer["reply"]
        assert "1050" not in reply and "1,050" not in reply and borrower.contract_number not in reply
        assert "张伟" not in reply and "2026年12月5日" not in reply
    assert "验证" in chat("我这个月还要还多少")["reply"]


class CodeCatcher:
    """An SMS adapter that keeps the codes it is given."""

    channel = "sms"

    def __init__(self) -> None:
        self.codes: list[str] = []

    def deliver(self, message: Outgoing, *, now: datetime) -> DeliveryResult:
        assert message.secret is not None
        self.codes.append(message.secret)
        return DeliveryResult(True)


def test_a_borrower_verifies_with_a_code_and_gets_their_own_figures(
    chat: Chat, borrower: BorrowerFacts, session: Session, clock: Clock
) -> None:
    assert "姓名" in chat("验证")["reply"]
    wrong = chat(f"李四 {borrower.id_number[-6:]} {borrower.mobile}")  # read like a code sent, none is
    assert "验证码已发送至 138****5678" in wrong["reply"] and "1050" not in wrong["reply"]
    sent = chat(f"张伟 {borrower.id_number[-6:]} {borrower.mobile}")
    assert "验证码已发送至 138****5678" in sent["reply"]
    catcher = CodeCatcher()
    deliver_outbox(session, adapters={"sms": catcher}, now=clock.now)
    session.commit()
    assert "不正确" in chat("000000" if catcher.codes[0] != "000000" else "111111")["reply"]
    verified = chat(catcher.codes[0])
    assert "验证成功" in verified["reply"]
    assert "1,050.00" in verified["reply"] or "1050.00" in verified["reply"]
    assert "2026年12月5日" in verified["reply"]
    settle = chat("今天提前结清要多少钱")
    assert settle["intent"] == "early_repay" and "今天全部结清需还" in settle["reply"]
    # Another session knows nothing of it.
    other = chat("我这个月还要还多少", session_id=new_session_id())
    assert "1,050" not in other["reply"] and "验证" in other["reply"]


def test_official_numbers_and_agent_ids_are_checked_in_chat(chat: Chat) -> None:
    assert "是我们的官方号码" in chat("4000000000是你们的客服电话吗")["reply"]
    assert "不是我们的官方号码" in chat("01053912345是你们的电话吗")["reply"]
    badge = badge_of("agent")
    assert (
        f"工号 {badge}：是我们在职的工作人员"
        in chat(f"有个工号 {badge} 的人打电话给我，是你们的人吗")["reply"]
    )
    named = chat("有个工号 agent 的人打电话给我，是你们的人吗")["reply"]  # a sign-in name is never looked up
    assert "不是我们的工号格式" in named and "在职" not in named


def test_verify_official_endpoint(client: TestClient) -> None:
    official = client.get("/api/v1/assistant/verify-official", params={"phone": "400-000-0000"}).json()
    assert official["official"] is True and official["kind"] == "phone"
    assert (
        client.get("/api/v1/assistant/verify-official", params={"phone": "010-5391 2345"}).json()["official"]
        is False
    )
    assert client.get("/api/v1/assistant/verify-official", params={"badge": badge_of("collector")}).json()[
        "official"
    ]
    assert not client.get("/api/v1/assistant/verify-official", params={"badge": badge_of("qa")}).json()[
        "official"
    ]
    assert not client.get("/api/v1/assistant/verify-official", params={"badge": "LD999999"}).json()[
        "official"
    ]
    for query in ("", "phone=1&badge=LD000001", "phone=%ED%A0%80", "badge=a%20b", "phone=" + "9" * 40):
        response = client.get(f"/api/v1/assistant/verify-official?{query}")
        assert response.status_code == 422, query
        assert {"code", "message_zh", "message_en"} <= response.json().keys()


def test_hostile_messages_are_answered_or_refused_cleanly(client: TestClient, chat: Chat) -> None:
    huge = chat("逾期会怎样" + "啊" * 19_000)
    assert huge["intent"] and huge["message_seq"] >= 1
    before = chat("你好")["reply_seq"]
    for text in (
        "怎么还款\\ud800",
        "\\udfff",
        "\\ud800\\udc00\\ud800",
    ):  # unpaired surrogates, as JSON escapes
        raw = f'{{"text": "{text}"}}'
        response = client.post(
            "/api/v1/assistant/messages",
            content=raw,
            headers={"content-type": "application/json", **token_headers(chat.token)},
        )
        assert response.status_code == 422 and response.json()["code"] == "validation_error"
    assert chat("你好")["message_seq"] == before + 1  # nothing half-written
    assert chat("１２３４５６７８９０１２３４５６７８９０１２３４５６７８９")["intent"]
    assert chat("9" * 400)["intent"]
    for body, token in (
        ({"text": "你好"}, "short"),
        ({"text": ""}, new_session_id()),
        ({"text": "x" * 20_001}, new_session_id()),
        ({"text": 12}, new_session_id()),
        ({"text": "你好"}, "a" * 129),
        ({"text": "你好"}, "bad token with spaces and more than 32 characters"),
        ({"text": "你好", "session_id": new_session_id()}, new_session_id()),
        ({"text": "你好", "extra": 1}, new_session_id()),
    ):
        response = client.post("/api/v1/assistant/messages", json=body, headers=token_headers(token))
        assert response.status_code == 422, (body, response.text)
        assert {"code", "message_zh", "message_en"} <= response.json().keys()


def test_messages_are_numbered_and_a_reconnect_reads_what_it_missed(chat: Chat, client: TestClient) -> None:
    first = chat("你好")
    second = chat("怎么还款")
    assert (first["message_seq"], first["reply_seq"], second["message_seq"]) == (1, 2, 3)
    lines = client.get(
        "/api/v1/assistant/messages", params={"after": 2}, headers=token_headers(chat.token)
    ).json()
    assert [(line["seq"], line["author"]) for line in lines["lines"]] == [(3, "borrower"), (4, "bot")]
    unknown = client.get("/api/v1/assistant/messages", headers=token_headers(new_session_id()))
    assert unknown.status_code == 404


def test_a_session_is_rate_limited(chat: Chat, client: TestClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from lenddesk.core.policy import get_policy

    policy = get_policy()
    monkeypatch.setattr(
        "lenddesk.assistant.service.chat.policy",
        lambda: policy.assistant.model_copy(update={"session_messages_per_window": 3}),
    )
    for _ in range(3):
        chat("你好")
    response = client.post(
        "/api/v1/assistant/messages", json={"text": "你好"}, headers=token_headers(chat.token)
    )
    assert response.status_code == 429 and response.json()["code"] == "chat_rate_limited"
    # Another session from the same address still gets through.
    assert chat("你好", session_id=new_session_id())["intent"] == "chitchat"


def test_an_agent_reply_reaches_the_chat_once(chat: Chat, session: Session, clock: Clock) -> None:
    from lenddesk.assistant import service
    from lenddesk.core import audit
    from lenddesk.core.models import User

    number = chat("转人工")["ticket_number"]
    agent = session.scalar(select(User).where(User.username == "agent"))
    assert agent is not None
    seq = service.agent_reply(
        session,
        actor=audit.Actor.of(agent),
        agent_name="李客服",
        public_id=chat.session_id,
        text="您好，我是李客服",
        now=clock.now,
    )
    session.commit()
    # Delivering the outbox again (a worker run) adds nothing.
    deliver_outbox(
        session, adapters={"chat": WebChatDelivery(session_factory(session.get_bind()))}, now=clock.now
    )
    session.commit()
    lines = session.scalars(select(ChatMessage).where(ChatMessage.author == "agent")).all()
    assert [(line.seq, line.text) for line in lines] == [(seq, "您好，我是李客服")]
    assert ticket(session, number).first_response_at is not None
