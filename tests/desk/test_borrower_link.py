"""A ticket is linked to a borrower only by a verification: a sender's phone or address, which anyone
can type, names a candidate and grants nothing. Account data on a ticket follows the borrower 360's
rule: a case-bound member of staff sees it only on their own ticket linked to the borrower."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.desk.models import Ticket
from tests.desk.conftest import BorrowerFacts, user_id

KNOWLEDGE = {"name": "张伟", "id_last6": "011232", "contract_number": "HT20260105001"}


def url(number: str, tail: str = "") -> str:
    return f"/api/v1/desk/tickets/{number}" + (f"/{tail}" if tail else "")


def links(session: Session, number: str) -> tuple[int | None, int | None]:
    session.expire_all()
    row = session.execute(
        select(Ticket.borrower_id, Ticket.candidate_borrower_id).where(Ticket.number == number)
    ).one()
    return row.borrower_id, row.candidate_borrower_id


def test_a_form_with_a_borrowers_phone_opens_nothing_until_the_borrower_is_verified(
    inbound, client: TestClient, as_role, session: Session, desk_data, borrower: BorrowerFacts
) -> None:
    agent = as_role("agent")
    number = inbound("请问我还欠多少？", sender=borrower.mobile, channel="web_form").json()["ticket_number"]
    session.expire_all()
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    assert ticket is not None and ticket.owner_id == user_id(session, "agent")  # the agent owns it
    opened = client.get(f"/api/v1/ledger/borrowers/{borrower.id}", params={"ticket": number}, headers=agent)
    assert opened.status_code == 403 and opened.json()["code"] == "no_case_for_borrower"
    assert links(session, number) == (None, borrower.id)  # a candidate only

    verified = client.post(url(number, "verify/knowledge"), json=KNOWLEDGE, headers=agent)
    assert verified.status_code == 200 and verified.json()["verified"], verified.text
    assert links(session, number) == (borrower.id, borrower.id)
    opened = client.get(f"/api/v1/ledger/borrowers/{borrower.id}", params={"ticket": number}, headers=agent)
    assert opened.status_code == 200, opened.text


def test_the_panel_and_macros_show_the_account_only_on_ones_own_ticket_or_to_a_lead(
    inbound, client: TestClient, as_role, session: Session, desk_data, borrower: BorrowerFacts
) -> None:
    number = inbound("请问我这个月还多少钱？", sender=borrower.mobile).json()["ticket_number"]
    verified = client.post(url(number, "verify/knowledge"), json=KNOWLEDGE, headers=as_role("agent"))
    assert verified.status_code == 200 and verified.json()["verified"], verified.text

    for role in ("agent", "team_lead"):  # the owner; a lead sees every borrower
        panel = client.get(url(number, "panel"), headers=as_role(role)).json()
        assert panel["account"] is not None, role
        macro = client.get(url(number, "macros/amount_due"), headers=as_role(role))
        assert macro.status_code == 200 and "HT20260105001" in macro.text, role

    colleague = as_role("collector")  # case-bound, and this ticket is not theirs
    panel = client.get(url(number, "panel"), headers=colleague)
    assert panel.status_code == 200 and panel.json()["identified"] and panel.json()["account"] is None
    macro = client.get(url(number, "macros/amount_due"), headers=colleague)
    assert macro.status_code == 403 and macro.json()["code"] == "no_case_for_borrower"
    reply = client.post(url(number, "reply"), json={"macro": "amount_due"}, headers=colleague)
    assert reply.status_code == 403
