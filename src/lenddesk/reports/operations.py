"""Operations reports read from other rooms' figures: promise-kept rates and CSAT/NPS — pure shaping.

Promise-kept rate by count (kept ÷ judged) and by amount (Σ min(paid by the date, promised) ÷
Σ promised). CSAT is the share of answers scoring 4–5, NPS % 9–10 − % 0–6 (points), response rate
answered ÷ sent; a group without answers shows empty, never 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lenddesk.reports.exports import Table
from lenddesk.reports.rates import rate, rounded_share


def promise_rows(figures: Sequence[Any]) -> list[dict[str, object]]:
    return [
        {
            "key": f.key,
            "label": f.label,
            "made": f.made,
            "judged": f.judged,
            "kept": f.kept,
            "kept_rate": rate(f.kept, f.judged, f.judged).as_dict(),
            "promised_fen": f.promised_fen,
            "paid_up_to_promise_fen": f.paid_up_to_promise_fen,
            "kept_amount_rate": rounded_share(f.paid_up_to_promise_fen, f.promised_fen),
        }
        for f in figures
    ]


def promise_table(rows: Sequence[dict[str, Any]]) -> list[Table]:
    table = Table(
        "承诺兑现 promises",
        [
            ("分组 group", "text"),
            ("承诺数 made", "int"),
            ("已判定 judged", "int"),
            ("兑现 kept", "int"),
            ("兑现率（笔数） kept rate", "percent"),
            ("承诺金额 promised", "yuan"),
            ("到期前已还 paid", "yuan"),
            ("兑现率（金额） amount rate", "percent"),
        ],
    )
    for row in rows:
        table.rows.append(
            [
                row["label"],
                row["made"],
                row["judged"],
                row["kept"],
                row["kept_rate"]["rate"],
                row["promised_fen"],
                row["paid_up_to_promise_fen"],
                row["kept_amount_rate"],
            ]
        )
    return [table]


def csat_row(summary: Any) -> dict[str, object]:
    happy = summary.by_score[4] + summary.by_score[5]
    return {
        "key": summary.key,
        "label": summary.label,
        "sent": summary.sent,
        "answered": summary.answered,
        "response_rate": rounded_share(summary.answered, summary.sent),
        "csat": rate(happy, summary.answered, summary.answered).as_dict(),
        "nps": None if summary.nps is None else round(summary.nps, 1),
        "nps_answers": summary.nps_answers,
        "average": None if summary.average is None else round(summary.average, 2),
    }


def csat_table(rows: Sequence[dict[str, Any]]) -> list[Table]:
    table = Table(
        "满意度 CSAT",
        [
            ("分组 group", "text"),
            ("发送 sent", "int"),
            ("回复 answered", "int"),
            ("回复率 response rate", "percent"),
            ("CSAT（4–5 分占比）", "percent"),
            ("NPS（点）", "text"),
            ("平均分 average", "text"),
        ],
    )
    for row in rows:
        nps, average = row["nps"], row["average"]
        table.rows.append(
            [
                row["label"],
                row["sent"],
                row["answered"],
                row["response_rate"],
                row["csat"]["rate"],
                None if nps is None else f"{nps:.1f}",
                None if average is None else f"{average:.2f}",
            ]
        )
    return [table]


def sla_rows(sla: Sequence[Any], fcr: Sequence[Any]) -> list[dict[str, object]]:
    """One row per group: each target's achieved, breached, pending and attainment; FCR beside it."""
    by_key: dict[str, dict[str, object]] = {}
    for figures in sla:
        row: dict[str, object] = {"key": figures.key}
        for target in ("first_response", "resolution"):
            achieved, breached = figures.achieved.get(target, 0), figures.breached.get(target, 0)
            row[target] = {
                "achieved": achieved,
                "breached": breached,
                "pending": figures.pending.get(target, 0),
                "attainment": rate(achieved, achieved + breached, achieved + breached).as_dict(),
            }
        by_key[figures.key] = row
    for figures in fcr:
        row = by_key.setdefault(figures.key, {"key": figures.key})
        row["fcr"] = rate(figures.first_contact, figures.resolved, figures.resolved).as_dict()
    return [by_key[key] for key in sorted(by_key)]


