"""The early-warning score, pure: repayment behaviour in, a score 0–100 (higher is riskier), its band
and the reasons that weigh most out (docs/RISK.md "Score").

The close of business computes the same score in SQL (`risk/service/scoring.py` builds its CASE
expressions from the same `Weights`); a property test holds the two together.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, timedelta

from lenddesk.core.policy import RiskPolicy

BANDS = ("low", "medium", "high")
BAND_LABELS_ZH = {"low": "低", "medium": "中", "high": "高"}


@dataclass(frozen=True)
class Behaviour:
    """A borrower's repayment behaviour as of a business date (counts over the policy's lookback)."""

    worst_dpd: int = 0  # the most days past due any instalment reached in the lookback
    late_instalments: int = 0  # instalments that fell due in the lookback and were paid late or not yet
    partial_payments: int = 0  # past-due instalments still unpaid that have been paid in part
    broken_promises: int = 0  # promises to pay broken in the lookback
    broken_agreements: int = 0  # negotiated agreements broken in the lookback
    recent_hardship: int = 0  # hardship cases or outcomes in the hardship lookback

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


@dataclass(frozen=True)
class Weights:
    dpd_points: tuple[tuple[int, int], ...]
    late_points: int
    late_cap: int
    partial_points: int
    partial_cap: int
    promise_points: int
    promise_cap: int
    agreement_points: int
    agreement_cap: int
    hardship_points: int
    medium_from: int
    high_from: int

    @classmethod
    def of(cls, policy: RiskPolicy) -> Weights:
        return cls(
            dpd_points=tuple((int(day), int(points)) for day, points in policy.dpd_points),
            late_points=policy.late_instalment_points,
            late_cap=policy.late_instalment_cap,
            partial_points=policy.partial_payment_points,
            partial_cap=policy.partial_payment_cap,
            promise_points=policy.broken_promise_points,
            promise_cap=policy.broken_promise_cap,
            agreement_points=policy.broken_agreement_points,
            agreement_cap=policy.broken_agreement_cap,
            hardship_points=policy.hardship_points,
            medium_from=policy.medium_from,
            high_from=policy.high_from,
        )


@dataclass(frozen=True)
class Reason:
    code: str
    points: int
    text_zh: str


@dataclass(frozen=True)
class Score:
    score: int
    band: str
    reasons: tuple[Reason, ...]


def dpd_points(worst_dpd: int, weights: Weights) -> int:
    points = 0
    for day, value in weights.dpd_points:
        if worst_dpd >= day:
            points = value
    return points


def components(behaviour: Behaviour, weights: Weights) -> list[Reason]:
    """Every part of the score with its points, in a fixed order (the tie-break of `reasons`)."""
    b, w = behaviour, weights
    return [
        Reason("worst_dpd", dpd_points(b.worst_dpd, w), f"近期最长逾期 {b.worst_dpd} 天"),
        Reason(
            "broken_agreements",
            min(b.broken_agreements * w.agreement_points, w.agreement_cap),
            f"协商还款协议违约 {b.broken_agreements} 次",
        ),
        Reason(
            "broken_promises",
            min(b.broken_promises * w.promise_points, w.promise_cap),
            f"承诺还款未履约 {b.broken_promises} 次",
        ),
        Reason(
            "late_instalments",
            min(b.late_instalments * w.late_points, w.late_cap),
            f"逾期还款期数 {b.late_instalments} 期",
        ),
        Reason(
            "partial_payments",
            min(b.partial_payments * w.partial_points, w.partial_cap),
            f"部分还款未结清 {b.partial_payments} 期",
        ),
        Reason("recent_hardship", w.hardship_points if b.recent_hardship > 0 else 0, "近期申请困难协商"),
    ]


def band_of(score: int, weights: Weights) -> str:
    if score >= weights.high_from:
        return "high"
    if score >= weights.medium_from:
        return "medium"
    return "low"


def score(behaviour: Behaviour, weights: Weights, *, top: int = 3) -> Score:
    parts = components(behaviour, weights)
    total = min(100, sum(part.points for part in parts))
    ranked = sorted((part for part in parts if part.points > 0), key=lambda part: -part.points)
    return Score(total, band_of(total, weights), tuple(ranked[:top]))


@dataclass(frozen=True)
class Instalment:
    """One schedule line as the score reads it (the ledger's statement is the SQL twin)."""

    due_on: date
    paid_off_on: date | None
    paid_in_part: bool  # some principal or interest paid


def repayment_behaviour(instalments: list[Instalment], *, as_of: date, lookback_days: int) -> Behaviour:
    """Worst days past due, late and part-paid instalments as of the close of `as_of`, the pure twin
    of `ledger.service.behaviour.repayment_behaviour` (docs/RISK.md "Score")."""
    since = as_of - timedelta(days=lookback_days)
    worst = late = partial = 0
    for line in instalments:
        if line.due_on >= as_of:
            continue
        unpaid_at_close = line.paid_off_on is None or line.paid_off_on > as_of
        last_unpaid = as_of if unpaid_at_close else line.paid_off_on - timedelta(days=1)  # type: ignore[operator]
        if last_unpaid >= since:
            worst = max(worst, (last_unpaid - line.due_on).days)
        if line.due_on >= since and last_unpaid > line.due_on:
            late += 1
        if unpaid_at_close and line.paid_in_part:
            partial += 1
    return Behaviour(worst_dpd=worst, late_instalments=late, partial_payments=partial)
