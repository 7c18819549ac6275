"""The [risk] policy section: the documented block is the default, and nonsense is refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lenddesk.core.errors import ConfigurationError
from lenddesk.core.policy import RiskPolicy, load_policy

DOCS = Path(__file__).resolve().parents[2] / "docs" / "POLICY.md"


def test_the_documented_risk_section_is_the_default(tmp_path: Path) -> None:
    block = next(b for b in re.findall(r"```toml\n(.*?)```", DOCS.read_text(), re.S) if "[risk]" in b)
    path = tmp_path / "policy.toml"
    path.write_text(block, encoding="utf-8")
    assert load_policy(path).risk == RiskPolicy()


@pytest.mark.parametrize(
    "body",
    [
        "medium_from = 70\nhigh_from = 60",
        "dpd_points = [[8, 20], [1, 10]]",
        'blacklist_approver_roles = ["risk_officer"]',
    ],
)
def test_a_bad_risk_section_stops_start_up(tmp_path: Path, body: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(f"[risk]\n{body}\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="risk"):
        load_policy(path)
