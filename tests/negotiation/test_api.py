"""The negotiation API end to end: case → options → proposal → approval → acceptance → agreement
applied to the ledger and chained; bad input refused with nothing written; authority not bypassed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lenddesk.core.models import AuditEntry
from lenddesk.desk.models import OutboxMessage, TicketEvent
from lenddesk.ledger.models import Loan, ScheduleLine, ScheduleRevision, Waiver
from lenddesk.negotiation.models import Agreement, HardshipCase, Proposal
from tests.negotiation.support import NOW, TODAY, Book, hardship_book

pytestmark = pytest.mark.usefixtures("pinned")
API = "/api/v1/negotiation"


def open_case(client: TestClient, headers: dict[str, str], book: Book, **overrides: Any) -> Any:
    body = {
        "contract_number": book.contract_number,
        "ticket_number": book.ticket_number,
        "cause": "unemployment",
        "monthly_capacity": "1500.00",
        "notes": "借款人十月失业，正在找工作",
        **overrides,
    }
    # json.dumps escapes a lone surrogate ("\\ud800"), which httpx's json= cannot send.
    return client.post(
        f"{API}/cases", content=json.dumps(body), headers={**headers, "Content-Type": "application/json"}
    )


def option_of(options: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(option for option in options["options"] if option["kind"] == kind)


def written(session: Session) -> tuple[int, ...]:
    session.expire_all()
    return tuple(
        session.scalar(select(func.count()).select_from(model))
        for model in (HardshipCase, Proposal, Agreement, Waiver, ScheduleRevision, OutboxMessage, AuditEntry)
    )


def test_hardship_to_applied_verified_agreement(
    client: TestClient, as_role, session: Session, book: Book
) -> None:
    agent, lead = as_role("agent"), as_role("team_lead")
    created = open_case(client, agent, book)
    assert created.status_code == 201, created.text
    case_id = created.json()["case_id"]

    options = client.get(f"{API}/cases/{case_id}/options", params={"on": TODAY.isoformat()}, headers=agent)
    assert options.status_code == 200, options.text
    body = options.json()
    assert {o["kind"] for o in body["options"]} == {
        "extension",
        "reinstalment",
        "waiver",
        "interest_suspension",
        "combined",
    }
    assert body["outstanding"]["principal"] == "28720.70"
    reinstalment = option_of(body, "reinstalment")
    assert reinstalment["term"] == 24 and reinstalment["approval"] == "team_lead"
    assert float(reinstalment["monthly_amount"]) <= 1500
    assert sum(float(line["principal"]) for line in reinstalment["schedule"]) == pytest.approx(28720.70)
    assert reinstalment["pros_zh"] and reinstalment["cons_zh"] and reinstalment["conditions_zh"]

    proposed = client.post(
        f"{API}/cases/{case_id}/proposals", json={"option_id": reinstalment["option_id"]}, headers=agent
    )
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["status"] == "pending_approval"
    proposal_id = proposed.json()["proposal_id"]
    assert [p["proposal_id"] for p in client.get(f"{API}/approvals", headers=lead).json()] == [proposal_id]

    approved = client.post(
        f"{API}/proposals/{proposal_id}/approve", json={"comment": "收入证明已核实"}, headers=lead
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"

    accepted = client.post(
        f"{API}/proposals/{proposal_id}/accept",
        json={"channel": "sms", "evidence_text": "我同意分24期", "accepted_at": NOW.isoformat()},
        headers=agent,
    )
    assert accepted.status_code == 201, accepted.text
    agreement = accepted.json()
    assert agreement["previous_sha256"] == "0" * 64 and len(agreement["sha256"]) == 64

    shown = client.get(f"{API}/agreements/{agreement['agreement_number']}", headers=agent).json()
    assert "分24期还款" in shown["text_zh"] and book.contract_number in shown["text_zh"]
    assert "第24期" in shown["text_zh"] and "违约" in shown["text_zh"]
    verified = client.get(f"{API}/agreements/verify", headers=lead).json()
    assert verified == {"ok": True, "checked": 1, "first_tampered": None, "reason": None}

    session.expire_all()
    loan = session.get(Loan, book.loan_id)
    assert loan is not None and loan.status == "current" and loan.outstanding_principal_fen == 2_872_070
    future = session.scalars(
        select(ScheduleLine).where(ScheduleLine.loan_id == book.loan_id, ScheduleLine.due_on > TODAY)
    ).all()
    assert len(future) == 24
    assert sum(line.principal_fen for line in future) == 2_872_070
    revision = session.scalars(select(ScheduleRevision).where(ScheduleRevision.loan_id == book.loan_id)).one()
    assert len(revision.before_lines) == 36  # the replaced schedule is kept
    outbox = session.scalars(select(OutboxMessage)).all()
    assert any(
        agreement["agreement_number"] in message.body and "首期还款日" in message.body for message in outbox
    )
    events = session.scalars(select(TicketEvent.body)).all()
    assert any(agreement["agreement_number"] in (body or "") for body in events)


def propose_kind(client: TestClient, headers: dict[str, str], case_id: int, kind: str) -> Any:
    options = client.get(f"{API}/cases/{case_id}/options", headers=headers).json()
    return client.post(
        f"{API}/cases/{case_id}/proposals",
        json={"option_id": option_of(options, kind)["option_id"]},
        headers=headers,
    )


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"monthly_capacity": "0"}, 422, "amount_not_positive"),
        ({"monthly_capacity": "-100.00"}, 422, "amount_not_positive"),
        ({"monthly_capacity": "9" * 40}, 422, "amount_too_large"),
        ({"monthly_capacity": 1500.0}, 422, "amount_not_string"),
        ({"contract_number": "HT9999"}, 404, "contract_not_found"),
        ({"cause": "lazy"}, 422, "validation_error"),
        ({"notes": "\ud800"}, 422, "validation_error"),
        ({"evidence": "证明" * 1001}, 422, "validation_error"),
        ({"ticket_number": "T20261124-999999"}, 404, "ticket_not_found"),
    ],
)
def test_bad_case_input_is_refused_and_nothing_written(
    client: TestClient,
    as_role,
    session: Session,
    book: Book,
    overrides: dict[str, Any],
    status: int,
    code: str,
) -> None:
    agent = as_role("agent")
    before = written(session)
    answer = open_case(client, agent, book, **overrides)
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code
    assert written(session) == before


def test_full_width_and_traditional_input_is_read(client: TestClient, as_role, book: Book) -> None:
    answer = open_case(client, as_role("agent"), book, monthly_capacity="１５００", notes="借款人說收入減少")
    assert answer.status_code == 201, answer.text
    assert answer.json()["monthly_capacity"] == "1500.00"


def test_settled_loan_and_unverified_ticket_are_refused(
    client: TestClient, as_role, session: Session
) -> None:
    unverified = hardship_book(session, sequence=2, verified=False)
    agent = as_role("agent")
    before = written(session)
    answer = open_case(client, agent, unverified)
    assert answer.status_code == 403 and answer.json()["code"] == "verification_required"
    session.execute(update(Loan).where(Loan.id == unverified.loan_id).values(status="settled"))
    session.commit()
    settled = hardship_book(session, sequence=3)
    session.execute(update(Loan).where(Loan.id == settled.loan_id).values(status="settled"))
    session.commit()
    before = written(session)
    answer = open_case(client, agent, settled)
    assert answer.status_code == 409 and answer.json()["code"] == "loan_settled"
    assert written(session) == before


def test_an_agent_cannot_open_a_case_on_someone_elses_ticket(
    client: TestClient, as_role, session: Session
) -> None:
    theirs = hardship_book(session, sequence=4, owner="team_lead")
    agent = as_role("agent")
    before = written(session)
    answer = open_case(client, agent, theirs)
    assert answer.status_code == 403 and answer.json()["code"] == "not_your_ticket"
    assert written(session) == before


def test_option_from_another_case_is_refused(
    client: TestClient, as_role, session: Session, book: Book
) -> None:
    other = hardship_book(session, sequence=5)
    agent = as_role("agent")
    first = open_case(client, agent, book).json()["case_id"]
    second = open_case(client, agent, other).json()["case_id"]
    foreign = option_of(client.get(f"{API}/cases/{second}/options", headers=agent).json(), "extension")
    before = written(session)
    answer = client.post(
        f"{API}/cases/{first}/proposals", json={"option_id": foreign["option_id"]}, headers=agent
    )
    assert answer.status_code == 422 and answer.json()["code"] == "option_not_in_case"
    assert written(session) == before


def test_authority_cannot_be_bypassed(client: TestClient, as_role, session: Session, book: Book) -> None:
    agent, lead, compliance = as_role("agent"), as_role("team_lead"), as_role("compliance")
    case_id = open_case(client, agent, book).json()["case_id"]
    proposal = propose_kind(client, agent, case_id, "reinstalment").json()
    assert proposal["status"] == "pending_approval"
    proposal_id = proposal["proposal_id"]
    acceptance = {"channel": "phone", "evidence_text": "同意", "accepted_at": NOW.isoformat()}

    before = written(session)
    early = client.post(f"{API}/proposals/{proposal_id}/accept", json=acceptance, headers=agent)
    assert early.status_code == 409 and early.json()["code"] == "proposal_not_approved"
    self_approval = client.post(f"{API}/proposals/{proposal_id}/approve", json={}, headers=agent)
    assert self_approval.status_code == 403
    assert written(session) == before

    # A team lead's own proposal beyond the team lead's authority waits for compliance …
    suspension = propose_kind(client, lead, case_id, "interest_suspension").json()
    assert suspension["status"] == "pending_approval" and suspension["approval"] == "compliance"
    before = written(session)
    own = client.post(f"{API}/proposals/{suspension['proposal_id']}/approve", json={}, headers=lead)
    assert own.status_code == 403 and own.json()["code"] == "own_proposal"
    assert written(session) == before
    # … and compliance approves it, but only once.
    ok = client.post(
        f"{API}/proposals/{suspension['proposal_id']}/approve", json={"comment": "ok"}, headers=compliance
    )
    assert ok.status_code == 200
    again = client.post(f"{API}/proposals/{suspension['proposal_id']}/approve", json={}, headers=compliance)
    assert again.status_code == 409 and again.json()["code"] == "proposal_decided"
    # The agent's earlier proposal was withdrawn by the newer one.
    withdrawn = client.post(f"{API}/proposals/{proposal_id}/approve", json={}, headers=lead)
    assert withdrawn.status_code == 409


def test_team_lead_cannot_approve_a_compliance_proposal(client: TestClient, as_role, book: Book) -> None:
    agent, lead = as_role("agent"), as_role("team_lead")
    case_id = open_case(client, agent, book).json()["case_id"]
    suspension = propose_kind(client, agent, case_id, "interest_suspension").json()
    answer = client.post(f"{API}/proposals/{suspension['proposal_id']}/approve", json={}, headers=lead)
    assert answer.status_code == 403 and answer.json()["code"] == "approval_level"
    assert [p["proposal_id"] for p in client.get(f"{API}/approvals", headers=lead).json()] == []


def test_reject_needs_a_comment(client: TestClient, as_role, book: Book) -> None:
    agent, lead = as_role("agent"), as_role("team_lead")
    case_id = open_case(client, agent, book).json()["case_id"]
    proposal_id = propose_kind(client, agent, case_id, "reinstalment").json()["proposal_id"]
    assert client.post(f"{API}/proposals/{proposal_id}/reject", json={}, headers=lead).status_code == 422
    rejected = client.post(
        f"{API}/proposals/{proposal_id}/reject", json={"comment": "收入证明不足"}, headers=lead
    )
    assert rejected.json()["status"] == "rejected" and rejected.json()["decision_comment"] == "收入证明不足"


def accepted_agreement(client: TestClient, as_role, book: Book, kind: str = "extension") -> dict[str, Any]:
    agent = as_role("agent")
    case_id = open_case(client, agent, book).json()["case_id"]
    proposal = propose_kind(client, agent, case_id, kind).json()
    assert proposal["status"] == "approved", proposal  # within the agent's own authority
    answer = client.post(
        f"{API}/proposals/{proposal['proposal_id']}/accept",
        json={"channel": "wechat", "evidence_text": "好的，同意展期", "accepted_at": NOW.isoformat()},
        headers=agent,
    )
    assert answer.status_code == 201, answer.text
    return {"proposal_id": proposal["proposal_id"], **answer.json()}


def test_accepting_twice_is_refused(client: TestClient, as_role, session: Session, book: Book) -> None:
    first = accepted_agreement(client, as_role, book)
    as_role("agent")
    before = written(session)
    again = client.post(
        f"{API}/proposals/{first['proposal_id']}/accept",
        json={"channel": "wechat", "evidence_text": "同意", "accepted_at": NOW.isoformat()},
        headers=as_role("agent"),
    )
    assert again.status_code == 409 and again.json()["code"] == "already_accepted"
    assert written(session) == before


@pytest.mark.parametrize(
    ("acceptance", "code"),
    [
        ({"channel": "pigeon"}, "unknown_channel"),
        ({"accepted_at": "2030-01-01T00:00:00+08:00"}, "accepted_at_out_of_range"),
        ({"accepted_at": "2026-11-24T10:00:00"}, "accepted_at_naive"),
        ({"evidence_text": "   "}, "evidence_text_required"),
    ],
)
def test_bad_acceptance_is_refused(
    client: TestClient, as_role, session: Session, book: Book, acceptance: dict[str, str], code: str
) -> None:
    agent = as_role("agent")
    case_id = open_case(client, agent, book).json()["case_id"]
    proposal_id = propose_kind(client, agent, case_id, "extension").json()["proposal_id"]
    before = written(session)
    body = {"channel": "sms", "evidence_text": "同意", "accepted_at": NOW.isoformat(), **acceptance}
    answer = client.post(f"{API}/proposals/{proposal_id}/accept", json=body, headers=agent)
    assert answer.status_code == 422 and answer.json()["code"] == code
    assert written(session) == before


def test_tampering_with_any_agreement_is_named(client: TestClient, as_role, session: Session) -> None:
    books = [hardship_book(session, sequence=10 + index) for index in range(3)]
    numbers = [accepted_agreement(client, as_role, one)["agreement_number"] for one in books]
    lead = as_role("team_lead")
    assert client.get(f"{API}/agreements/verify", headers=lead).json()["ok"] is True
    session.execute(
        update(Agreement)
        .where(Agreement.number == numbers[1])
        .values(text_zh=func.replace(Agreement.text_zh, "展期", "延期"))
    )
    session.commit()
    check = client.get(f"{API}/agreements/verify", headers=lead).json()
    assert check == {"ok": False, "checked": 2, "first_tampered": numbers[1], "reason": "hash"}


def test_waiver_within_agent_authority_is_posted_as_a_ledger_waiver(
    client: TestClient, as_role, session: Session, book: Book
) -> None:
    agreement = accepted_agreement(client, as_role, book, kind="waiver")
    session.expire_all()
    waivers = session.scalars(select(Waiver).where(Waiver.loan_id == book.loan_id)).all()
    assert [w.status for w in waivers] == ["applied", "applied"]
    assert agreement["agreement_number"].startswith("XY20261124")


def test_without_a_ticket_number_the_agents_own_ticket_is_used(
    client: TestClient, as_role, book: Book
) -> None:
    answer = open_case(client, as_role("agent"), book, ticket_number=None)
    assert answer.status_code == 201, answer.text
    assert answer.json()["ticket_number"] == book.ticket_number
    lead = open_case(client, as_role("team_lead"), book, ticket_number=None)
    assert lead.status_code == 422 and lead.json()["code"] == "ticket_required"