def sla_table(rows: Sequence[dict[str, Any]]) -> list[Table]:
    table = Table(
        "SLA 达成 attainment",
        [
            ("分组 group", "text"),
            ("首响达成 first response met", "int"),
            ("首响超时 breached", "int"),
            ("首响达成率", "percent"),
            ("解决达成 resolution met", "int"),
            ("解决超时 breached", "int"),
            ("解决达成率", "percent"),
            ("一次解决率 FCR", "percent"),
        ],
    )
    empty = {"achieved": 0, "breached": 0, "attainment": {"rate": None}}
    for row in rows:
        first, resolution = row.get("first_response", empty), row.get("resolution", empty)
        table.rows.append(
            [
                row["key"],
                first["achieved"],
                first["breached"],
                first["attainment"]["rate"],
                resolution["achieved"],
                resolution["breached"],
                resolution["attainment"]["rate"],
                row.get("fcr", {}).get("rate"),
            ]
        )
    return [table]


def agent_rows(cards: Sequence[Any]) -> list[dict[str, object]]:
    """Scorecard rows (quality room) as report rows: handled, times, SLA, QA, CSAT, complaints, reopens."""
    return [
        {
            "key": card.key,
            "label": card.label,
            "handled": card.conversations,
            "first_response_minutes": card.first_response_minutes,
            "resolution_minutes": card.resolution_minutes,
            "sla_attainment": card.sla_attainment,
            "qa_score": card.qa_score,
            "severe": card.severe,
            "csat": card.csat,
            "surveys_answered": card.surveys_answered,
            "complaints": card.complaints,
            "reopen_rate": card.reopen_rate,
        }
        for card in cards
    ]


def agent_table(rows: Sequence[dict[str, Any]]) -> list[Table]:
    table = Table(
        "坐席表现 agents",
        [
            ("坐席/团队 agent or team", "text"),
            ("处理量 handled", "int"),
            ("首响（分钟） first response min", "text"),
            ("解决（分钟） resolution min", "text"),
            ("SLA 达成率", "percent"),
            ("质检均分 QA score", "text"),
            ("严重问题 severe", "int"),
            ("CSAT", "percent"),
            ("投诉 complaints", "int"),
            ("重开率 reopen rate", "percent"),
        ],
    )
    for row in rows:
        table.rows.append(
            [
                row["label"],
                row["handled"],
                None if row["first_response_minutes"] is None else f"{row['first_response_minutes']:.1f}",
                None if row["resolution_minutes"] is None else f"{row['resolution_minutes']:.1f}",
                row["sla_attainment"],
                None if row["qa_score"] is None else f"{row['qa_score']:.1f}",
                row["severe"],
                row["csat"],
                row["complaints"],
                row["reopen_rate"],
            ]
        )
    return [table]


def pareto_rows(counts: Sequence[tuple[str, int]], labels: dict[str, str]) -> list[dict[str, object]]:
    """Root causes most frequent first, each with its share and the cumulative share."""
    total = sum(count for _, count in counts)
    rows, running = [], 0
    for cause, count in counts:
        running += count
        rows.append(
            {
                "root_cause": cause,
                "label": labels.get(cause, cause or "未填写"),
                "complaints": count,
                "share": rounded_share(count, total),
                "cumulative_share": rounded_share(running, total),
            }
        )
    return rows


def pareto_table(rows: Sequence[dict[str, Any]]) -> list[Table]:
    table = Table(
        "投诉根因 root causes",
        [
            ("根因 root cause", "text"),
            ("投诉数 complaints", "int"),
            ("占比 share", "percent"),
            ("累计占比 cumulative", "percent"),
        ],
    )
    for row in rows:
        table.rows.append([row["label"], row["complaints"], row["share"], row["cumulative_share"]])
    return [table]


def collector_rows(figures: Sequence[Any], names: dict[int, str]) -> list[dict[str, object]]:
    return [
        {
            "key": str(f.collector_id),
            "label": names.get(f.collector_id) or f.name or str(f.collector_id),
            "contacts": f.contacts,
            "right_party": f.right_party,
            "right_party_rate": rate(f.right_party, f.contacts, f.contacts).as_dict(),
            "promises": f.promises,
            "kept": f.kept,
            "kept_rate": rate(f.kept, f.judged, f.judged).as_dict(),
            "recovered_fen": f.recovered_fen,
        }
        for f in figures
    ]


def collector_table(rows: Sequence[dict[str, Any]]) -> list[Table]:
    table = Table(
        "催收员表现 collectors",
        [
            ("催收员 collector", "text"),
            ("联系 contacts", "int"),
            ("本人联系 right party", "int"),
            ("本人联系率", "percent"),
            ("承诺 promises", "int"),
            ("兑现 kept", "int"),
            ("兑现率 kept rate", "percent"),
            ("回收金额 recovered", "yuan"),
        ],
    )
    for row in rows:
        table.rows.append(
            [
                row["label"],
                row["contacts"],
                row["right_party"],
                row["right_party_rate"]["rate"],
                row["promises"],
                row["kept"],
                row["kept_rate"]["rate"],
                row["recovered_fen"],
            ]
        )
    return [table]
