"""Generated keys: workers started side by side share one key, and an empty key file is refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lenddesk.core import settings as settings_module
from lenddesk.core.errors import ConfigurationError

PRINT_KEY = "from lenddesk.core.settings import get_settings; print(get_settings().resolved_secret_key())"


def test_workers_starting_together_agree_on_the_generated_key(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "LENDDESK_SECRET_KEY"}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", PRINT_KEY], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(6)
    ]
    keys = {worker.communicate(timeout=60)[0].strip() for worker in workers}
    assert len(keys) == 1
    assert keys == {(tmp_path / ".lenddesk_secret").read_text().strip()}
    assert oct((tmp_path / ".lenddesk_secret").stat().st_mode & 0o777) == "0o600"


def test_an_empty_key_file_is_refused_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings_module, "_generated_keys", {})
    monkeypatch.setattr(settings_module.time, "sleep", lambda _seconds: None)
    (tmp_path / ".lenddesk_empty_key").write_text("")
    with pytest.raises(ConfigurationError, match="empty"):
        settings_module._generated_key(tmp_path / ".lenddesk_empty_key")
