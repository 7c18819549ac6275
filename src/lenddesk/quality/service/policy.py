"""The quality policy as the use cases read it: the rubric's weights and its version fingerprint."""

from __future__ import annotations

import hashlib
import json

from lenddesk.core.policy import QualityPolicy, get_policy
from lenddesk.quality import roles, rubric

# Bump when a check's logic changes, so `lenddesk quality rescore` re-scores what it judged.
RUBRIC_LOGIC = "2026-12-08.1"  # issue 19: the item definitions, read as four reviewers read them
REVIEWERS = frozenset(roles.REVIEWERS) | {"admin"}
ENDED = ("resolved", "closed")


def quality_policy() -> QualityPolicy:
    return get_policy().quality


def rubric_weights() -> dict[str, int]:
    return {item.code: item.weight for item in quality_policy().rubric}


def rubric_version() -> str:
    policy = quality_policy()
    payload = json.dumps([RUBRIC_LOGIC, sorted(rubric_weights().items()), policy.severe_zeroes_score])
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def score_transcript(conversation: rubric.Conversation) -> rubric.Score:
    """Score any transcript against the policy's rubric (calibration; nothing is stored)."""
    return rubric.score(
        conversation, rubric_weights(), severe_zeroes_score=quality_policy().severe_zeroes_score
    )
