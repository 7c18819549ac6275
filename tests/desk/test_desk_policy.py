"""The [desk] policy section: the documented example loads, and bad SLA fallbacks stop start-up."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lenddesk.core.errors import ConfigurationError
from lenddesk.core.policy import DeskPolicy, load_policy

DOCS = Path(__file__).resolve().parents[2] / "docs" / "POLICY.md"


def test_the_documented_desk_section_is_the_default(tmp_path: Path) -> None:
    block = next(b for b in re.findall(r"```toml\n(.*?)```", DOCS.read_text(), re.S) if "[desk]" in b)
    path = tmp_path / "policy.toml"
    path.write_text(block, encoding="utf-8")
    assert load_policy(path).desk == DeskPolicy()


def test_a_fallback_sla_missing_a_severity_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[desk]\ndefault_sla = { P1 = [15, 240] }\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"desk\.default_sla"):
        load_policy(path)
