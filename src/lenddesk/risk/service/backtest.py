"""How well the early-warning score ranks loans that reach M1 within 30 days (AUC), as of a past
business date of the book: scores from the history up to that date only, outcomes after it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection

from lenddesk.core.errors import Unprocessable
from lenddesk.core.policy import RiskPolicy, get_policy
from lenddesk.ledger.cob import last_closed_date
from lenddesk.ledger.service.behaviour import borrower_id_range, loans_reaching_overdue
from lenddesk.risk import score as scoring
from lenddesk.risk.service.scoring import FEATURES, behaviour_rows, id_chunks


@dataclass(frozen=True)
class Backtest:
    as_of: date
    horizon_days: int
    loans: int
    reached: int
    auc: float | None
    by_band: dict[str, tuple[int, int]]  # band → (loans, reached)


def auc(pairs: list[tuple[int, int]]) -> float | None:
    """Area under the ROC curve of (score, label) pairs (Mann–Whitney, ties count half); None when
    one class is empty."""
    positives = sum(label for _, label in pairs)
    negatives = len(pairs) - positives
    if positives == 0 or negatives == 0:
        return None
    ordered = sorted(pairs)
    rank_sum, index = 0.0, 0
    while index < len(ordered):
        end = index
        while end < len(ordered) and ordered[end][0] == ordered[index][0]:
            end += 1
        average_rank = (index + 1 + end) / 2
        rank_sum += average_rank * sum(label for _, label in ordered[index:end])
        index = end
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def run_backtest(
    connection: Connection,
    *,
    as_of: date | None = None,
    horizon_days: int = 30,
    policy: RiskPolicy | None = None,
) -> Backtest:
    policy = policy or get_policy().risk
    closed = last_closed_date(connection)
    if closed is None:
        raise Unprocessable("尚无已完成的日终", "No close of business has run yet", code="no_close")
    latest = closed - timedelta(days=horizon_days)
    as_of = as_of or latest
    if as_of > latest:
        raise Unprocessable(
            f"回测日期最晚为 {latest}（之后 {horizon_days} 天须已日终）",
            f"The backtest date must be on or before {latest} ({horizon_days} closed days after it)",
            code="backtest_too_late",
        )
    weights = scoring.Weights.of(policy)
    first, last = borrower_id_range(connection)
    scores: dict[int, int] = {}
    for low, high in id_chunks(first, last, policy.score_chunk_borrowers):
        for row in connection.execute(behaviour_rows(as_of=as_of, policy=policy, first_id=low, last_id=high)):
            behaviour = scoring.Behaviour(**{name: int(getattr(row, name) or 0) for name in FEATURES})
            scores[row.borrower_id] = scoring.score(behaviour, weights).score
    pairs: list[tuple[int, int]] = []
    by_band: dict[str, list[int]] = {band: [0, 0] for band in scoring.BANDS}
    for row in connection.execute(loans_reaching_overdue(as_of=as_of, days=horizon_days)):
        value = scores.get(row.borrower_id, 0)
        pairs.append((value, int(row.reached)))
        band = by_band[scoring.band_of(value, weights)]
        band[0] += 1
        band[1] += int(row.reached)
    return Backtest(
        as_of=as_of,
        horizon_days=horizon_days,
        loans=len(pairs),
        reached=sum(label for _, label in pairs),
        auc=auc(pairs),
        by_band={band: (counts[0], counts[1]) for band, counts in by_band.items()},
    )
