"""A TD to a marketing message ends marketing only; reminders wait for the borrower's window;
revisits after an agreement, a resolved complaint or a low CSAT, tracked to done."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from lenddesk.care.service import revisits
from lenddesk.channels import service as channels
from lenddesk.collections.models import Contact
from lenddesk.collections.service import release_due
from lenddesk.core.db import session_factory
from lenddesk.core.models import User
from lenddesk.desk import service as desk
from lenddesk.ledger.models import Borrower
from lenddesk.negotiation import service as negotiation
from tests.care.conftest import CAMPAIGNS, NOW, Clock, consent, preview

Headers = Callable[[str], dict[str, str]]


def _mobile(engine: Engine, borrower_id: int) -> str:
    with session_factory(engine)() as session:
        borrower = session.get(Borrower, borrower_id)
        assert borrower is not None
        return borrower.mobile


def _reply_td(engine: Engine, mobile: str) -> None:
    with session_factory(engine)() as session:
        channels.record_sms_opt_out(session, phone=mobile, now=NOW)
        session.commit()


def test_td_to_a_marketing_sms_ends_marketing_only_and_reminders_continue(
    client: TestClient, as_role: Headers, clock: Clock, borrowers: list[int], approved, engine: Engine
) -> None:
    lead = as_role("team_lead")
    first = borrowers[0]
    consent(client, lead, first)
    consent(client, lead, first, purpose="education")
    greeting = approved([first])
    assert client.post(f"{CAMPAIGNS}/{greeting}/launch", headers=lead).json()["queued"] == 1
    mobile = _mobile(engine, first)
    _reply_td(engine, mobile)  # the last SMS it got was the greeting
    with session_factory(engine)() as session:
        assert desk.opted_out_channels(session, borrower_id=first) == set()  # reminders still go
        assert desk.opted_out_channels(session, borrower_id=first, scopes=("all", "marketing")) == {"sms"}
    another = approved([first], name="春节")
    assert preview(client, lead, another)["excluded"] == {"opted_out": 1}
    lesson = approved([first], kind="education", text="反诈提示：我们不会索要验证码。")
    assert preview(client, lead, lesson)["eligible"] == 1  # education is not marketing


def test_td_to_a_reminder_stops_every_sms(engine: Engine, borrowers: list[int]) -> None:
    mobile = _mobile(engine, borrowers[1])
    with session_factory(engine)() as session:
        desk.queue_outbound(
            session, body="您的借款明日到期", kind="notice", channel="sms", recipient=mobile, now=NOW
        )
        session.commit()
    _reply_td(engine, mobile)
    with session_factory(engine)() as session:
        assert desk.opted_out_channels(session, borrower_id=borrowers[1]) == {"sms"}


def _scheduled_reminder(engine: Engine, borrower_id: int) -> int:
    with session_factory(engine)() as session:
        contact = Contact(
            borrower_id=borrower_id,
            recipient="self",
            channel="sms",
            source="plan",
            status="scheduled",
            text="",
            codes=[],
            violations=[],
            amount_fen=100_00,
            due_on=date(2026, 12, 5),
            local_date=date(2026, 12, 1),
            actor_name="system:collections-plan",
            created_at=NOW,
        )
        session.add(contact)
        session.commit()
        return contact.id


def test_a_reminder_waits_for_the_borrowers_window_to_open(
    client: TestClient, as_role: Headers, clock: Clock, borrowers: list[int], engine: Engine
) -> None:
    body = {
        "channel": "sms",
        "contact_window": {"start": "14:00", "end": "18:00"},
        "topics": [],
        "personalised": False,
    }
    assert client.put(
        f"/api/v1/care/borrowers/{borrowers[0]}/preferences", json=body, headers=as_role("team_lead")
    )
    waiting = _scheduled_reminder(engine, borrowers[0])
    other = _scheduled_reminder(engine, borrowers[1])  # no window chosen
    with session_factory(engine)() as session:
        release_due(session, now=NOW)  # 10:00
        session.commit()
        statuses = dict(session.execute(select(Contact.id, Contact.status)).all())
    assert statuses[waiting] == "scheduled" and statuses[other] == "sent"
    with session_factory(engine)() as session:
        release_due(session, now=NOW + timedelta(hours=4))  # 14:00: the window opens
        session.commit()
        assert session.get(Contact, waiting).status == "sent"  # type: ignore[union-attr]


def test_an_agreement_puts_a_revisit_on_its_owners_list_until_done(
    client: TestClient, as_role: Headers, clock: Clock, borrowers: list[int], engine: Engine
) -> None:
    with session_factory(engine)() as session:
        agent_id = session.scalar(select(User.id).where(User.username == "agent"))
        made = negotiation.AgreementMade(7, "XY-2026-0007", borrowers[0], agent_id, None)
        revisits.revisit_after_agreement(session, made, NOW)
        revisits.revisit_after_agreement(session, made, NOW)  # a replayed hook: still one
        session.commit()
    mine = client.get("/api/v1/care/revisits", headers=as_role("agent")).json()
    assert [(r["source"], r["source_ref"], r["status"]) for r in mine] == [
        ("hardship", "XY-2026-0007", "open")
    ]
    assert client.get("/api/v1/care/revisits", headers=as_role("collector")).json() == []
    url = f"/api/v1/care/revisits/{mine[0]['id']}/done"
    assert client.post(url, json={"outcome": "ok"}, headers=as_role("collector")).status_code == 403
    assert client.post(url, json={"outcome": ""}, headers=as_role("agent")).status_code == 422
    done = client.post(url, json={"outcome": "客户按新计划还款，无其他诉求"}, headers=as_role("agent"))
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert client.post(url, json={"outcome": "again"}, headers=as_role("agent")).status_code == 409
    assert client.get("/api/v1/care/revisits", headers=as_role("agent")).json() == []
