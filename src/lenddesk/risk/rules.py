"""The abnormal-activity rules, pure: an event and the borrower's history as of the event's own time
in, the alerts it raises out (docs/RISK.md "Rules"). No database, no clock.

Windows (thresholds from the policy's [risk] section):
- NEW_REGION: a successful login whose province (the first two digits of its GB/T 2260 region code)
  is not the home province of the borrower's ID number and not the province of any of the
  borrower's events in the `lookback` before it (an event exactly `lookback` earlier still counts);
- LARGE_TRANSFERS: `count` transfers of at least `threshold` in the `window` ending at the event
  (the event included; one exactly `window` earlier is outside);
- STRUCTURING: `count` transfers of `percent` % of the threshold or more, but below it, in that window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

NEW_REGION = "NEW_REGION"
LARGE_TRANSFERS = "LARGE_TRANSFERS"
STRUCTURING = "STRUCTURING"
EARLY_WARNING_HIGH = "EARLY_WARNING_HIGH"
RULES = (NEW_REGION, LARGE_TRANSFERS, STRUCTURING, EARLY_WARNING_HIGH)
RULE_LABELS_ZH = {
    NEW_REGION: "异地登录（新省份）",
    LARGE_TRANSFERS: "频繁大额转账",
    STRUCTURING: "拆分转账（接近大额阈值）",
    EARLY_WARNING_HIGH: "预警评分进入高风险",
}
EVENT_KINDS = ("login", "transfer", "card_bind")

# GB/T 2260 province-level codes (the first two digits of a region code and of an ID number).
PROVINCES: dict[str, str] = {
    "11": "北京", "12": "天津", "13": "河北", "14": "山西", "15": "内蒙古",
    "21": "辽宁", "22": "吉林", "23": "黑龙江",
    "31": "上海", "32": "江苏", "33": "浙江", "34": "安徽", "35": "福建", "36": "江西", "37": "山东",
    "41": "河南", "42": "湖北", "43": "湖南", "44": "广东", "45": "广西", "46": "海南",
    "50": "重庆", "51": "四川", "52": "贵州", "53": "云南", "54": "西藏",
    "61": "陕西", "62": "甘肃", "63": "青海", "64": "宁夏", "65": "新疆",
    "71": "台湾", "81": "香港", "82": "澳门",
}  # fmt: skip


def province_of(region: str) -> str | None:
    """The province code of a 6-digit region code, or None when it names no province."""
    if len(region) != 6 or not region.isdigit():
        return None
    return region[:2] if region[:2] in PROVINCES else None


@dataclass(frozen=True)
class Thresholds:
    lookback: timedelta
    window: timedelta
    large_fen: int
    large_count: int
    structuring_percent: int
    structuring_count: int

    @property
    def structuring_floor_fen(self) -> int:
        """The smallest amount that counts as structuring (percent of the threshold, rounded up)."""
        return -(-self.large_fen * self.structuring_percent // 100)


@dataclass(frozen=True)
class Event:
    event_id: str
    source: str
    kind: str
    at: datetime
    province: str | None
    amount_fen: int | None
    success: bool = True


@dataclass(frozen=True)
class Raised:
    rule: str
    evidence: dict[str, object]


def may_raise(event: Event, home_province: str | None) -> bool:
    """False when no history could make `event` raise an alert (a failed login, a login from the
    home province or from no province, a card binding): such an event needs no history read."""
    if event.kind == "login":
        return event.success and event.province is not None and event.province != home_province
    return event.kind == "transfer" and event.amount_fen is not None


def judge(
    event: Event, history: Sequence[Event], *, home_province: str | None, limits: Thresholds
) -> list[Raised]:
    """The alerts `event` raises, judged on `history` (the borrower's other events) as of `event.at`:
    events after it are ignored, however early they arrived."""
    key = (event.source, event.event_id)
    before = [other for other in history if other.at <= event.at and (other.source, other.event_id) != key]
    raised: list[Raised] = []
    if event.kind == "login":
        found = _new_region(event, before, home_province, limits)
        if found:
            raised.append(found)
    elif event.kind == "transfer" and event.amount_fen is not None:
        raised.extend(_transfers(event, before, limits))
    return raised


def _new_region(
    event: Event, before: Sequence[Event], home_province: str | None, limits: Thresholds
) -> Raised | None:
    if not event.success or event.province is None or event.province == home_province:
        return None
    since = event.at - limits.lookback
    seen = any(other.province == event.province and since <= other.at < event.at for other in before)
    if seen:
        return None
    return Raised(
        NEW_REGION,
        {
            "event_id": event.event_id,
            "source": event.source,
            "at": event.at.isoformat(),
            "province": event.province,
            "province_name": PROVINCES[event.province],
            "home_province": home_province,
            "lookback_days": limits.lookback.days,
        },
    )


def _transfers(event: Event, before: Sequence[Event], limits: Thresholds) -> list[Raised]:
    since = event.at - limits.window
    in_window = [
        other
        for other in (*before, event)
        if other.kind == "transfer" and other.amount_fen is not None and since < other.at <= event.at
    ]
    amount = event.amount_fen or 0
    raised = []
    if amount >= limits.large_fen:
        large = [other for other in in_window if (other.amount_fen or 0) >= limits.large_fen]
        if len(large) >= limits.large_count:
            raised.append(Raised(LARGE_TRANSFERS, _transfer_evidence(large, limits)))
    elif amount >= limits.structuring_floor_fen:
        near = [
            other
            for other in in_window
            if limits.structuring_floor_fen <= (other.amount_fen or 0) < limits.large_fen
        ]
        if len(near) >= limits.structuring_count:
            raised.append(Raised(STRUCTURING, _transfer_evidence(near, limits)))
    return raised


def _transfer_evidence(events: Sequence[Event], limits: Thresholds) -> dict[str, object]:
    ordered = sorted(events, key=lambda e: (e.at, e.source, e.event_id))
    return {
        "window_hours": int(limits.window.total_seconds() // 3600),
        "threshold_fen": limits.large_fen,
        "transfers": [
            {"source": e.source, "event_id": e.event_id, "at": e.at.isoformat(), "amount_fen": e.amount_fen}
            for e in ordered
        ],
    }
