"""The protocols against their published test vectors, and hostile inputs to the parsers."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lenddesk.channels import mail, signing, sms, wechat
from lenddesk.channels.hours import ChannelHours, is_open, next_opening
from lenddesk.core.calendar import WorkCalendar
from lenddesk.desk.service.outbox import RetryPolicy, backoff_seconds
from tests.channels.conftest import WECHAT_AES_KEY, WECHAT_APP_ID, WECHAT_TOKEN

# WeChat's WXBizMsgCrypt sample: a message encrypted for wx5823bf96d3bd56c7 and its msg_signature.
VECTOR_SIGNATURE = "477715d11cdb4164915debcba66cb864d751f3e6"
VECTOR_TIMESTAMP, VECTOR_NONCE = "1409659813", "1372623149"
VECTOR_CIPHERTEXT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJ"
    "Ts3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2"
    "hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4E"
    "hzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2Yo"
    "yyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
)


def test_wechat_published_vector_signature_and_decryption() -> None:
    assert signing.wechat_signature_valid(
        VECTOR_SIGNATURE, WECHAT_TOKEN, VECTOR_TIMESTAMP, VECTOR_NONCE, VECTOR_CIPHERTEXT
    )
    crypt = wechat.MessageCrypt(WECHAT_TOKEN, WECHAT_AES_KEY, WECHAT_APP_ID)
    message = wechat.parse_message(wechat.parse_xml(crypt.decrypt(VECTOR_CIPHERTEXT).encode()))
    assert message.to_user == WECHAT_APP_ID
    assert message.msg_type == "text" and message.content and message.msg_id


def test_wechat_ciphertext_for_another_app_or_tampered_is_refused() -> None:
    other = wechat.MessageCrypt(WECHAT_TOKEN, WECHAT_AES_KEY, "wx-other-app")
    with pytest.raises(wechat.WeChatProtocolError):
        other.decrypt(VECTOR_CIPHERTEXT)
    crypt = wechat.MessageCrypt(WECHAT_TOKEN, WECHAT_AES_KEY, WECHAT_APP_ID)
    for bad in ("not base64!!", "AAAA", VECTOR_CIPHERTEXT[:-8] + "AAAAAAA="):
        with pytest.raises(wechat.WeChatProtocolError):
            crypt.decrypt(bad)


@given(st.text(max_size=300))
def test_wechat_encryption_round_trips_any_text(text: str) -> None:
    crypt = wechat.MessageCrypt(WECHAT_TOKEN, WECHAT_AES_KEY, WECHAT_APP_ID)
    encodable = text.encode("utf-8", "replace").decode("utf-8")
    assert crypt.decrypt(crypt.encrypt(encodable)) == encodable


@pytest.mark.parametrize(
    "raw",
    [
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        b"<xml><Content>&lol2;</Content></xml>",
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Content>&e;</Content></xml>',
        b"<xml><unclosed></xml>",
        b"\xff\xfe not xml",
        b"",
    ],
)
def test_xml_bombs_external_entities_and_garbage_are_refused(raw: bytes) -> None:
    with pytest.raises(wechat.WeChatProtocolError):
        wechat.parse_message(wechat.parse_xml(raw))


def test_voice_location_and_menu_click_become_text() -> None:
    def parsed(body: str) -> wechat.WeChatMessage:
        head = "<ToUserName>gh</ToUserName><FromUserName>oU1</FromUserName><CreateTime>1</CreateTime>"
        xml = f"<xml>{head}{body}</xml>"
        return wechat.parse_message(wechat.parse_xml(xml.encode()))

    voice = parsed("<MsgType>voice</MsgType><MsgId>7</MsgId><Recognition>我想提前还款</Recognition>")
    assert voice.as_text() == "[语音] 我想提前还款"
    place = parsed(
        "<MsgType>location</MsgType><MsgId>8</MsgId><Location_X>31.2</Location_X><Location_Y>121.4</Location_Y><Label>上海</Label>"
    )
    assert place.as_text() == "[位置] 上海 (31.2,121.4)"
    click = parsed("<MsgType>event</MsgType><Event>CLICK</Event><EventKey>HUMAN_AGENT</EventKey>")
    assert click.as_text() == "[菜单] HUMAN_AGENT" and click.dedupe_id == "event:oU1:1:CLICK"
    assert parsed("<MsgType>event</MsgType><Event>subscribe</Event>").as_text() is None


def test_aliyun_rpc_signature_matches_the_documented_example() -> None:
    parameters = {
        "Timestamp": "2016-02-23T12:46:24Z",
        "Format": "XML",
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "Version": "2014-05-26",
        "SignatureVersion": "1.0",
    }
    assert sms.rpc_signature("GET", parameters, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
    assert sms.percent_encode("a b*c~d") == "a%20b%2Ac~d"


def test_sms_pushes_refuse_malformed_items() -> None:
    for payload in (
        {"not": "a list"},
        [1, 2],
        [{"phone_number": "138", "success": "yes"}],
        [{"content": "x"}],
    ):
        with pytest.raises(sms.SmsPushError):
            sms.parse_receipts(payload) if isinstance(payload, dict) or "content" not in str(
                payload
            ) else sms.parse_replies(payload)
    assert sms.outbox_id_of("lenddesk-42") == 42 and sms.outbox_id_of("lenddesk-42-3") == 42
    assert sms.outbox_id_of("lenddesk-" + "9" * 30) is None and sms.outbox_id_of("other") is None


def test_body_signature_checks_the_secret_the_body_and_the_window() -> None:
    now = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    stamp = str(int(now.timestamp()))
    good = signing.sign_body("s3cret", stamp, b"{}")
    assert signing.body_signature_valid("s3cret", stamp, b"{}", good, now=now, window_seconds=300)
    assert not signing.body_signature_valid("s3cret", stamp, b"{ }", good, now=now, window_seconds=300)
    assert not signing.body_signature_valid("other", stamp, b"{}", good, now=now, window_seconds=300)
    old = str(int(now.timestamp()) - 301)
    replayed = signing.sign_body("s3cret", old, b"{}")
    assert not signing.body_signature_valid("s3cret", old, b"{}", replayed, now=now, window_seconds=300)
    for junk in ("", "abc", "9" * 40, "１２３"):
        assert not signing.timestamp_fresh(junk, now=now, window_seconds=300)


@given(st.integers(min_value=1, max_value=60), st.integers(min_value=0, max_value=2**32))
def test_backoff_grows_stays_under_the_cap_and_jitters_within_half_a_step(attempt: int, seed: int) -> None:
    policy = RetryPolicy(base_seconds=30, cap_seconds=3600)
    step = min(3600, 30 * 2 ** (attempt - 1))
    delay = backoff_seconds(attempt, policy, random.Random(seed))
    assert step / 2 <= delay <= step <= 3600


GBK_MAIL = (
    b"From: =?GBK?B?1cXOsA==?= <ZhangWei@Example.com>\r\n"
    b"Subject: =?GB2312?B?u9i4tLmk taXF?= [T20261124-000001]\r\n"
    b"Message-ID: <abc@example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: text/plain; charset="gb2312"\r\n'
    b"Content-Transfer-Encoding: 8bit\r\n\r\n"
) + "请问我这个月还多少钱？镕".encode("gbk")


def test_gb2312_labelled_gbk_mail_is_read_and_threads_by_subject() -> None:
    parsed = mail.parse_mail(GBK_MAIL)
    assert parsed.sender == "zhangwei@example.com"
    assert parsed.text == "请问我这个月还多少钱？镕"  # 镕 is GBK, not GB2312
    assert parsed.ticket_number() == "T20261124-000001" and parsed.automatic is None


def test_html_only_mail_and_attachments_by_size_and_type() -> None:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["Subject"] = "a@example.com", "hi"
    message.set_content("<p>还款<b>失败</b></p><script>x()</script>", subtype="html")
    message.add_attachment(b"%PDF-1.4 ok", maintype="application", subtype="pdf", filename="回单.pdf")
    message.add_attachment(b"MZ" * 10, maintype="application", subtype="x-msdownload", filename="a.exe")
    message.add_attachment(b"x" * 2048, maintype="image", subtype="png", filename="big.png")
    parsed = mail.parse_mail(bytes(message), mail.AttachmentRules(max_bytes=1024))
    assert parsed.text == "还款失败"
    assert [a.filename for a in parsed.attachments] == ["回单.pdf"]
    assert len(parsed.refused_attachments) == 2


@pytest.mark.parametrize(
    "headers",
    [
        "Auto-Submitted: auto-replied\r\n",
        "Precedence: bulk\r\n",
        "X-Autoreply: yes\r\n",
        "Return-Path: <>\r\n",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n',
    ],
)
def test_auto_replies_and_bounces_are_recognised(headers: str) -> None:
    raw = f"From: someone@example.com\r\nSubject: Out of office\r\n{headers}\r\nbody".encode()
    assert mail.parse_mail(raw).automatic is not None
    daemon = b"From: MAILER-DAEMON@example.com\r\nSubject: Undelivered\r\n\r\nx"
    assert mail.parse_mail(daemon).automatic is not None


def test_a_bounce_names_our_outbound_message() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example.com\r\nSubject: Undelivered\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n"
        b"--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        b"Message-ID: <lenddesk.77.T20261124-000003@desk.example.com>\r\n--b--\r\n"
    )
    parsed = mail.parse_mail(raw)
    assert parsed.automatic and parsed.bounced_outbox_id == 77


def test_service_hours_and_the_next_opening_on_the_china_calendar() -> None:
    calendar = WorkCalendar()
    office = ChannelHours.parse("09:00", "18:00")
    holiday_eve = datetime(2026, 9, 30, 12, 0, tzinfo=UTC)  # 20:00 Shanghai, the eve of 国庆
    assert not is_open(holiday_eve, office, calendar)
    opening = next_opening(holiday_eve, office, calendar)
    assert opening == datetime(2026, 10, 8, 1, 0, tzinfo=UTC)  # 09:00 on the first workday after 国庆
    every_day = ChannelHours.parse("09:00", "21:00", every_day=True)
    assert is_open(holiday_eve, every_day, calendar)  # 20:00: still open until 21:00
    late = datetime(2026, 9, 30, 14, 0, tzinfo=UTC)  # 22:00 Shanghai
    assert next_opening(late, every_day, calendar) == datetime(2026, 10, 1, 1, 0, tzinfo=UTC)
