"""The [ledger] policy keys change what the ledger does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from lenddesk.core.errors import ConfigurationError
from lenddesk.core.policy import get_policy, load_policy
from lenddesk.core.settings import get_settings
from lenddesk.ledger import service
from lenddesk.ledger.service._common import _lines
from tests.ledger import factories


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


def test_pii_full_roles_lets_a_role_see_full_id_numbers(session: Session, policy_file: Path) -> None:
    policy_file.write_text('[ledger]\npii_full_roles = ["agent", "compliance", "admin"]\n')
    borrower = factories.borrower(session)
    assert service.borrower_360(
        session, borrower_id=borrower.id, role="agent", today=date(2026, 3, 1)
    ).full_pii
    view = service.borrower_360(session, borrower_id=borrower.id, role="team_lead", today=date(2026, 3, 1))
    assert view.id_number != borrower.id_number


def test_component_style_pays_every_penalty_before_any_interest(session: Session, policy_file: Path) -> None:
    policy_file.write_text('[ledger]\nallocation_style = "component"\n')
    factories.product(session)
    loan = factories.loan(session)
    lines = _lines(session, loan.id)
    lines[0].penalty_fen, lines[1].penalty_fen = 300, 200
    today = date(2026, 3, 20)
    result = service.post_repayment(
        session,
        actor=factories.AGENT,
        contract_number=loan.contract_number,
        channel="counter",
        external_reference="C-1",
        amount_fen=600,
        value_date=today,
        today=today,
    )
    # Both penalties first (oldest first), then interest with what is left.
    allocation = [(e["period"], e["penalty"], e["interest"]) for e in result.repayment.allocation]
    assert allocation == [(1, 300, 100), (2, 200, 0)]


def test_an_unknown_role_in_the_ledger_policy_is_named(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('[ledger]\npii_full_roles = ["complaince"]\n')
    with pytest.raises(ConfigurationError, match=r"ledger\.pii_full_roles"):
        load_policy(path)
