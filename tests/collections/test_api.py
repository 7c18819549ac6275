"""The collections API: the what-if check, contacts sent or blocked (and recorded), outcomes,
scripts, the worklist and the report — with hostile inputs answered by 4xx, never a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text

from lenddesk.collections.models import Account, Contact, Hold, Outcome, Script
from lenddesk.core import audit
from lenddesk.core.models import AuditEntry
from lenddesk.desk.models import OutboxMessage, Ticket
from lenddesk.desk.service import intake, record_opt_out
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.models import Borrower
from lenddesk.ledger.service import approve_reversal, post_repayment, request_reversal
from tests.collections.conftest import CLOSED, CONTACT_DAY, NOW, Book, session_of

POLITE = "您好，您的借款已逾期，应还金额请以账单为准，请尽快通过银行转账、微信支付或支付宝还款。"


@pytest.fixture
def api(pinned_app: FastAPI, client: TestClient) -> TestClient:
    return client


def contact(api: TestClient, headers: dict[str, str], borrower_id: int, text_: str = POLITE, **extra: object):
    body = {"borrower_id": borrower_id, "channel": "sms", "text": text_, **extra}
    return api.post("/api/v1/collections/contacts", json=body, headers=headers)


def test_the_plan_assigns_the_overdue_borrower_to_the_collector(api: TestClient, as_role, book: Book) -> None:
    rows = api.get(
        "/api/v1/collections/worklist", params={"day": CONTACT_DAY.isoformat()}, headers=as_role("collector")
    )
    assert rows.status_code == 200
    assert [row["borrower_id"] for row in rows.json()] == [book.overdue_borrower]
    row = rows.json()[0]
    assert row["overdue_amount"] != "0.00" and 5 <= row["propensity"] <= 95


def test_a_polite_reminder_is_sent_through_the_desk_outbox(
    api: TestClient, as_role, book: Book, engine: Engine
) -> None:
    response = contact(api, as_role("collector"), book.overdue_borrower)
    assert response.status_code == 201, response.text
    with session_of(engine) as session:
        outbox = session.get(OutboxMessage, response.json()["outbox_id"])
        assert outbox is not None and outbox.body == POLITE and outbox.status == "queued"
        assert (
            session.scalar(select(Contact.status).where(Contact.id == response.json()["contact_id"]))
            == "sent"
        )


def test_a_threat_is_blocked_with_its_codes_and_the_attempt_is_recorded(
    api: TestClient, as_role, book: Book, engine: Engine
) -> None:
    response = contact(api, as_role("collector"), book.overdue_borrower, "再不还钱就让你坐 牢，我們是工安")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "contact_blocked"
    # Jail and a police impersonation (工安 for 公安, Traditional 們); the learned layer may add THREAT.
    assert {v["code"] for v in body["violations"]} >= {"FALSE_AUTHORITY", "FALSE_CONSEQUENCE"}
    with session_of(engine) as session:
        recorded = session.get(Contact, body["details"]["contact_id"])
        assert recorded is not None and recorded.status == "blocked"
        assert set(recorded.codes) == {v["code"] for v in body["violations"]}
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert (
            session.scalar(select(func.count()).where(AuditEntry.action == "collections.contact_blocked"))
            == 1
        )


def test_the_fourth_contact_of_the_day_is_blocked_by_the_cap(api: TestClient, as_role, book: Book) -> None:
    for _ in range(3):
        assert contact(api, as_role("collector"), book.overdue_borrower).status_code == 201
    fourth = contact(api, as_role("collector"), book.overdue_borrower)
    assert fourth.status_code == 422
    assert [v["code"] for v in fourth.json()["violations"]] == ["FREQUENCY_CAP"]


def test_a_third_party_hears_only_a_call_back_request(api: TestClient, as_role, book: Book) -> None:
    headers = as_role("collector")
    told = contact(
        api, headers, book.overdue_borrower, "请转告他尽快还款", recipient=book.third_party_contact
    )
    assert told.status_code == 422
    assert [v["code"] for v in told.json()["violations"]] == ["THIRD_PARTY_DISCLOSURE"]
    asked = contact(
        api,
        headers,
        book.overdue_borrower,
        "您好，请转告他方便时回电，谢谢。",
        recipient=book.third_party_contact,
    )
    assert asked.status_code == 201


def test_an_sms_opt_out_blocks_sms_but_not_a_call(
    api: TestClient, as_role, book: Book, engine: Engine
) -> None:
    with session_of(engine) as session:
        mobile = session.scalar(select(Borrower.mobile).where(Borrower.id == book.overdue_borrower))
        record_opt_out(
            session,
            channel="sms",
            address=mobile or "",
            borrower_id=book.overdue_borrower,
            source="sms",
            now=NOW,
        )
        session.commit()
    headers = as_role("collector")
    assert [v["code"] for v in contact(api, headers, book.overdue_borrower).json()["violations"]] == [
        "OPTED_OUT"
    ]
    assert contact(api, headers, book.overdue_borrower, channel="call_script").status_code == 201


def test_a_collector_may_not_contact_a_borrower_outside_their_worklist(
    api: TestClient, as_role, book: Book
) -> None:
    refused = contact(api, as_role("collector"), book.current_borrower)
    assert refused.status_code == 403
    assert contact(api, as_role("agent"), book.overdue_borrower).status_code == 403
    assert contact(api, as_role("team_lead"), book.current_borrower).status_code == 201


def test_a_dispute_opens_a_complaint_and_holds_collection(
    api: TestClient, as_role, book: Book, engine: Engine
) -> None:
    headers = as_role("collector")
    recorded = api.post(
        "/api/v1/collections/outcomes",
        json={
            "borrower_id": book.overdue_borrower,
            "kind": "dispute",
            "note": "借款人称该笔借款已结清，对金额有异议",
        },
        headers=headers,
    )
    assert recorded.status_code == 201, recorded.text
    number = recorded.json()["ticket_number"]
    with session_of(engine) as session:
        assert session.scalar(select(Hold.ticket_number).where(Hold.released_at.is_(None))) == number
    held = contact(api, headers, book.overdue_borrower)
    assert [v["code"] for v in held.json()["violations"]] == ["DISPUTE_HOLD"]


def test_hardship_opens_a_hardship_ticket_for_negotiation(
    api: TestClient, as_role, book: Book, engine: Engine
) -> None:
    recorded = api.post(
        "/api/v1/collections/outcomes",
        json={"borrower_id": book.overdue_borrower, "kind": "hardship", "note": "失业三个月，希望分期"},
        headers=as_role("collector"),
    )
    assert recorded.status_code == 201, recorded.text
    with session_of(engine) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == recorded.json()["ticket_number"]))
        assert (
            ticket is not None
            and ticket.category == "hardship"
            and ticket.borrower_id == book.overdue_borrower
        )


def test_a_promise_is_marked_kept_by_the_close_of_business_after_a_repayment(
    api: TestClient, as_role, book: Book, engine: Engine
) -> None:
    promised = api.post(
        "/api/v1/collections/outcomes",
        json={
            "borrower_id": book.overdue_borrower,
            "kind": "promise_to_pay",
            "promise_amount": "100.00",
            "promise_date": (CONTACT_DAY + timedelta(days=3)).isoformat(),
        },
        headers=as_role("collector"),
    )
    assert promised.status_code == 201 and promised.json()["promise_status"] == "open"
    with session_of(engine) as session:
        post_repayment(
            session,
            actor=audit.Actor.system("tests"),
            contract_number=book.overdue_contract,
            channel="alipay",
            external_reference="PAY-1",
            amount_fen=10_000,
            value_date=CONTACT_DAY,
            today=CONTACT_DAY,
        )
        session.commit()
    run_cob(engine, CONTACT_DAY)
    with session_of(engine) as session:
        assert session.scalar(select(Outcome.promise_status)) == "kept"


def test_a_promise_not_paid_by_its_date_is_broken(
    api: TestClient, as_role, book: Book, engine: Engine
) -> None:
    due = CONTACT_DAY + timedelta(days=1)
    api.post(
        "/api/v1/collections/outcomes",
        json={"borrower_id": book.overdue_borrower, "kind": "promise_to_pay", "promise_amount": "500.00",
              "promise_date": due.isoformat()},
        headers=as_role("collector"),
    )  # fmt: skip
    run_cob(engine, due)
    with session_of(engine) as session:
        assert session.scalar(select(Outcome.promise_status)) == "broken"
        assert (
            session.scalar(
                select(Account.promises_broken).where(Account.borrower_id == book.overdue_borrower)
            )
            == 1
        )


def test_compliance_checks_any_text_in_any_situation(api: TestClient, as_role, book: Book) -> None:
    body = {
        "borrower_id": book.overdue_borrower,
        "channel": "sms",
        "at": "2026-12-01T21:30:00+08:00",
        "text": POLITE,
    }
    late = api.post("/api/v1/collections/check", json=body, headers=as_role("compliance"))
    assert late.status_code == 200 and [v["code"] for v in late.json()["violations"]] == ["QUIET_HOURS"]
    what_if = {**body, "at": "2026-12-01T10:00:00+08:00", "assume": {"contacts_7d": 7, "dispute_open": True}}
    verdict = api.post("/api/v1/collections/check", json=what_if, headers=as_role("compliance")).json()
    assert [v["code"] for v in verdict["violations"]] == ["FREQUENCY_CAP", "DISPUTE_HOLD"]
    assert api.post("/api/v1/collections/check", json=body, headers=as_role("collector")).status_code == 403


def test_a_script_that_fails_the_guard_is_not_saved(api: TestClient, as_role, engine: Engine) -> None:
    good = {
        "code": "m1_sms",
        "stage": "M1",
        "channel": "sms",
        "title": "M1 首日短信",
        "body": "{name}您好，您的借款（合同号{contract_number}）已逾期，应还{amount}。"
        "请通过{repayment_channels}还款。",
    }
    assert (
        api.post("/api/v1/collections/scripts", json=good, headers=as_role("compliance")).status_code == 201
    )
    bad = {**good, "code": "m1_bad", "body": "{name}，再不还钱就通知你单位领导"}
    refused = api.post("/api/v1/collections/scripts", json=bad, headers=as_role("team_lead"))
    assert refused.status_code == 422
    assert refused.json()["details"]["violations"][0]["code"] == "FALSE_CONSEQUENCE"
    with session_of(engine) as session:
        assert session.scalars(select(Script.code)).all() == ["m1_sms"]


def test_the_report_compares_the_arms(api: TestClient, as_role, book: Book) -> None:
    report = api.get("/api/v1/collections/strategies/report", headers=as_role("team_lead"))
    assert report.status_code == 200
    arms = report.json()["arms"]
    assert sum(arm["accounts"] for arm in arms) == 1
    rates = arms[0]["rates"]["cure_rate"]
    assert rates["total"] == 1 and 0 <= rates["ci_low"] <= rates["rate"] <= rates["ci_high"] <= 1


@pytest.mark.parametrize(
    "body",
    [
        {"borrower_id": 2**64, "channel": "sms", "text": "x"},
        {"borrower_id": 0, "channel": "sms", "text": "x"},
        {"borrower_id": 1, "channel": "fax", "text": "x"},
        {"borrower_id": 1, "channel": "sms", "text": "x" * 2001},
        {"borrower_id": 1, "channel": "sms", "text": "x", "recipient": 2**70},
        {"borrower_id": 1, "channel": "sms", "text": "x", "recipient": "boss"},
        {"borrower_id": 1, "channel": "sms", "text": "x", "extra": 1},
        {"borrower_id": "1e3", "channel": "sms", "text": "x"},
    ],
)
def test_hostile_contact_bodies_are_refused_with_422(api: TestClient, as_role, body: dict) -> None:
    response = api.post("/api/v1/collections/contacts", json=body, headers=as_role("team_lead"))
    assert response.status_code == 422
    assert {"code", "message_zh", "message_en"} <= set(response.json())


def test_hostile_texts_never_cause_a_500(api: TestClient, as_role, book: Book, engine: Engine) -> None:
    for hostile in ["\ud800", "\x00", "坐\u200b牢" * 300, "ＳＢ" * 10]:
        response = api.post(
            "/api/v1/collections/contacts",
            content=(
                f'{{"borrower_id": {book.overdue_borrower}, "channel": "sms",'
                f' "text": "{hostile.encode("unicode_escape").decode()}"}}'
            ).encode(),
            headers={**as_role("team_lead"), "content-type": "application/json"},
        )
        assert response.status_code in (201, 422), (hostile, response.text)


def test_hostile_outcomes_are_refused(api: TestClient, as_role, book: Book) -> None:
    headers = as_role("collector")
    for body in [
        {
            "borrower_id": book.overdue_borrower,
            "kind": "promise_to_pay",
            "promise_amount": 100.5,
            "promise_date": "2026-12-02",
        },
        {
            "borrower_id": book.overdue_borrower,
            "kind": "promise_to_pay",
            "promise_amount": "100",
            "promise_date": "2027-06-01",
        },
        {
            "borrower_id": book.overdue_borrower,
            "kind": "promise_to_pay",
            "promise_amount": "-1",
            "promise_date": "2026-12-02",
        },
        {"borrower_id": book.overdue_borrower, "kind": "promise_to_pay"},
        {"borrower_id": book.overdue_borrower, "kind": "new_contact", "new_mobile": "12345"},
        {"borrower_id": book.overdue_borrower, "kind": "bribe"},
    ]:
        response = api.post("/api/v1/collections/outcomes", json=body, headers=headers)
        assert response.status_code == 422, (body, response.text)


def test_unknown_borrowers_are_404(api: TestClient, as_role) -> None:
    assert contact(api, as_role("team_lead"), 999_999).status_code == 404
    body = {"borrower_id": 999_999, "channel": "sms", "at": "2026-12-01T10:00:00+08:00", "text": "x"}
    assert api.post("/api/v1/collections/check", json=body, headers=as_role("compliance")).status_code == 404


def test_the_plan_is_idempotent_for_its_date(engine: Engine, book: Book) -> None:
    from lenddesk.collections.service import plan_day

    with engine.connect() as connection:
        before = connection.execute(text("SELECT COUNT(*) FROM collections_contacts")).scalar()
        connection.rollback()
        assert plan_day(connection, CLOSED) == {"skipped": 1}
        connection.execute(text("UPDATE collections_plan_runs SET status = 'running'"))
        connection.commit()
        plan_day(connection, CLOSED)  # a crash before "done": the re-run adds nothing twice
        assert connection.execute(text("SELECT COUNT(*) FROM collections_contacts")).scalar() == before
        assert connection.execute(text("SELECT COUNT(*) FROM collections_worklist")).scalar() == 1


def test_an_open_desk_complaint_holds_collection(
    api: TestClient, as_role, book: Book, engine: Engine
) -> None:
    headers = as_role("collector")
    with session_of(engine) as session:
        mobile = session.scalar(select(Borrower.mobile).where(Borrower.id == book.overdue_borrower))
        intake(  # a complaint: the desk records it on the ticket it opens
            session,
            channel="sms",
            channel_message_id="complaint-1",
            sender=mobile,
            text="催收员每天打电话骚扰我，我要投诉",
            received_at=NOW,
            now=NOW,
            actor=audit.Actor.system("channel:test"),
        )
        session.commit()
    held = contact(api, headers, book.overdue_borrower)
    assert held.status_code == 422
    assert [v["code"] for v in held.json()["violations"]] == ["DISPUTE_HOLD"]


def test_a_kept_promise_is_broken_when_its_repayment_is_reversed_after_its_date(
    api: TestClient, as_role, book: Book, engine: Engine
) -> None:
    due = CONTACT_DAY + timedelta(days=3)
    api.post(
        "/api/v1/collections/outcomes",
        json={"borrower_id": book.overdue_borrower, "kind": "promise_to_pay", "promise_amount": "100.00",
              "promise_date": due.isoformat()},
        headers=as_role("collector"),
    )  # fmt: skip
    with session_of(engine) as session:
        paid = post_repayment(
            session,
            actor=audit.Actor.system("tests"),
            contract_number=book.overdue_contract,
            channel="alipay",
            external_reference="PAY-REVERSED",
            amount_fen=10_000,
            value_date=CONTACT_DAY,
            today=CONTACT_DAY,
        )
        session.commit()
        repayment_id = paid.repayment.id
    run_cob(engine, due)
    with session_of(engine) as session:
        assert session.scalar(select(Outcome.promise_status)) == "kept"
        request_reversal(session, actor=audit.Actor.system("agent"), repayment_id=repayment_id, reason="退款")
        approve_reversal(
            session,
            actor=audit.Actor.system("lead"),
            repayment_id=repayment_id,
            today=due + timedelta(days=1),
        )
        session.commit()
    run_cob(engine, due + timedelta(days=1))
    with session_of(engine) as session:
        assert session.execute(select(Outcome.promise_status, Outcome.paid_fen)).one() == ("broken", 0)
