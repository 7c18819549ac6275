"""Scheduled work of the quality room: the nightly QA of every changed conversation and the weekly
sampling floor (no agent goes a week without a reviewed conversation)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from lenddesk.quality import service


def score_changed(session: Session, *, now: datetime, rescore: bool = False) -> service.ScoreRun:
    """Score every ended ticket that is new or changed since its score (and, with `rescore`, every one
    scored under another rubric). Commits per chunk of 1,000 tickets, so a crash resumes where it
    stopped; a second run writes nothing."""
    return service.score_changed(session, now=now, rescore=rescore, commit_chunks=True)


def sample_quiet_agents(session: Session, *, now: datetime) -> int:
    """Give every agent with scored conversations this week (Monday, Shanghai) one in the queue."""
    return service.sample_quiet_agents(session, since=service.week_start(now), now=now)
