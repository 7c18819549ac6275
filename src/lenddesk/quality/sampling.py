"""Which scored conversations a person reviews, and why. Pure.

Every severe one, every complaint, every one the borrower rated low, every one under the policy's
low score, and a share of the rest drawn by a hash of the ticket id: the draw is the same every
time the conversation is scored (QA stays idempotent) and the same share of each agent's work
(stratified per agent), with no agent left unsampled in a week (see service.sample_quiet_agents).
"""

from __future__ import annotations

import hashlib

REASON_ORDER = ("severe", "complaint", "low_csat", "low_score", "sample")
REASON_LABELS = {
    "severe": "严重问题",
    "complaint": "投诉",
    "low_csat": "低满意度",
    "low_score": "低分",
    "sample": "随机抽检",
}


def draw(ticket_id: int) -> float:
    """A number in [0, 1) fixed for the ticket."""
    digest = hashlib.sha256(f"quality-sample:{ticket_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def review_reason(
    *, ticket_id: int, severe: bool, complaint: bool, score: int, low_score: int, share: float
) -> str | None:
    """Why the conversation goes to review (the first reason that holds), or None."""
    if severe:
        return "severe"
    if complaint:
        return "complaint"
    if score < low_score:
        return "low_score"
    if draw(ticket_id) < share:
        return "sample"
    return None
