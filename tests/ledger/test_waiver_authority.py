"""The single-person waiver limit adds up: per person, per loan, over a rolling window; what passes it
in total waits for a second person — also when the waivers arrive at once (SQLite here; PostgreSQL in
tests/integration/test_ledger_paths_postgres.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.db import session_factory
from lenddesk.core.policy import get_policy
from lenddesk.core.settings import get_settings
from lenddesk.ledger import service
from tests.ledger.paths_support import FIRST_DUE, LEAD, new_loan, waivers_past_the_limit_at_once

AGENT_A = audit.Actor(user_id=None, name="agent-a", role="agent")
AGENT_B = audit.Actor(user_id=None, name="agent-b", role="agent")
DAY = FIRST_DUE + timedelta(days=70)  # three instalments due: about 500.00 of interest owed


def ask(session: Session, contract: str, actor: audit.Actor, amount_fen: int, today=DAY) -> str:  # type: ignore[no-untyped-def]
    waiver = service.request_waiver(
        session,
        actor=actor,
        contract_number=contract,
        component="interest",
        amount_fen=amount_fen,
        reason="客户困难",
        today=today,
    )
    session.commit()
    return waiver.status


def test_three_waivers_of_60_by_one_agent_apply_100_at_most_alone(
    client: TestClient, as_role, book, agent_ticket
) -> None:  # type: ignore[no-untyped-def]
    """Issue 17, finding 2: each 60.00 waiver used to apply alone (180.00 in all, past 100.00)."""
    url = f"/api/v1/ledger/loans/{book['contract']}/waivers"
    body = {"component": "interest", "amount": "60.00", "reason": "协商"}
    answers = [client.post(url, json=body, headers=as_role("agent")) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 201], answers[-1].text
    assert [a.json()["status"] for a in answers] == ["applied", "requested", "requested"]
    assert [a.json()["approved_by"] for a in answers] == ["agent", None, None]
    loan = client.get(f"/api/v1/ledger/loans/{book['contract']}", headers=as_role("team_lead")).json()
    assert sum(float(line["waived"]) for line in loan["lines"]) == 60.0


def test_each_person_has_their_own_limit_and_approved_waivers_do_not_count(engine: Engine) -> None:
    contract = new_loan(engine, product_code="LIM")
    with session_factory(engine)() as session:
        assert ask(session, contract, AGENT_A, 10_000) == "applied"  # exactly the limit
        assert ask(session, contract, AGENT_A, 1) == "requested"  # one fen past it
        assert ask(session, contract, AGENT_B, 6_000) == "applied"  # another person's own limit
        held = ask(session, contract, AGENT_B, 6_000)
        assert held == "requested"
        waivers = service.loan_detail(session, contract_number=contract, today=DAY).waivers
        second = next(w for w in waivers if w.requested_by == "agent-b" and w.status == "requested")
        service.approve_waiver(session, actor=LEAD, waiver_id=second.id, today=DAY)
        session.commit()
        # approved by a second person: outside agent-b's own total, which stays 60.00
        loan_id = service.loan_by_contract(session, contract).id
        assert service.waived_alone_fen(session, loan_id=loan_id, person="agent-b", today=DAY) == 6_000
        assert ask(session, contract, AGENT_B, 4_000) == "applied"


@pytest.fixture
def policy_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    path = tmp_path / "policy.toml"
    monkeypatch.setenv("LENDDESK_POLICY_FILE", str(path))
    get_settings.cache_clear()
    get_policy.cache_clear()
    yield path
    monkeypatch.delenv("LENDDESK_POLICY_FILE")
    get_settings.cache_clear()
    get_policy.cache_clear()


@pytest.mark.parametrize(
    ("window", "later", "second"), [(30, 29, "requested"), (30, 30, "applied"), (7, 7, "applied")]
)
def test_the_window_is_rolling_and_set_by_the_policy(
    engine: Engine, policy_file: Path, window: int, later: int, second: str
) -> None:
    policy_file.write_text(f"[ledger]\nwaiver_single_approval_window_days = {window}\n")
    assert get_policy().ledger.waiver_single_approval_window_days == window
    contract = new_loan(engine, product_code="LIM")
    first_day = DAY - timedelta(days=later)
    with session_factory(engine)() as session:
        assert ask(session, contract, AGENT_A, 8_000, today=first_day) == "applied"
        assert ask(session, contract, AGENT_A, 8_000, today=DAY) == second


def test_one_agent_sending_waivers_at_once_applies_no_more_than_the_limit_alone(engine: Engine) -> None:
    result = waivers_past_the_limit_at_once(engine, people=1, each=6)
    assert result["refused"] == 0
    assert result["per_person"] == {"agent0": {"applied_alone": 8_000, "held": 4}}
    assert result["applied"] == result["on_lines"] == 8_000
    assert result["answers"] == ["applied"] * 2 + ["requested"] * 4


def test_two_agents_sending_waivers_at_once_each_stay_within_their_limit(engine: Engine) -> None:
    result = waivers_past_the_limit_at_once(engine, people=2, each=3)
    assert result["refused"] == 0
    for person in ("agent0", "agent1"):
        assert result["per_person"][person] == {"applied_alone": 8_000, "held": 1}
    assert result["applied"] == result["on_lines"] == 16_000
