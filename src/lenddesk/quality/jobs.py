"""Scheduled work of the quality room: the nightly QA of every changed conversation and the weekly
sampling floor (no agent goes a week without a reviewed conversation)."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime

from sqlalchemy.orm import Session

from lenddesk.core.gc_threshold import raised_for_bulk_work
from lenddesk.quality import service

CHUNK = 1000


def score_changed(
    session: Session, *, now: datetime, rescore: bool = False, workers: int = 1
) -> service.ScoreRun:
    """Score every ended ticket that is new or changed since its score (and, with `rescore`, every one
    scored under another rubric). Commits per chunk of 1,000 tickets, so a crash resumes where it
    stopped; a second run writes nothing.

    With `workers` > 1 the tickets to score are split into that many id ranges, each scored by its
    own process on its own connection (scoring is CPU-bound; the writes stay single statements per
    chunk, safe under any overlap).
    """
    if workers <= 1:
        return _score_in_chunks(session, now=now, rescore=rescore)
    ids: list[int] = []
    while batch := service.changed_ticket_ids(
        session, rescore=rescore, after=ids[-1] if ids else 0, limit=50_000
    ):
        ids += batch
    session.commit()
    if not ids:
        return service.ScoreRun()
    url = session.get_bind().url.render_as_string(hide_password=False)
    size = -(-len(ids) // workers)
    slices = [ids[start : start + size] for start in range(0, len(ids), size)]
    total = service.ScoreRun()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(slices), mp_context=context) as pool:
        for run in pool.map(_score_slice, [url] * len(slices), slices, [now] * len(slices)):
            service.add_runs(total, run)
    return total


def _score_in_chunks(session: Session, *, now: datetime, rescore: bool) -> service.ScoreRun:
    """One process: a chunk of 1,000 tickets at a time, committed after each (resumable)."""
    total = service.ScoreRun()
    after = 0
    with raised_for_bulk_work():
        while ids := service.changed_ticket_ids(session, rescore=rescore, after=after, limit=CHUNK):
            service.add_runs(total, service.score_chunk(session, ticket_ids=ids, now=now))
            session.commit()
            after = ids[-1]
    return total


def _score_slice(url: str, ids: list[int], now: datetime) -> service.ScoreRun:
    from lenddesk.core.db import make_engine, session_factory

    engine = make_engine(url)
    total = service.ScoreRun()
    try:
        with session_factory(engine)() as session, raised_for_bulk_work():
            for start in range(0, len(ids), CHUNK):
                service.add_runs(
                    total, service.score_chunk(session, ticket_ids=ids[start : start + CHUNK], now=now)
                )
                session.commit()
    finally:
        engine.dispose()
    return total


def sample_quiet_agents(session: Session, *, now: datetime) -> int:
    """Give every agent with scored conversations this week (Monday, Shanghai) one in the queue."""
    return service.sample_quiet_agents(session, since=service.week_start(now), now=now)
