"""Promise-kept and satisfaction reports: hand-counted figures, own rows only for agents and collectors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.collections.models import Contact, Outcome
from lenddesk.core.models import User
from lenddesk.desk.models import Ticket
from lenddesk.feedback.models import Survey
from tests.ledger.conftest import open_ticket

APRIL = {"from": "2026-04", "to": "2026-04"}


def _user_id(session: Session, name: str) -> int:
    return session.scalar(select(User.id).where(User.username == name))  # type: ignore[return-value]


def _promise(
    session: Session, actor: str, borrower: int, made: date, due: date, amount: int, paid: int, status: str
) -> None:
    session.add(
        Outcome(
            borrower_id=borrower,
            kind="promise_to_pay",
            promise_amount_fen=amount,
            promise_date=due,
            promise_status=status,
            promised_on=made,
            paid_fen=paid,
            actor_id=_user_id(session, actor),
            actor_name=actor,
            details={},
        )
    )


def test_promise_kept_rate_by_count_and_amount(client: TestClient, as_role, session: Session) -> None:  # type: ignore[no-untyped-def]
    _promise(session, "collector", 1, date(2026, 4, 1), date(2026, 4, 10), 100_000, 100_000, "kept")
    _promise(session, "collector", 2, date(2026, 4, 1), date(2026, 4, 10), 100_000, 30_000, "broken")
    _promise(session, "team_lead", 3, date(2026, 4, 2), date(2026, 4, 20), 50_000, 60_000, "kept")
    # Superseded: borrower 4 promised for 04-15, then renegotiated on 04-12 for 04-25.
    _promise(session, "collector", 4, date(2026, 4, 5), date(2026, 4, 15), 80_000, 0, "broken")
    _promise(session, "collector", 4, date(2026, 4, 12), date(2026, 4, 25), 80_000, 80_000, "kept")
    _promise(session, "collector", 5, date(2026, 4, 28), date(2026, 5, 3), 10_000, 0, "open")  # May's
    session.commit()
    body = client.get("/api/v1/reports/promises", params=APRIL, headers=as_role("team_lead")).json()
    (april,) = body["rows"]
    assert (april["made"], april["judged"], april["kept"]) == (4, 4, 3)
    assert april["kept_rate"]["rate"] == 0.75
    # Σ min(paid, promised) = 100 000 + 30 000 + 50 000 + 80 000 of 330 000
    assert april["promised_fen"] == 330_000 and april["paid_up_to_promise_fen"] == 260_000
    assert april["kept_amount_rate"] == 0.788
    own = client.get(
        "/api/v1/reports/promises", params={**APRIL, "group_by": "collector"}, headers=as_role("collector")
    ).json()
    assert [row["label"] for row in own["rows"]] == ["collector"]
    assert own["rows"][0]["judged"] == 3
    assert client.get("/api/v1/reports/promises", params=APRIL, headers=as_role("agent")).status_code == 403


def test_csat_nps_and_response_rate(client: TestClient, as_role, session: Session) -> None:  # type: ignore[no-untyped-def]
    agent = _user_id(session, "agent")
    number = open_ticket(client, as_role, "13800000000", "agent")
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    assert ticket is not None
    sent = datetime(2026, 4, 10, 2, tzinfo=UTC)
    answers = [(5, 10), (4, 6), (2, None), (None, None)]
    for resolution, (score, nps) in enumerate(answers):
        session.add(
            Survey(
                ticket_id=ticket.id,
                resolution=resolution,
                agent_id=agent,
                channel="chat",
                sent_on="chat",
                category="other",
                status="answered" if score else "sent",
                csat=score,
                nps=nps,
                sent_at=sent,
                expires_at=sent + timedelta(days=7),
            )
        )
    session.commit()
    body = client.get("/api/v1/reports/csat", params=APRIL, headers=as_role("team_lead")).json()
    (april,) = body["rows"]
    assert (april["sent"], april["answered"], april["response_rate"]) == (4, 3, 0.75)
    assert april["csat"]["rate"] == 0.667 and april["nps"] == 0.0
    empty = client.get(
        "/api/v1/reports/csat", params={"from": "2026-05", "to": "2026-05"}, headers=as_role("qa")
    )
    assert empty.json()["rows"] == [] and empty.json()["total"]["csat"]["rate"] is None
    mine = client.get("/api/v1/reports/csat", params=APRIL, headers=as_role("agent")).json()
    assert mine["group_by"] == "agent" and [row["key"] for row in mine["rows"]] == [str(agent)]
    assert mine["total"] is None


def test_collector_performance(client: TestClient, as_role, session: Session) -> None:  # type: ignore[no-untyped-def]
    collector = _user_id(session, "collector")
    for index, status in enumerate(("sent", "sent", "sent", "blocked")):
        session.add(
            Contact(
                borrower_id=1 + index,
                recipient="self",
                channel="phone",
                source="agent",
                status=status,
                local_date=date(2026, 4, 3),
                actor_id=collector,
                actor_name="collector",
            )
        )
    _promise(session, "collector", 1, date(2026, 4, 3), date(2026, 4, 10), 100_000, 100_000, "kept")
    _promise(session, "collector", 2, date(2026, 4, 3), date(2026, 4, 10), 100_000, 40_000, "broken")
    _promise(session, "team_lead", 3, date(2026, 4, 3), date(2026, 4, 10), 100_000, 0, "broken")
    session.commit()
    body = client.get("/api/v1/reports/collectors", params=APRIL, headers=as_role("team_lead")).json()
    mine = next(row for row in body["rows"] if row["key"] == str(collector))
    assert (mine["contacts"], mine["right_party"], mine["promises"], mine["kept"]) == (3, 2, 2, 1)
    assert mine["right_party_rate"]["rate"] == 0.667 and mine["kept_rate"]["rate"] == 0.5
    assert mine["recovered_fen"] == 140_000
    own = client.get("/api/v1/reports/collectors", params=APRIL, headers=as_role("collector")).json()
    assert [row["key"] for row in own["rows"]] == [str(collector)]
