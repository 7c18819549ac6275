"""The console: the negotiation panel of a ticket, the approvals queue, the agreement, the library."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.negotiation.models import Agreement, HardshipCase, Proposal
from tests.conftest import PASSWORD, carry_csrf
from tests.negotiation.support import Book

pytestmark = pytest.mark.usefixtures("pinned")


def browser(app: FastAPI, role: str) -> TestClient:
    client = TestClient(app)
    client.post("/login", data={"username": role, "password": PASSWORD})
    return carry_csrf(client)


def test_agent_negotiates_lead_approves_agreement_prints(app: FastAPI, session: Session, book: Book) -> None:
    agent, lead = browser(app, "agent"), browser(app, "team_lead")
    ticket_page = agent.get(f"/desk/tickets/{book.ticket_number}")
    assert f"/negotiation/tickets/{book.ticket_number}" in ticket_page.text
    panel = agent.get(f"/negotiation/tickets/{book.ticket_number}")
    assert 'data-testid="open-case"' in panel.text
    opened = agent.post(
        f"/negotiation/tickets/{book.ticket_number}/cases",
        data={"contract_number": book.contract_number, "cause": "illness", "monthly_capacity": "1500"},
    )
    assert opened.status_code == 200 and "已建立协商案件" in opened.text
    assert 'data-testid="options-chart"' in opened.text and "<circle" in opened.text
    trial = agent.get(f"/negotiation/tickets/{book.ticket_number}", params={"capacity": "900"})
    assert "分36期" in trial.text  # a lower capacity proposes a longer term
    case = session.scalars(select(HardshipCase)).one()
    option_id = re.search(rf'value="(N{case.id}-RI\d+)"', opened.text)
    assert option_id is not None
    proposed = agent.post(f"/negotiation/cases/{case.id}/proposals", data={"option_id": option_id.group(1)})
    assert "已提交审批" in proposed.text
    proposal = session.scalars(select(Proposal)).one()
    queue = lead.get("/negotiation/approvals")
    assert f'data-testid="approval-{proposal.id}"' in queue.text
    approved = lead.post(f"/negotiation/proposals/{proposal.id}/approve", data={"comment": "同意"})
    assert "已批准" in approved.text and "没有待审批的方案" in approved.text
    accepted = agent.post(
        f"/negotiation/proposals/{proposal.id}/accept", data={"channel": "phone", "evidence_text": "我同意"}
    )
    assert accepted.status_code == 200 and "还款协商协议" in accepted.text and "打印" in accepted.text
    assert session.scalars(select(Agreement)).one().number in accepted.text
    library = lead.get("/negotiation/library")
    assert f"/negotiation/cases/{case.id}/library" in library.text
    marked = lead.post(
        f"/negotiation/cases/{case.id}/library", data={"outcome": "success", "lesson": "先核实收入再分期"}
    )
    assert "先核实收入再分期" in marked.text


def test_errors_show_on_the_panel_and_nothing_is_written(app: FastAPI, session: Session, book: Book) -> None:
    agent = browser(app, "agent")
    answer = agent.post(
        f"/negotiation/tickets/{book.ticket_number}/cases",
        data={"contract_number": book.contract_number, "cause": "illness", "monthly_capacity": "-5"},
    )
    assert 'data-testid="negotiation-error"' in answer.text
    assert session.scalars(select(HardshipCase)).all() == []
