"""The [incidents] policy section: the documented block is the default, and nonsense is refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lenddesk.core.errors import ConfigurationError
from lenddesk.core.policy import IncidentsPolicy, load_policy
from lenddesk.incidents import rules
from tests.incidents.conftest import LEAK_NOTICE

DOCS = Path(__file__).resolve().parents[2] / "docs" / "POLICY.md"


def test_the_documented_incidents_section_is_the_default(tmp_path: Path) -> None:
    block = next(b for b in re.findall(r"```toml\n(.*?)```", DOCS.read_text(), re.S) if "[incidents]" in b)
    path = tmp_path / "policy.toml"
    path.write_text(block, encoding="utf-8")
    assert load_policy(path).incidents == IncidentsPolicy()


@pytest.mark.parametrize(
    "body",
    [
        '[[incidents.runbooks.outage]]\ncode = "Bad Code"\ntitle = "x"',
        "[incidents.runbooks]\noutage = []\ndata_leak = []\nfund_risk = []",
        '[[incidents.runbooks.meteor]]\ncode = "look_up"\ntitle = "x"',
        '[incidents.leak_notice_elements]\nwhat_happened = ["发生"]',
    ],
)
def test_a_bad_incidents_section_stops_start_up(tmp_path: Path, body: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(f"[incidents]\n{body}\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="incidents"):
        load_policy(path)


def test_a_complete_leak_notice_lacks_nothing_and_each_element_is_needed() -> None:
    phrases = IncidentsPolicy().leak_notice_elements
    assert rules.missing_leak_elements(LEAK_NOTICE, phrases) == []
    assert rules.missing_leak_elements(
        LEAK_NOTICE.replace("谨防诈骗", "").replace("不会索要", "不会要"), phrases
    ) == ["anti_scam"]
    assert rules.missing_leak_elements("我们发现异常。联系电话 95188。", phrases) == [
        "data_involved",
        "our_measures",
        "your_actions",
        "anti_scam",
    ]
    assert (
        rules.missing_leak_elements("ｗｅ 客服热线 ４００８００１２３４ 我们发现", phrases)[-1] == "anti_scam"
    )  # full width


def test_the_scope_by_product() -> None:
    assert rules.in_scope(None, [])
    assert rules.in_scope(["A"], ["B", "A"])
    assert not rules.in_scope(["A"], ["B"])
    assert not rules.in_scope(["A"], [])
