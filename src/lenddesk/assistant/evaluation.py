"""Evaluation of the understanding pipeline on a labelled file, beside a BM25 baseline. Pure.

Each line of the file is {"text", "intent"}, optionally "emotion" (calm | anxious | angry) and
"scam" (true for an impostor's story). The baseline is BM25 nearest example: the intent of the
training example that scores highest for the message (the same normalisation and words).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lenddesk.assistant.intents import INTENT_CODES
from lenddesk.core.errors import Unprocessable


@dataclass(frozen=True)
class Row:
    text: str
    intent: str
    emotion: str | None = None
    scam: bool | None = None


@dataclass(frozen=True)
class Prediction:
    intent: str
    handoff: bool = False
    scam: bool = False
    emotion: str = "calm"


@dataclass
class Scores:
    name: str
    correct: int = 0
    total: int = 0
    recall: dict[str, tuple[int, int]] = field(default_factory=dict)  # intent: (found, of)
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)  # (gold, predicted)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


@dataclass
class Report:
    rows: int
    model: Scores
    baseline: Scores
    angry: tuple[int, int]  # handed off, of angry
    scam: tuple[int, int]  # flagged, of scam stories
    scam_false_alarms: tuple[int, int]  # flagged, of other messages
    emotion_accuracy: tuple[int, int]


def read_rows(path: Path) -> list[Row]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            row = Row(str(raw["text"]), str(raw["intent"]), raw.get("emotion"), raw.get("scam"))
        except (ValueError, KeyError, TypeError) as exc:
            raise Unprocessable(
                f"第 {number} 行格式不对：{exc}", f"line {number} is not a {{text, intent}} object: {exc}"
            ) from exc
        if row.intent not in INTENT_CODES:
            raise Unprocessable(
                f"第 {number} 行意图未知：{row.intent}", f"line {number}: unknown intent {row.intent}"
            )
        rows.append(row)
    return rows


def _score(name: str, rows: Sequence[Row], predicted: Sequence[str]) -> Scores:
    scores = Scores(name)
    found: Counter[str] = Counter()
    of: Counter[str] = Counter()
    for row, intent in zip(rows, predicted, strict=True):
        scores.total += 1
        of[row.intent] += 1
        if intent == row.intent:
            scores.correct += 1
            found[row.intent] += 1
        else:
            scores.confusion[(row.intent, intent)] += 1
    scores.recall = {intent: (found[intent], of[intent]) for intent in INTENT_CODES if of[intent]}
    return scores


def evaluate(
    rows: Sequence[Row], predict: Callable[[str], Prediction], baseline: Callable[[str], str]
) -> Report:
    predictions = [predict(row.text) for row in rows]
    angry = [p for row, p in zip(rows, predictions, strict=True) if row.emotion == "angry"]
    scams = [p for row, p in zip(rows, predictions, strict=True) if row.scam]
    others = [p for row, p in zip(rows, predictions, strict=True) if row.scam is False]
    labelled = [(row, p) for row, p in zip(rows, predictions, strict=True) if row.emotion]
    return Report(
        rows=len(rows),
        model=_score("model", rows, [p.intent for p in predictions]),
        baseline=_score("bm25", rows, [baseline(row.text) for row in rows]),
        angry=(sum(p.handoff for p in angry), len(angry)),
        scam=(sum(p.scam for p in scams), len(scams)),
        scam_false_alarms=(sum(p.scam for p in others), len(others)),
        emotion_accuracy=(sum(p.emotion == row.emotion for row, p in labelled), len(labelled)),
    )


def _share(pair: tuple[int, int]) -> str:
    found, of = pair
    return f"{found}/{of} ({found / of:.1%})" if of else "—"


def format_report(report: Report, top_confusions: int = 15) -> Iterable[str]:
    model, baseline = report.model, report.baseline
    yield f"messages: {report.rows}"
    yield f"top-1 accuracy: model {model.accuracy:.1%}   BM25 nearest example {baseline.accuracy:.1%}"
    yield f"angry messages handed off: {_share(report.angry)}"
    yield f"scam stories flagged: {_share(report.scam)}   false alarms: {_share(report.scam_false_alarms)}"
    yield f"emotion label right: {_share(report.emotion_accuracy)}"
    yield ""
    yield f"{'intent':<22}{'model recall':>16}{'BM25 recall':>16}"
    for intent in INTENT_CODES:
        if intent in model.recall:
            yield f"{intent:<22}{_share(model.recall[intent]):>16}{_share(baseline.recall[intent]):>16}"
    yield ""
    yield "most frequent confusions (gold → predicted): model | BM25"
    for name, scores in (("model", model), ("BM25", baseline)):
        pairs = ", ".join(f"{g}→{p} ×{n}" for (g, p), n in scores.confusion.most_common(top_confusions))
        yield f"  {name}: {pairs or 'none'}"
