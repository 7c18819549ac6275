"""The providers' webhooks end to end: signature first, then the desk's intake; 401/413 write nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.channels import service, signing, wechat
from lenddesk.channels.models import ChannelCall
from lenddesk.desk.models import Message, OptOut, OutboxMessage, Ticket, TicketEvent
from tests.channels.conftest import (
    CTI_SECRET,
    NOW,
    SMS_SECRET,
    WECHAT_AES_KEY,
    WECHAT_APP_ID,
    WECHAT_TOKEN,
    Clock,
    StandIn,
    plain_mode,
    signed,
)


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def post_signed(client: TestClient, path: str, payload: object, secret: str, at: datetime = NOW):  # type: ignore[no-untyped-def]
    body = json.dumps(payload, ensure_ascii=False).encode()
    return client.post(path, content=body, headers=signed(body, secret, at))


def test_sms_reply_opens_a_ticket_and_td_opts_out(
    client: TestClient, session: Session, configured: StandIn, clock: Clock
) -> None:
    replies = [
        {"phone_number": "13900001111", "content": "我的还款怎么失败了", "sequence_id": 1, "send_time": "x"},
        {"phone_number": "+86 139 0000 2222", "content": "退订", "sequence_id": 2},
        {"phone_number": "13900003333", "content": "ＴＤ", "sequence_id": 3},
    ]
    answer = post_signed(client, "/api/v1/channels/sms/inbound", replies, SMS_SECRET)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accepted": 1, "ignored": 2}
    ticket = session.scalar(select(Ticket).where(Ticket.channel == "sms"))
    assert ticket is not None and ticket.sender == "13900001111"
    assert sorted(session.scalars(select(OptOut.address))) == ["13900002222", "13900003333"]
    again = post_signed(client, "/api/v1/channels/sms/inbound", replies, SMS_SECRET)  # the provider retries
    assert again.status_code == 200 and _count(session, Message) == 1 and _count(session, OptOut) == 2


def test_bad_signature_stale_timestamp_and_huge_body_write_nothing(
    client: TestClient, session: Session, configured: StandIn, clock: Clock
) -> None:
    payload = [{"phone_number": "13900001111", "content": "你好", "sequence_id": 9}]
    body = json.dumps(payload).encode()
    forged = signed(body, "not-the-secret")
    assert client.post("/api/v1/channels/sms/inbound", content=body, headers=forged).status_code == 401
    stale = signed(body, SMS_SECRET, NOW - timedelta(minutes=6))
    answer = client.post("/api/v1/channels/sms/inbound", content=body, headers=stale)
    assert answer.status_code == 401 and answer.json()["code"] == "bad_signature"
    tampered = signed(body, SMS_SECRET)
    assert (
        client.post("/api/v1/channels/sms/inbound", content=body + b" ", headers=tampered).status_code == 401
    )
    huge = b"[" + b'{"a":1},' * 40_000 + b"{}]"
    answer = client.post("/api/v1/channels/sms/inbound", content=huge, headers=signed(huge, SMS_SECRET))
    assert answer.status_code == 413 and answer.json()["code"] == "payload_too_large"
    no_headers = client.post("/api/v1/channels/cti/events", content=b"{}")
    assert no_headers.status_code == 422
    assert _count(session, Ticket) == 0 and _count(session, Message) == 0


def test_hostile_bodies_are_4xx_not_500(
    client: TestClient, session: Session, configured: StandIn, clock: Clock
) -> None:
    for body in (
        b"\xff\xfe{",
        b'[{"phone_number": "139", "content": "\\ud800", "sequence_id": 1}]',
        b'{"phone_number": 1}',
        json.dumps([{"phone_number": "1" * 99, "content": "x", "sequence_id": 1}]).encode(),
        "不是 JSON".encode("gbk"),
    ):
        answer = client.post("/api/v1/channels/sms/inbound", content=body, headers=signed(body, SMS_SECRET))
        assert 400 <= answer.status_code < 500, (body, answer.status_code, answer.text)
    assert _count(session, Ticket) == 0


def test_sms_receipt_marks_the_outbox_message_delivered_on_the_timeline(
    client: TestClient, session: Session, configured: StandIn, clock: Clock
) -> None:
    post_signed(
        client,
        "/api/v1/channels/sms/inbound",
        [{"phone_number": "13900001111", "content": "在吗", "sequence_id": 5}],
        SMS_SECRET,
    )
    ticket = session.scalar(select(Ticket))
    assert ticket is not None
    outbox = OutboxMessage(
        ticket_id=ticket.id,
        channel="sms",
        recipient="13900001111",
        kind="reply",
        body="在的",
        status="sent",
        created_at=NOW,
        provider_message_id="900619746936498440^0",
    )
    session.add(outbox)
    session.commit()
    receipts = [
        {
            "phone_number": "13900001111",
            "success": True,
            "err_code": "DELIVERED",
            "biz_id": "x",
            "out_id": f"lenddesk-{outbox.id}",
            "report_time": "2026-11-24 10:00:05",
        }
    ]
    answer = post_signed(client, "/api/v1/channels/sms/receipts", receipts, SMS_SECRET)
    assert answer.json() == {"accepted": 1, "ignored": 0}
    session.refresh(outbox)
    assert outbox.status == "delivered"
    line = session.scalars(select(TicketEvent).where(TicketEvent.kind == "delivery")).one()
    assert line.data["receipt"] and line.data["delivery"] == "delivered"
    unknown = [{**receipts[0], "out_id": "lenddesk-999999", "biz_id": "nope"}]
    assert post_signed(client, "/api/v1/channels/sms/receipts", unknown, SMS_SECRET).json() == {
        "accepted": 0,
        "ignored": 1,
    }


def test_a_call_becomes_a_ticket_with_its_recording_and_transcript(
    client: TestClient, session: Session, configured: StandIn, clock: Clock
) -> None:
    clock.now = NOW + timedelta(minutes=2)  # event times after now are clamped to now
    base = {"call_id": "c-1", "caller": "13812345678"}
    events = [
        {**base, "event_id": "e1", "event": "ringing"},
        {**base, "event_id": "e2", "event": "answered", "agent": "agent", "at": NOW.isoformat()},
        {**base, "event_id": "e3", "event": "ended", "at": (NOW + timedelta(seconds=95)).isoformat()},
        {**base, "event_id": "e4", "event": "recording", "recording_url": "https://cti.example/rec/c-1.mp3"},
        {**base, "event_id": "e5", "event": "transcript", "transcript": "客户：我想申请延期还款。"},
        {
            **base,
            "event_id": "e5",
            "event": "transcript",
            "transcript": "客户：我想申请延期还款。",
        },  # retried
    ]
    numbers = {
        post_signed(client, "/api/v1/channels/cti/events", e, CTI_SECRET).json()["ticket_number"]
        for e in events
    }
    assert len(numbers) == 1
    ticket = session.scalar(select(Ticket).where(Ticket.channel == "phone"))
    assert ticket is not None and ticket.number in numbers and ticket.sender == "13812345678"
    calls = [
        e.body
        for e in session.scalars(
            select(TicketEvent).where(TicketEvent.kind == "call").order_by(TicketEvent.id)
        )
    ]
    assert calls == [
        "通话已接通（坐席 agent）",
        "通话结束，通话 95 秒",
        "通话录音：https://cti.example/rec/c-1.mp3",
        "通话转写：客户：我想申请延期还款。",
    ]
    assert session.scalar(select(ChannelCall.state)) == "ended"


def _wechat_query(now: datetime, *extra: str, nonce: str = "1372623149") -> dict[str, str]:
    timestamp = str(int(now.timestamp()))
    return {
        "timestamp": timestamp,
        "nonce": nonce,
        "signature": signing.wechat_signature(WECHAT_TOKEN, timestamp, nonce),
    }


def _text_xml(openid: str, msg_id: str, content: str, created: datetime = NOW) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_lenddesk]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(created.timestamp())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def test_wechat_handshake_echoes_only_with_the_right_signature(
    client: TestClient, configured: StandIn, clock: Clock
) -> None:
    query = {**_wechat_query(NOW), "echostr": "5837397520665436492"}
    answer = client.get("/api/v1/channels/wechat", params=query)
    assert answer.status_code == 200 and answer.text == "5837397520665436492"
    assert client.get("/api/v1/channels/wechat", params={**query, "signature": "0" * 40}).status_code == 401
    old = {**_wechat_query(NOW - timedelta(hours=1)), "echostr": "1"}
    assert client.get("/api/v1/channels/wechat", params=old).status_code == 401


def test_wechat_plain_text_in_hours_joins_the_desk_and_answers_success(
    client: TestClient, session: Session, configured: StandIn, clock: Clock, borrower
) -> None:
    plain_mode(session)
    xml = _text_xml("oWX-zhangwei", "10001", "我的還款日是哪天？")
    answer = client.post("/api/v1/channels/wechat", params=_wechat_query(NOW), content=xml.encode())
    assert answer.status_code == 200 and answer.text == "success"
    ticket = session.scalar(select(Ticket).where(Ticket.channel == "wechat"))
    assert ticket is not None and ticket.candidate_borrower_id == borrower.id  # matched by openid
    assert ticket.borrower_id is None  # a candidate only: linked by verification
    bad = client.post(
        "/api/v1/channels/wechat", params={**_wechat_query(NOW), "signature": "f" * 40}, content=xml.encode()
    )
    assert bad.status_code == 401
    garbage = client.post(
        "/api/v1/channels/wechat", params=_wechat_query(NOW, nonce="2"), content=b"<xml><a></xml>"
    )
    assert garbage.status_code == 400


def test_wechat_in_safe_mode_refuses_plaintext_whatever_the_request_says(
    client: TestClient, session: Session, configured: StandIn, clock: Clock
) -> None:
    xml = _text_xml("oPlain", "10009", "你好").encode()
    for extra in ({}, {"encrypt_type": "raw"}):
        answer = client.post("/api/v1/channels/wechat", params={**_wechat_query(NOW), **extra}, content=xml)
        assert answer.status_code == 400 and answer.json()["code"] == "wechat_plaintext_refused"
        assert answer.json()["message_zh"] and answer.json()["message_en"]
    assert _count(session, Ticket) == 0


def test_wechat_refuses_a_reused_nonce_within_the_window(
    client: TestClient, session: Session, configured: StandIn, clock: Clock
) -> None:
    crypt = wechat.MessageCrypt(WECHAT_TOKEN, WECHAT_AES_KEY, WECHAT_APP_ID)

    def send(msg_id: str, nonce: str) -> Any:
        ciphertext = crypt.encrypt(_text_xml("oReplay", msg_id, "我的还款日是哪天"))
        query = _wechat_query(NOW, nonce=nonce)
        query.update(
            encrypt_type="aes",
            msg_signature=signing.wechat_signature(WECHAT_TOKEN, query["timestamp"], nonce, ciphertext),
        )
        body = f"<xml><Encrypt><![CDATA[{ciphertext}]]></Encrypt></xml>"
        return client.post("/api/v1/channels/wechat", params=query, content=body.encode())

    assert send("30001", "777").status_code == 200
    clock.now = NOW + timedelta(minutes=4)  # still within the signature's window
    replay = send("30002", "777")  # the nonce again, with another message
    assert replay.status_code == 409 and replay.json()["code"] == "wechat_nonce_reused"
    assert send("30003", "778").status_code == 200
    inbound = session.scalar(select(func.count(Message.id)).where(Message.direction == "in"))
    assert _count(session, Ticket) == 1 and inbound == 2


def test_wechat_safe_mode_at_night_gets_an_encrypted_passive_notice_once(
    client: TestClient, session: Session, configured: StandIn, clock: Clock
) -> None:
    night = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 23:00 Shanghai: the WeChat desk opens 09:00
    clock.now = night
    crypt = wechat.MessageCrypt(WECHAT_TOKEN, WECHAT_AES_KEY, WECHAT_APP_ID)

    def send(msg_id: str) -> str:
        ciphertext = crypt.encrypt(_text_xml("oNight", msg_id, "逾期了怎么办", night))
        query = _wechat_query(night, nonce=msg_id)
        query.update(
            encrypt_type="aes",
            msg_signature=signing.wechat_signature(WECHAT_TOKEN, query["timestamp"], msg_id, ciphertext),
        )
        to = f"<ToUserName><![CDATA[{WECHAT_APP_ID}]]></ToUserName>"
        body = f"<xml>{to}<Encrypt><![CDATA[{ciphertext}]]></Encrypt></xml>"
        answer = client.post("/api/v1/channels/wechat", params=query, content=body.encode())
        assert answer.status_code == 200, answer.text
        return answer.text

    first = send("20001")
    root = wechat.parse_xml(first.encode())
    assert signing.wechat_signature_valid(
        root.findtext("MsgSignature") or "",
        WECHAT_TOKEN,
        root.findtext("TimeStamp") or "",
        root.findtext("Nonce") or "",
        root.findtext("Encrypt") or "",
    )
    reply = wechat.parse_message(wechat.parse_xml(crypt.decrypt(root.findtext("Encrypt") or "").encode()))
    assert (
        reply.to_user == "oNight" and reply.from_user == "gh_lenddesk" and "11月25日 09:00" in reply.content
    )
    assert send("20002") == "success"  # the same closed period: no second notice
    notice = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "auto_reply")).one()
    assert notice.status == "delivered"  # answered passively, nothing left for the worker
    ticket = session.scalar(select(Ticket).where(Ticket.channel == "wechat"))
    assert ticket is not None and ticket.first_response_due > datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


def test_wechat_unsubscribe_records_an_opt_out(
    client: TestClient, session: Session, configured: StandIn, clock: Clock
) -> None:
    plain_mode(session)
    xml = (
        "<xml><ToUserName>gh</ToUserName><FromUserName>oBye</FromUserName>"
        f"<CreateTime>{int(NOW.timestamp())}</CreateTime><MsgType>event</MsgType><Event>unsubscribe</Event></xml>"
    )
    assert (
        client.post("/api/v1/channels/wechat", params=_wechat_query(NOW), content=xml.encode()).text
        == "success"
    )
    assert session.scalar(select(OptOut.source).where(OptOut.address == "oBye")) == "wechat_unsubscribe"
    assert _count(session, Ticket) == 0


def test_pointing_a_channel_at_another_host_or_account_needs_its_secret_typed_again(
    client: TestClient, session: Session, as_role
) -> None:
    """The stored secret goes only where it was entered for: a new host must not receive it."""
    from lenddesk.channels import service

    admin = as_role("admin")
    values = {
        "access_key_id": "LTAI",
        "access_key_secret": "very-secret-value",
        "sign_name": "贷",
        "template_code": "S1",
        "webhook_secret": "hook-secret",
        "endpoint": "https://dysmsapi.aliyuncs.com",
    }
    assert client.put("/api/v1/channels/sms/settings", json=values, headers=admin).status_code == 200
    for changed in ({"endpoint": "https://sms.attacker.example"}, {"access_key_id": "LTAI-other"}):
        moved = {**values, **changed, "access_key_secret": "******"}
        refused = client.put("/api/v1/channels/sms/settings", json=moved, headers=admin)
        assert refused.status_code == 422 and refused.json()["code"] == "secret_reentry_required"
        left_out = {k: v for k, v in moved.items() if k != "access_key_secret"}
        assert client.put("/api/v1/channels/sms/settings", json=left_out, headers=admin).status_code == 422
        session.expire_all()
        stored = service.channel_settings(session, "sms") or {}
        assert (stored["endpoint"], stored["access_key_id"]) == (values["endpoint"], "LTAI")  # unchanged
    retyped = {**values, "endpoint": "https://sms.new-provider.example", "access_key_secret": "new-secret"}
    assert client.put("/api/v1/channels/sms/settings", json=retyped, headers=admin).status_code == 200
    session.expire_all()
    stored = service.channel_settings(session, "sms") or {}
    assert stored["access_key_secret"] == "new-secret" and stored["webhook_secret"] == "hook-secret"


def test_a_mail_password_left_blank_is_cleared_when_the_smtp_host_changes(session: Session) -> None:
    from lenddesk.channels import service
    from lenddesk.core import audit

    admin = audit.Actor.system("tests")
    mail = {"from_address": "kefu@lenddesk.example", "smtp_host": "smtp.lenddesk.example", "smtp_port": 465}
    service.save_settings(
        session, channel="email", values={**mail, "smtp_password": "mail-pw"}, actor=admin, now=NOW
    )
    kept = {**mail, "smtp_password": service.MASK}  # the console sends the field back masked
    service.save_settings(session, channel="email", values=kept, actor=admin, now=NOW)
    assert (service.channel_settings(session, "email") or {})["smtp_password"] == "mail-pw"
    moved = {**mail, "smtp_host": "smtp.elsewhere.example", "smtp_password": ""}
    service.save_settings(session, channel="email", values=moved, actor=admin, now=NOW)
    assert (service.channel_settings(session, "email") or {})["smtp_password"] == ""


def test_settings_are_sealed_at_rest_and_answered_masked(
    client: TestClient, session: Session, as_role
) -> None:
    values = {
        "access_key_id": "LTAI",
        "access_key_secret": "very-secret-value",
        "sign_name": "贷",
        "template_code": "S1",
        "webhook_secret": "hook-secret",
    }
    answer = client.put("/api/v1/channels/sms/settings", json=values, headers=as_role("admin"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["settings"]["access_key_secret"] == "******"
    from lenddesk.channels.models import ChannelSetting

    sealed = session.scalar(select(ChannelSetting.sealed))
    assert sealed and "very-secret-value" not in sealed and "hook-secret" not in sealed
    kept = client.put(
        "/api/v1/channels/sms/settings",
        json={**values, "access_key_secret": "******", "sign_name": "新"},
        headers=as_role("admin"),
    )
    assert kept.status_code == 200

    session.expire_all()
    assert service.channel_settings(session, "sms")["access_key_secret"] == "very-secret-value"
    assert (
        client.put("/api/v1/channels/sms/settings", json=values, headers=as_role("team_lead")).status_code
        == 403
    )
    assert (
        client.put(
            "/api/v1/channels/sms/settings", json={"sign_name": "x"}, headers=as_role("admin")
        ).status_code
        == 422
    )
    assert (
        client.put("/api/v1/channels/fax/settings", json=values, headers=as_role("admin")).status_code == 422
    )
