"""Exact, stable schedules: the policy's rounding everywhere, original amounts kept through replays,
and a back-dated early repayment that no longer fits refused instead of silently re-interpreted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from lenddesk.cli import app
from lenddesk.core.errors import Conflict
from lenddesk.core.policy import get_policy
from lenddesk.core.settings import get_settings
from lenddesk.ledger import service
from lenddesk.ledger.models import ScheduleLine
from lenddesk.ledger.schedule import generate_schedule
from tests.ledger import factories
from tests.ledger.conftest import TODAY, repay
from tests.ledger.factories import AGENT, LEAD


@pytest.fixture
def policy_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "policy.toml"
    monkeypatch.setenv("LENDDESK_POLICY_FILE", str(path))
    get_settings.cache_clear()
    get_policy.cache_clear()
    yield path
    monkeypatch.delenv("LENDDESK_POLICY_FILE")
    get_settings.cache_clear()
    get_policy.cache_clear()


def principals(principal_fen: int, term: int, rounding: str) -> list[int]:
    lines = generate_schedule(
        principal_fen=principal_fen,
        annual_rate=Decimal("0.12"),
        term=term,
        method="equal_principal",
        start_date=date(2026, 1, 15),
        rounding=rounding,  # type: ignore[arg-type]
    )
    return [line.principal_fen for line in lines]


def test_equal_principal_rounds_with_the_rule_instead_of_flooring() -> None:
    assert principals(200_000, 3, "half_up") == [66_667, 66_667, 66_666]  # was 666.66, 666.66, 666.68
    assert principals(10_001, 2, "half_up") == [5_001, 5_000]
    assert principals(10_001, 2, "half_even") == [5_000, 5_001]
    assert principals(181, 360, "half_up")[-1] >= 0  # rounding up never overdraws the balance
    assert sum(principals(181, 360, "half_up")) == 181


CALC = ["calc", "--principal", "1000.00", "--rate", "0.00126", "--term", "1", "--method", "bullet"]


def test_lenddesk_calc_rounds_by_the_policy(policy_file: Path) -> None:
    """1,000.00 × 0.126 % / 12 = 10.5 fen of interest: 0.11 half-up, 0.10 half-even."""
    command = [*CALC, "--start", "2026-01-15"]
    policy_file.write_text('[money]\nrounding = "half_even"\n')
    result = CliRunner().invoke(app, command, env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "利息合计 total interest: 0.10" in result.output
    policy_file.write_text('[money]\nrounding = "half_up"\n')
    get_policy.cache_clear()
    result = CliRunner().invoke(app, command, env={"COLUMNS": "160"})
    assert "利息合计 total interest: 0.11" in result.output


def test_the_ledger_rounds_a_new_loan_by_the_policy(session: Session, policy_file: Path) -> None:
    policy_file.write_text('[money]\nrounding = "half_even"\n')
    factories.product(session, code="TINY", annual_rate=Decimal("0.00126"), term=1, method="bullet")
    loan = factories.loan(session, product_code="TINY", principal_fen=100_000, disbursed_on=date(2026, 1, 15))
    line = session.scalars(select(ScheduleLine).where(ScheduleLine.loan_id == loan.id)).one()
    assert line.interest_fen == 10


def test_replaying_a_bullet_loan_keeps_its_original_interest(session: Session) -> None:
    """Matured on a set date exactly three months on, its interest runs by actual days (90/365):
    443.84; a replay regenerated it as a regular quarter, 450.00."""
    factories.product(session, code="BL3", annual_rate=Decimal("0.18"), term=3, method="bullet")
    loan = factories.loan(
        session,
        product_code="BL3",
        principal_fen=1_000_000,
        disbursed_on=date(2026, 1, 15),
        first_due_on=date(2026, 4, 15),
    )
    line = session.scalars(select(ScheduleLine).where(ScheduleLine.loan_id == loan.id)).one()
    assert line.interest_fen == 44_384
    posted = service.post_repayment(
        session,
        actor=AGENT,
        contract_number=loan.contract_number,
        channel="alipay",
        external_reference="BL-1",
        amount_fen=10_000,
        value_date=date(2026, 2, 1),
        today=date(2026, 2, 1),
    )
    service.request_reversal(session, actor=AGENT, repayment_id=posted.repayment.id, reason="重复入账")
    service.approve_reversal(session, actor=LEAD, repayment_id=posted.repayment.id, today=date(2026, 2, 2))
    session.refresh(line)
    assert (line.principal_fen, line.interest_fen) == (1_000_000, 44_384)
    assert (line.original_principal_fen, line.original_interest_fen) == (1_000_000, 44_384)


def test_a_back_dated_early_settlement_behind_a_later_payment_is_refused(session: Session) -> None:
    factories.product(session)
    loan = factories.loan(session, disbursed_on=date(2026, 1, 15))
    later = date(2026, 2, 15)
    service.post_repayment(
        session,
        actor=AGENT,
        contract_number=loan.contract_number,
        channel="alipay",
        external_reference="LATER",
        amount_fen=10_000,
        value_date=later,
        today=later,
    )
    earlier = date(2026, 2, 10)
    # What the quote says today, for a date before the 2026-02-15 payment: not enough once that
    # payment is put back after it.
    quote = service.settlement_quote(session, contract_number=loan.contract_number, on=earlier)
    with pytest.raises(Conflict) as caught:
        service.post_repayment(
            session,
            actor=AGENT,
            contract_number=loan.contract_number,
            channel="alipay",
            external_reference="SETTLE-BACKDATED",
            amount_fen=quote.total_fen,
            value_date=earlier,
            today=later,
            kind="early_full",
        )
    assert caught.value.code == "prepayment_behind_later_payment"
    assert "2026-02-10" in caught.value.message_zh and "2026-02-10" in caught.value.message_en


def test_the_api_refuses_a_back_dated_settlement_and_writes_nothing(
    client: TestClient, as_role, book, agent_ticket
) -> None:  # type: ignore[no-untyped-def]
    agent = as_role("agent")
    assert repay(client, agent, book["contract"], "100.00", "API-LATER").status_code == 201
    earlier = TODAY - timedelta(days=5)
    quote = client.get(
        f"/api/v1/ledger/loans/{book['contract']}/settlement-quote",
        params={"on": earlier.isoformat()},
        headers=agent,
    )
    assert quote.status_code == 200, quote.text
    before = client.get(f"/api/v1/ledger/loans/{book['contract']}", headers=agent).json()

    answer = repay(
        client, agent, book["contract"], quote.json()["settlement"]["total"], "API-SETTLE",
        value_date=earlier.isoformat(), kind="early_full",
    )  # fmt: skip

    assert answer.status_code == 409, answer.text
    body = answer.json()
    assert body["code"] == "prepayment_behind_later_payment"
    assert body["message_zh"] and body["message_en"]
    after = client.get(f"/api/v1/ledger/loans/{book['contract']}", headers=agent).json()
    assert after == before
