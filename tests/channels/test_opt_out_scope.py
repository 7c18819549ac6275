"""An SMS TD answering a marketing message opts the number out of marketing only (reminders still go);
a TD answering anything else opts it out of every SMS (docs/CARE.md "Opt-out scope")."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.desk import service as desk
from lenddesk.desk.models import OptOut
from tests.channels.conftest import NOW, SMS_SECRET, Clock, StandIn
from tests.channels.test_webhooks import post_signed


def test_td_scope_follows_the_message_it_answers(
    client: TestClient, session: Session, configured: StandIn, clock: Clock
) -> None:
    desk.queue_outbound(
        session,
        body="新春快乐【乐贷】回复TD退订",
        kind="marketing",
        channel="sms",
        recipient="13900004444",
        now=NOW,
    )
    desk.queue_outbound(
        session, body="您的借款明日到期", kind="notice", channel="sms", recipient="13900005555", now=NOW
    )
    session.commit()
    replies = [
        {"phone_number": "13900004444", "content": "TD", "sequence_id": 11},
        {"phone_number": "13900005555", "content": "退订", "sequence_id": 12},
    ]
    assert post_signed(client, "/api/v1/channels/sms/inbound", replies, SMS_SECRET).status_code == 200
    session.expire_all()
    scopes = dict(session.execute(select(OptOut.address, OptOut.scope)).all())
    assert scopes == {"13900004444": "marketing", "13900005555": "all"}
    assert desk.opted_out_channels(session, borrower_id=0, addresses=("13900004444",)) == set()
    assert desk.opted_out_channels(session, borrower_id=0, addresses=("13900005555",)) == {"sms"}
