"""Console pages of the channels room: the public contact form and the admins' channel page."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lenddesk.channels import service
from lenddesk.core.models import AuditEntry
from lenddesk.desk.models import Message, OutboxMessage, Ticket, TicketEvent
from tests.channels.conftest import NOW, configure
from tests.conftest import PASSWORD, carry_csrf
from tests.core.throttle_mixing import contact_posts_with_lookups_between

SignedIn = Callable[[str], TestClient]


@pytest.fixture
def signed_in(app: FastAPI) -> Iterator[SignedIn]:
    clients: list[TestClient] = []

    def open_as(role: str) -> TestClient:
        browser = TestClient(app)
        clients.append(browser)
        response = browser.post("/login", data={"username": role, "password": PASSWORD, "next": "/"})
        assert response.status_code == 200, response.text
        return carry_csrf(browser)

    yield open_as
    for browser in clients:
        browser.close()


def count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


FORM = {
    "phone": "138 1234 5678",
    "email": "",
    "name": "张先生",
    "message": "我的还款失败了，请帮忙看看",
    "website": "",
}


def visitor(app: FastAPI, address: str = "203.0.113.7") -> TestClient:
    return TestClient(app, client=(address, 50000))


# --- /contact ---------------------------------------------------------------------------------------


def test_the_contact_page_is_public_mobile_friendly_and_hides_its_honeypot(app: FastAPI) -> None:
    page = visitor(app).get("/contact")
    assert page.status_code == 200
    assert (
        'name="viewport"' in page.text and 'name="website"' in page.text and 'aria-hidden="true"' in page.text
    )
    assert 'inputmode="tel"' in page.text


def test_a_contact_message_becomes_a_web_form_ticket(app: FastAPI, session: Session, desk_data: dict) -> None:
    answer = visitor(app).post("/contact", data=FORM)
    assert answer.status_code == 200 and 'data-testid="contact-done"' in answer.text
    ticket = session.scalars(select(Ticket)).one()
    assert ticket.channel == "web_form" and ticket.sender == "13812345678"  # normalised
    assert ticket.number in answer.text
    [text] = session.scalars(select(Message.text).where(Message.direction == "in")).all()
    assert text.startswith("我的还款失败了") and "称呼：张先生" in text


def test_a_contact_message_with_only_an_e_mail_address_is_answered_there(
    app: FastAPI, session: Session, desk_data: dict
) -> None:
    answer = visitor(app).post("/contact", data={**FORM, "phone": "", "email": "Li@Example.com"})
    assert answer.status_code == 200
    assert session.scalars(select(Ticket.sender)).one() == "li@example.com"


@pytest.mark.parametrize(
    ("changes", "chinese", "english"),
    [
        ({"message": "   "}, "请填写您要咨询的问题", "Please describe your question"),
        (
            {"phone": "", "email": ""},
            "请留下手机号或邮箱",
            "Please leave a mobile number or an e-mail address",
        ),
        ({"phone": "12345"}, "手机号格式不正确", "The mobile number is not valid"),
        ({"phone": "１３８１２３４５６７８"}, "手机号格式不正确", "The mobile number is not valid"),
        ({"phone": "", "email": "not-an-address"}, "邮箱格式不正确", "The e-mail address is not valid"),
        ({"message": "还款\ud800失败"}, "内容含有无效字符", "The text contains invalid characters"),
    ],
)
def test_contact_form_errors_are_in_chinese_and_english_and_write_nothing(
    app: FastAPI, session: Session, desk_data: dict, changes: dict, chinese: str, english: str
) -> None:
    data = {**FORM, **changes}
    body = "&".join(f"{key}={_percent(value)}" for key, value in data.items())
    answer = visitor(app).post(
        "/contact", content=body.encode(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code == 422
    assert chinese in answer.text and english in answer.text
    assert count(session, Ticket) == 0 and count(session, Message) == 0
    if "\ud800" not in data["message"]:
        assert data["message"].strip() in answer.text  # what was typed is kept for correcting


def _percent(value: str) -> str:
    """Form encoding that also carries an unpaired surrogate (as a hostile client could send it)."""
    return "".join(f"%{byte:02X}" for byte in value.encode("utf-8", "surrogatepass"))


def test_an_overlong_contact_message_is_refused_not_truncated(
    app: FastAPI, session: Session, desk_data: dict
) -> None:
    answer = visitor(app).post("/contact", data={**FORM, "message": "还" * 2001})
    assert 400 <= answer.status_code < 500
    assert count(session, Ticket) == 0


def test_the_honeypot_thanks_the_bot_and_writes_nothing(
    app: FastAPI, session: Session, desk_data: dict
) -> None:
    answer = visitor(app).post("/contact", data={**FORM, "website": "http://spam.example"})
    assert answer.status_code == 200 and "已收到" in answer.text
    assert count(session, Ticket) == 0 and count(session, Message) == 0


def test_the_contact_form_is_rate_limited_per_address(
    app: FastAPI, session: Session, desk_data: dict
) -> None:
    limit = service.channels_policy().contact_form_per_hour
    flooding = visitor(app, "198.51.100.9")
    answers = [
        flooding.post("/contact", data={**FORM, "phone": f"139{n:08d}"}).status_code for n in range(limit + 2)
    ]
    assert answers == [200] * limit + [429, 429]
    refused = flooding.post("/contact", data={**FORM, "phone": "13900009999"})
    assert "提交过于频繁" in refused.text and "Too many messages" in refused.text
    assert count(session, Ticket) == limit
    assert visitor(app, "198.51.100.10").post("/contact", data=FORM).status_code == 200  # another address


def test_look_ups_between_contact_posts_do_not_lift_the_contact_forms_limit(
    app: FastAPI, desk_data: dict
) -> None:
    # The look-ups count in 15-minute windows; they once erased the form's 60-minute counters.
    limit = service.channels_policy().contact_form_per_hour
    assert contact_posts_with_lookups_between(app, limit) == [200] * limit + [429, 429]


# --- /channels --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["agent", "collector", "qa", "compliance"])
def test_the_channels_page_is_refused_to_other_roles(signed_in: SignedIn, role: str) -> None:
    browser = signed_in(role)
    assert browser.get("/channels").status_code == 403
    assert browser.post("/channels/sms/settings", data={"sign_name": "x"}).status_code == 403
    assert browser.post("/channels/dead-letters/1/retry").status_code == 403


def test_signed_out_browsers_are_sent_to_sign_in(client: TestClient) -> None:
    answer = client.get("/channels", follow_redirects=False)
    assert answer.status_code in (302, 303, 307) and "/login" in answer.headers["location"]


def test_admins_see_settings_masked_and_team_leads_see_health_only(
    signed_in: SignedIn, session: Session, desk_data: dict
) -> None:
    configure(session)
    admin_page = signed_in("admin").get("/channels")
    assert admin_page.status_code == 200
    for secret in ("aliyun-access-key-secret", "sms-webhook-secret-123", "wechat-app-secret", "cti-key"):
        assert secret not in admin_page.text
    assert 'data-testid="settings-sms"' in admin_page.text and "已设置（留空不变）" in admin_page.text
    assert "LTAI-test" in admin_page.text  # an access key id is no secret
    lead_page = signed_in("team_lead").get("/channels")
    assert lead_page.status_code == 200 and 'data-testid="channel-health"' in lead_page.text
    assert "settings-sms" not in lead_page.text and "LTAI-test" not in lead_page.text
    assert signed_in("team_lead").post("/channels/sms/settings", data={"sign_name": "x"}).status_code == 403


def test_an_admin_saves_settings_keeping_secrets_left_blank_and_it_is_audited(
    signed_in: SignedIn, session: Session
) -> None:
    configure(session)
    form = {
        "access_key_id": "LTAI-test",  # the same account on the same host (configure's)
        "access_key_secret": "",  # left blank: the stored one stays
        "sign_name": "贷款客服",
        "template_code": "SMS_101",
        "endpoint": "http://127.0.0.1:9",
        "webhook_secret": "******",
    }
    # Another host or account: the stored key secret is not sent there unless typed again.
    for moved in ({"endpoint": "https://dysmsapi.aliyuncs.com"}, {"access_key_id": "LTAI-new"}):
        refused = signed_in("admin").post("/channels/sms/settings", data={**form, **moved})
        assert refused.status_code == 422 and "重新输入" in refused.text
    answer = signed_in("admin").post("/channels/sms/settings", data=form, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/channels?saved=sms"
    session.expire_all()
    stored = service.channel_settings(session, "sms") or {}
    assert stored["access_key_id"] == "LTAI-test" and stored["sign_name"] == "贷款客服"
    assert stored["access_key_secret"] == "aliyun-access-key-secret"
    assert stored["webhook_secret"] == "sms-webhook-secret-123"
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "channel.settings").order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None and "aliyun-access-key-secret" not in str(entry.after) + str(entry.before)
    bad = signed_in("admin").post("/channels/sms/settings", data={**form, "sign_name": ""})
    assert bad.status_code == 422 and "设置不正确" in bad.text


def test_a_team_lead_requeues_a_dead_letter_and_it_is_audited(
    signed_in: SignedIn, session: Session, desk_data: dict
) -> None:
    inbound = service.take_in(
        session,
        channel="sms",
        message_id="sms-up:9",
        sender="13900001111",
        text="你好",
        received_at=NOW,
        now=NOW,
    )
    dead = OutboxMessage(
        ticket_id=inbound.ticket_id,
        channel="sms",
        recipient="13900001111",
        kind="reply",
        body="您好",
        created_at=NOW,
        status="dead",
        attempts=8,
        last_error="isp.SYSTEM_ERROR",
    )
    session.add(dead)
    session.commit()
    lead = signed_in("team_lead")
    page = lead.get("/channels")
    assert 'data-testid="dead-letters"' in page.text and "isp.SYSTEM_ERROR" in page.text
    answer = lead.post(f"/channels/dead-letters/{dead.id}/retry", follow_redirects=False)
    assert answer.status_code == 303
    session.expire_all()
    row = session.get(OutboxMessage, dead.id)
    assert row is not None and row.status == "queued" and row.attempts == 0
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "outbox.requeue")).one()
    assert entry.actor_name == "team_lead"
    assert session.scalars(select(TicketEvent.body).where(TicketEvent.kind == "delivery")).all() == [
        "重新投递（死信重排）"
    ]
    again = lead.post(f"/channels/dead-letters/{dead.id}/retry", follow_redirects=False)
    assert again.status_code == 303 and count(session, AuditEntry) >= 1
    assert len(session.scalars(select(AuditEntry).where(AuditEntry.action == "outbox.requeue")).all()) == 1
    for hostile in ("0", str(2**64), "-1"):
        assert lead.post(f"/channels/dead-letters/{hostile}/retry", follow_redirects=False).status_code < 500
