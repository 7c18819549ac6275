"""The risk API: events (idempotent, channel key or admin), alerts (acknowledge, close, ticket), the
blacklist (four eyes, checks, no clear number anywhere) and the score."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, String, Text, func, inspect, select, text

from lenddesk.core.db import session_factory
from lenddesk.desk.models import OutboxMessage
from lenddesk.risk.models import Alert, BlacklistEntry, Event
from tests.risk.conftest import CHANNEL_KEY, GUANGZHOU, SHANGHAI_REGION, Book, event

KEY = {"X-LendDesk-Key": CHANNEL_KEY}
ALERTS = "/api/v1/risk/alerts"


def _client(app: FastAPI) -> TestClient:
    return TestClient(app)


def test_a_login_from_a_new_province_raises_one_alert_and_a_replay_nothing(
    pinned_app: FastAPI, book: Book, as_role
) -> None:
    client = _client(pinned_app)
    body = event(book.borrower, "e1", "login", "2026-12-01T09:00:00+08:00", SHANGHAI_REGION)
    first = client.post("/api/v1/risk/events", json=body, headers=KEY)
    assert first.status_code == 201, first.text
    assert first.json()["created"] is True and len(first.json()["alerts"]) == 1
    replay = client.post("/api/v1/risk/events", json=body, headers=KEY)
    assert replay.status_code == 200
    assert replay.json() == {"id": first.json()["id"], "created": False, "alerts": []}
    # A second login from another new province: the borrower's NEW_REGION alert is still open.
    other = event(book.borrower, "e2", "login", "2026-12-01T09:30:00+08:00", GUANGZHOU)
    assert client.post("/api/v1/risk/events", json=other, headers=KEY).json()["alerts"] == []
    listed = client.get(ALERTS, params={"borrower_id": book.borrower}, headers=as_role("compliance")).json()
    assert [(a["rule"], a["status"]) for a in listed] == [("NEW_REGION", "open")]
    assert listed[0]["evidence"]["province"] == "31" and listed[0]["evidence"]["home_province"] == "11"


def test_an_event_id_reused_for_another_event_is_refused(pinned_app: FastAPI, book: Book) -> None:
    client = _client(pinned_app)
    body = event(book.borrower, "e1", "login", "2026-12-01T09:00:00+08:00")
    assert client.post("/api/v1/risk/events", json=body, headers=KEY).status_code == 201
    changed = {**body, "region": GUANGZHOU}
    response = client.post("/api/v1/risk/events", json=changed, headers=KEY)
    assert response.status_code == 409 and response.json()["code"] == "event_id_reused"


def test_events_need_a_channel_key_or_an_admin(pinned_app: FastAPI, book: Book, as_role) -> None:
    client = _client(pinned_app)
    body = event(book.borrower, "e1", "login", "2026-12-01T09:00:00+08:00")
    assert client.post("/api/v1/risk/events", json=body).status_code == 401
    assert (
        client.post("/api/v1/risk/events", json=body, headers={"X-LendDesk-Key": "wrong"}).status_code == 401
    )
    assert client.post("/api/v1/risk/events", json=body, headers=as_role("compliance")).status_code == 403
    assert client.post("/api/v1/risk/events", json=body, headers=as_role("admin")).status_code == 201


def test_bad_events_are_refused_in_both_languages(pinned_app: FastAPI, book: Book) -> None:
    client = _client(pinned_app)
    cases: list[tuple[dict[str, Any], str]] = [
        (event(book.borrower, "x1", "transfer", "2026-12-01T09:00:00+08:00"), "amount_required"),
        (
            event(book.borrower, "x2", "login", "2026-12-01T09:00:00+08:00", amount="1.00"),
            "amount_not_allowed",
        ),
        (event(book.borrower, "x3", "login", "2026-12-01T09:00:00+08:00", "990000"), "invalid_region"),
        (event(999_999, "x4", "login", "2026-12-01T09:00:00+08:00"), "unknown_borrower"),
    ]
    for body, code in cases:
        response = client.post("/api/v1/risk/events", json=body, headers=KEY)
        assert response.status_code in (404, 422), response.text
        assert response.json()["code"] == code and response.json()["message_zh"]
    naive = event(book.borrower, "x5", "login", "2026-12-01T09:00:00")
    assert client.post("/api/v1/risk/events", json=naive, headers=KEY).status_code == 422
    for far in ("0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00"):
        response = client.post(
            "/api/v1/risk/events", json=event(book.borrower, "x6", "login", far), headers=KEY
        )
        assert response.status_code == 422, response.text


def test_three_large_transfers_raise_one_alert_then_acknowledge_ticket_and_close(
    pinned_app: FastAPI, book: Book, as_role, engine: Engine
) -> None:
    client = _client(pinned_app)
    for number, hour in enumerate(("09", "12", "20")):
        body = event(
            book.borrower, f"t{number}", "transfer", f"2026-12-01T{hour}:00:00+08:00", amount="5000.00"
        )
        assert client.post("/api/v1/risk/events", json=body, headers=KEY).status_code == 201
    fourth = event(book.borrower, "t9", "transfer", "2026-12-01T21:00:00+08:00", amount="9000.00")
    assert client.post("/api/v1/risk/events", json=fourth, headers=KEY).json()["alerts"] == []
    lead = as_role("team_lead")
    [alert] = client.get(ALERTS, params={"status": "open"}, headers=lead).json()
    assert alert["rule"] == "LARGE_TRANSFERS" and len(alert["evidence"]["transfers"]) == 3
    number = alert["id"]
    assert client.post(f"{ALERTS}/{number}/acknowledge", headers=lead).json()["status"] == "acknowledged"
    again = client.post(f"{ALERTS}/{number}/acknowledge", headers=lead)
    assert again.status_code == 409 and again.json()["code"] == "alert_not_open"
    ticket = client.post(f"{ALERTS}/{number}/ticket", headers=lead)
    assert ticket.status_code == 200 and ticket.json()["ticket_number"].startswith("T")
    twice = client.post(f"{ALERTS}/{number}/ticket", headers=lead)
    assert twice.status_code == 409 and twice.json()["code"] == "alert_has_ticket"
    closed = client.post(f"{ALERTS}/{number}/close", json={"disposition": "customer_verified"}, headers=lead)
    assert closed.json()["status"] == "closed" and closed.json()["disposition"] == "customer_verified"
    # Closed, the borrower may be alerted again by the next transfer that completes three in 24 h.
    fifth = event(book.borrower, "t10", "transfer", "2026-12-01T22:00:00+08:00", amount="5000.00")
    assert len(client.post("/api/v1/risk/events", json=fifth, headers=KEY).json()["alerts"]) == 1
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 5
        assert session.scalar(select(func.count()).where(Alert.status != "closed")) == 1
        # The risk room queued nothing for the borrower (the ticket is an internal intake).
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def _all_text(engine: Engine) -> list[str]:
    """Every text value of every table (audit rows included), as stored."""
    found: list[str] = []
    inspector = inspect(engine)
    with engine.connect() as connection:
        for table in inspector.get_table_names():
            for column in inspector.get_columns(table):
                if isinstance(column["type"], String | Text) or "JSON" in str(column["type"]).upper():
                    rows = connection.execute(text(f'SELECT "{column["name"]}" FROM "{table}"')).scalars()
                    found.extend(str(value) for value in rows if value is not None)
    return found


def test_blacklisting_needs_a_second_person_and_stores_no_clear_number(
    pinned_app: FastAPI, book: Book, as_role, engine: Engine
) -> None:
    client = _client(pinned_app)
    outsider_id, outsider_mobile = "44010619900307001X", "13912345678"
    requested = client.post(
        "/api/v1/risk/blacklist",
        json={"id_number": "４４０１０６１９９００３０７００１x", "reason": "冒用他人身份申请"},
        headers=as_role("compliance"),
    )
    assert requested.status_code == 201 and requested.json()["status"] == "pending", requested.text
    entry = requested.json()["id"]
    by_mobile = client.post(
        "/api/v1/risk/blacklist",
        json={"mobile": "+86 139-1234-5678", "reason": "团伙欺诈"},
        headers=as_role("team_lead"),
    )
    assert by_mobile.status_code == 201
    # Not listed until approved, and never by the person who asked.
    check = "/api/v1/risk/blacklist/check"
    assert client.get(check, params={"id_number": outsider_id}, headers=as_role("agent")).json() == {
        "listed": False
    }
    own = client.post(f"/api/v1/risk/blacklist/{entry}/approve", headers=as_role("compliance"))
    assert own.status_code == 403 and own.json()["code"] == "four_eyes"
    assert (
        client.post(f"/api/v1/risk/blacklist/{entry}/approve", headers=as_role("team_lead")).status_code
        == 403
    )
    approved = client.post(f"/api/v1/risk/blacklist/{entry}/approve", headers=as_role("admin"))
    assert approved.json()["status"] == "listed"
    assert client.get(check, params={"id_number": outsider_id.lower()}, headers=as_role("agent")).json() == {
        "listed": True
    }
    again = client.post(
        "/api/v1/risk/blacklist",
        json={"id_number": outsider_id, "reason": "重复"},
        headers=as_role("team_lead"),
    )
    assert again.status_code == 409
    with_number = client.post(
        "/api/v1/risk/blacklist",
        json={"mobile": "13800001111", "reason": "号码13800001111多次冒用"},
        headers=as_role("team_lead"),
    )
    assert with_number.status_code == 422 and with_number.json()["code"] == "reason_contains_number"
    stored = "\n".join(_all_text(engine))
    for clear in (outsider_id, outsider_id[:17], outsider_mobile, "4401061990030700"):
        assert clear not in stored
    with session_factory(engine)() as session:
        assert {e.kind for e in session.scalars(select(BlacklistEntry))} == {"id_number", "mobile"}


def test_removal_waits_for_a_second_person(pinned_app: FastAPI, book: Book, as_role) -> None:
    client = _client(pinned_app)
    entry = client.post(
        "/api/v1/risk/blacklist", json={"mobile": book.mobile, "reason": "欺诈"}, headers=as_role("team_lead")
    ).json()["id"]
    client.post(f"/api/v1/risk/blacklist/{entry}/approve", headers=as_role("compliance"))
    removal = client.post(
        f"/api/v1/risk/blacklist/{entry}/remove", json={"reason": "核实为误报"}, headers=as_role("compliance")
    )
    assert removal.json()["status"] == "removal_pending"
    check = client.get(
        "/api/v1/risk/blacklist/check", params={"mobile": book.mobile}, headers=as_role("agent")
    )
    assert check.json() == {"listed": True}  # still listed until the removal is approved
    own = client.post(f"/api/v1/risk/blacklist/{entry}/approve", headers=as_role("compliance"))
    assert own.status_code == 403 and own.json()["code"] == "four_eyes"
    assert client.post(f"/api/v1/risk/blacklist/{entry}/approve", headers=as_role("admin")).json()[
        "status"
    ] == ("removed")
    check = client.get(
        "/api/v1/risk/blacklist/check", params={"mobile": book.mobile}, headers=as_role("agent")
    )
    assert check.json() == {"listed": False}
    # Removed, the number may be requested again.
    again = client.post(
        "/api/v1/risk/blacklist",
        json={"mobile": book.mobile, "reason": "再次欺诈"},
        headers=as_role("team_lead"),
    )
    assert again.status_code == 201


def test_a_second_person_can_turn_down_a_listing_or_a_removal(
    pinned_app: FastAPI, book: Book, as_role
) -> None:
    client = _client(pinned_app)
    check = "/api/v1/risk/blacklist/check"
    entry = client.post(
        "/api/v1/risk/blacklist",
        json={"mobile": book.mobile, "reason": "疑似欺诈"},
        headers=as_role("team_lead"),
    ).json()["id"]
    reject = f"/api/v1/risk/blacklist/{entry}/reject"
    assert client.post(reject, json={"note": "证据不足"}, headers=as_role("team_lead")).status_code == 403
    empty = client.post(reject, json={"note": " "}, headers=as_role("compliance"))
    assert empty.status_code == 422 and empty.json()["code"] == "reason_required"
    turned_down = client.post(reject, json={"note": "证据不足"}, headers=as_role("compliance"))
    assert turned_down.json()["status"] == "rejected", turned_down.text
    assert client.get(check, params={"mobile": book.mobile}, headers=as_role("agent")).json() == {
        "listed": False
    }
    again = client.post(reject, json={"note": "再驳回"}, headers=as_role("admin"))
    assert again.status_code == 409 and again.json()["code"] == "not_pending"
    # Rejected, the number may be asked for again; a removal turned down leaves it listed.
    entry = client.post(
        "/api/v1/risk/blacklist",
        json={"mobile": book.mobile, "reason": "核实欺诈"},
        headers=as_role("team_lead"),
    ).json()["id"]
    client.post(f"/api/v1/risk/blacklist/{entry}/approve", headers=as_role("compliance"))
    client.post(
        f"/api/v1/risk/blacklist/{entry}/remove", json={"reason": "申诉"}, headers=as_role("team_lead")
    )
    own = client.post(
        f"/api/v1/risk/blacklist/{entry}/reject", json={"note": "x"}, headers=as_role("team_lead")
    )
    assert own.status_code == 403
    kept = client.post(
        f"/api/v1/risk/blacklist/{entry}/reject", json={"note": "申诉不成立"}, headers=as_role("compliance")
    )
    assert kept.json()["status"] == "listed"
    assert client.get(check, params={"mobile": book.mobile}, headers=as_role("agent")).json() == {
        "listed": True
    }


def test_checks_need_exactly_one_valid_number(pinned_app: FastAPI, as_role) -> None:
    client = _client(pinned_app)
    check = "/api/v1/risk/blacklist/check"
    assert client.get(check, headers=as_role("agent")).status_code == 422
    both = client.get(check, params={"mobile": "13912345678", "id_number": "x"}, headers=as_role("agent"))
    assert both.status_code == 422
    bad = client.get(check, params={"id_number": "110101199001011230"}, headers=as_role("agent"))
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_id_number"
    assert "110101199001011230" not in bad.text
    assert client.get(check, params={"mobile": "13912345678"}, headers=as_role("qa")).status_code == 403


def test_a_blacklisted_borrower_is_flagged_by_the_read_interfaces(
    pinned_app: FastAPI, book: Book, as_role, engine: Engine
) -> None:
    from lenddesk.risk import service
    from lenddesk.risk.service.scoring import score_day

    client = _client(pinned_app)
    entry = client.post(
        "/api/v1/risk/blacklist",
        json={"id_number": book.id_number, "reason": "欺诈"},
        headers=as_role("team_lead"),
    ).json()["id"]
    client.post(f"/api/v1/risk/blacklist/{entry}/approve", headers=as_role("compliance"))
    with engine.connect() as connection:
        score_day(connection, NOW_DATE)  # the close refreshes the borrower keys
    with session_factory(engine)() as session:
        assert service.is_blacklisted(session, book.borrower) is True
        assert service.is_blacklisted(session, book.other) is False
        assert set(session.scalars(service.blacklisted_borrower_ids())) == {book.borrower}


NOW_DATE = __import__("datetime").date(2026, 11, 30)


def test_a_late_transfer_completes_the_window_of_the_transfers_after_it(
    pinned_app: FastAPI, book: Book
) -> None:
    """Large transfers at 09:00 and 12:00, then one for 10:00 arriving late: judged as of 10:00 it
    sees two, but the 12:00 transfer's window (as of 12:00) now holds three: one alert. A late one
    for the day before, beyond 24 h of every other, raises nothing."""
    client = _client(pinned_app)
    for name, at in (("a", "09:00"), ("b", "12:00")):
        body = event(book.borrower, name, "transfer", f"2026-12-01T{at}:00+08:00", amount="6000.00")
        assert client.post("/api/v1/risk/events", json=body, headers=KEY).json()["alerts"] == []
    early = event(book.borrower, "early", "transfer", "2026-11-30T08:59:59+08:00", amount="6000.00")
    assert client.post("/api/v1/risk/events", json=early, headers=KEY).json()["alerts"] == []
    late = event(book.borrower, "late", "transfer", "2026-12-01T10:00:00+08:00", amount="6000.00")
    assert len(client.post("/api/v1/risk/events", json=late, headers=KEY).json()["alerts"]) == 1
