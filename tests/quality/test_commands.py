"""`lenddesk quality score-changed` and `sample-agents` as the nightly and weekly jobs run them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from lenddesk.desk.models import Notification
from lenddesk.quality.models import QaReview, QaScore
from tests.quality.conftest import GOOD_AGENT, GOOD_BORROWER


def run_cli(db_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LENDDESK_DATABASE_URL": db_url}
    return subprocess.run(
        [sys.executable, "-m", "lenddesk.cli", "quality", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )


def test_the_nightly_command_scores_what_is_missing_once(
    work_ticket, session: Session, db_url: str, tmp_path: Path, desk_data
) -> None:
    work_ticket(GOOD_BORROWER, GOOD_AGENT, sender="13900000001")
    work_ticket(["你好"], ["你这个废物"], sender="13900000002")
    for table in (QaReview, Notification, QaScore):
        session.execute(delete(table))
    session.commit()
    first = run_cli(db_url, tmp_path, "score-changed", "--workers", "2", "--at", "2026-11-25T02:00:00")
    assert first.returncode == 0, first.stderr
    assert "read: 2  written: 2  severe: 1" in first.stdout and "severe 1" in first.stdout
    again = run_cli(db_url, tmp_path, "score-changed", "--rescore")
    assert again.returncode == 0 and "written: 0" in again.stdout
    session.expire_all()
    assert session.scalar(select(func.count(QaScore.id))) == 2
    sampled = run_cli(db_url, tmp_path, "sample-agents", "--at", "2026-11-25T10:00:00")
    assert sampled.returncode == 0, sampled.stderr
    assert "reviews opened: 0" in sampled.stdout  # the agent already has the severe one in the queue
