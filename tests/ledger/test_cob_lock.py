"""Only one close of business runs at a time on a database; a second one is refused clearly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lenddesk.core.db import upgrade_database
from lenddesk.core.locks import database_job, job_lock


def cob_cli(url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LENDDESK_DATABASE_URL": url, "COLUMNS": "200"}
    env.pop("LENDDESK_REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "lenddesk.cli", "cob", "--date", "2026-03-02"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )


def test_a_second_cob_is_refused_while_one_runs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'book.db'}"
    upgrade_database(url)
    with job_lock(database_job("cob", url), redis_url=""):
        refused = cob_cli(url, tmp_path)
    assert refused.returncode == 2
    assert "already running" in refused.stdout
    done = cob_cli(url, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
