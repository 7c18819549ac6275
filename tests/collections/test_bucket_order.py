"""Buckets compare by number in SQL: the strategy report's "reached M2" counts M10 and M7+ too."""

from __future__ import annotations

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from lenddesk.collections.service.queries import METRICS, bucket_number


def test_buckets_compare_by_number_not_as_text(session: Session) -> None:
    ranks = {
        bucket: session.scalar(select(bucket_number(literal(bucket))))
        for bucket in ("M0", "M1", "M2", "M7+", "M10", "WO")
    }
    assert ranks == {"M0": 0, "M1": 1, "M2": 2, "M7+": 7, "M10": 10, "WO": 999}
    assert "M10" < "M2"  # why: as text, M10 would not count as having reached M2


def test_the_strategy_report_no_longer_calls_reach_shares_roll_rates() -> None:
    labels = " ".join(label for _, label, _ in METRICS)
    assert "迁徙率" not in labels and "曾达 M2" in labels
