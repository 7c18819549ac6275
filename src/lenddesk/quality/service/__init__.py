"""Use cases of the quality room: automatic QA of stored conversations, the review queue, the
per-item disagreement record and the case library. Keyword-only functions taking a Session; they
never commit.

Writes that two runs could race on are single statements: a score is an upsert on the ticket
(`ON CONFLICT (ticket_id) DO UPDATE … WHERE` the fingerprint changed), a review an insert that does
nothing when the ticket already has one, a verdict a conditional UPDATE on the review's status.

One module per use case: `scoring` (automatic QA), `reviews` (the review queue), `cases` (the
case library); `policy` is what they read of the quality policy.
"""

from __future__ import annotations

from lenddesk.quality.service.cases import (
    CASE_KINDS,
    save_case,
    search_cases,
)
from lenddesk.quality.service.policy import (
    ENDED,
    REVIEWERS,
    RUBRIC_LOGIC,
    quality_policy,
    rubric_version,
    rubric_weights,
    score_transcript,
)
from lenddesk.quality.service.reviews import (
    Disagreement,
    ItemVerdictIn,
    ReviewDetail,
    ReviewEntry,
    ReviewRow,
    acknowledge_review,
    disagreements,
    mask_identifiers,
    open_review,
    open_reviews,
    require_reviewer,
    review_detail,
    review_queue,
    sample_quiet_agents,
    submit_review,
    week_start,
)
from lenddesk.quality.service.scoring import (
    SCORE_COLUMNS,
    ScoreRun,
    add_runs,
    changed_ticket_ids,
    review_low_csat,
    score_changed,
    score_chunk,
    score_on_resolution,
    score_tickets,
)

__all__ = [
    "CASE_KINDS",
    "ENDED",
    "REVIEWERS",
    "RUBRIC_LOGIC",
    "SCORE_COLUMNS",
    "Disagreement",
    "ItemVerdictIn",
    "ReviewDetail",
    "ReviewEntry",
    "ReviewRow",
    "ScoreRun",
    "acknowledge_review",
    "add_runs",
    "changed_ticket_ids",
    "disagreements",
    "mask_identifiers",
    "open_review",
    "open_reviews",
    "quality_policy",
    "require_reviewer",
    "review_detail",
    "review_low_csat",
    "review_queue",
    "rubric_version",
    "rubric_weights",
    "sample_quiet_agents",
    "save_case",
    "score_changed",
    "score_chunk",
    "score_on_resolution",
    "score_tickets",
    "score_transcript",
    "search_cases",
    "submit_review",
    "week_start",
]
