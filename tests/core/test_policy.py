from pathlib import Path

import pytest

from lenddesk.app import create_app
from lenddesk.core.errors import ConfigurationError
from lenddesk.core.policy import get_policy, load_policy
from lenddesk.core.settings import get_settings


def test_defaults_without_a_file() -> None:
    policy = load_policy(None)
    assert policy.auth.lockout_attempts == 5
    assert policy.money.rounding == "half_up"


def test_a_good_file_overrides_defaults(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[auth]\nlockout_attempts = 3\n[money]\nrounding = 'half_even'\n")
    policy = load_policy(path)
    assert policy.auth.lockout_attempts == 3
    assert policy.money.rounding == "half_even"


def test_unknown_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[auth]\nlockout_attemps = 3\n")
    with pytest.raises(ConfigurationError, match=r"auth\.lockout_attemps"):
        load_policy(path)


def test_bad_value_is_named(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[money]\nrounding = 'banker'\n")
    with pytest.raises(ConfigurationError, match=r"money\.rounding"):
        load_policy(path)


def test_bad_policy_file_stops_start_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[desk]\nno_such_rule = 1\n")
    monkeypatch.setenv("LENDDESK_POLICY_FILE", str(path))
    get_settings.cache_clear()
    get_policy.cache_clear()
    try:
        with pytest.raises(ConfigurationError, match=r"desk\.no_such_rule"):
            create_app(database_url=f"sqlite:///{tmp_path / 'x.db'}")
    finally:
        monkeypatch.delenv("LENDDESK_POLICY_FILE")
        get_settings.cache_clear()
        get_policy.cache_clear()
