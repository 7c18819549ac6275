"""Evaluation of the understanding pipeline on a labelled file, beside baselines. Pure.

Each line of the file is {"text", "intent"}, optionally "emotion" (calm | anxious | angry), "scam"
(true for an impostor's story) and "wants_human" (the borrower asked for a person). Two
baselines: today's assistant before issue 19 (the classifier trained on the hand-written examples
only, the emotion lexicon, the scam rules, the same dialogue), and BM25 nearest example (the
intent of the training example that scores highest for the message).

Handoff figures: the share of angry messages handed off, and of calm or anxious messages handed
off without being asked — requests for a person (`wants_human`, intent `human`) and complaints
(`complaint`, `collection_complaint`) aside; printed both with and without the scam stories and
fraud reports, which the assistant hands to the fraud team on purpose.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lenddesk.assistant.intents import INTENT_CODES
from lenddesk.core.errors import Unprocessable

ASKED_INTENTS = frozenset({"human", "complaint", "collection_complaint"})


@dataclass(frozen=True)
class Row:
    text: str
    intent: str
    emotion: str | None = None
    scam: bool | None = None
    wants_human: bool | None = None


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
    precision: dict[str, tuple[int, int]] = field(default_factory=dict)  # intent: (right, predicted)
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)  # (gold, predicted)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


@dataclass
class Behaviour:
    """What the assistant did with the messages: handoffs, scam flags, emotion."""

    angry: tuple[int, int]  # handed off, of angry
    unasked: tuple[int, int]  # handed off, of calm/anxious messages not asking for a person
    unasked_no_scam: tuple[int, int]  # the same without scam stories and fraud reports
    scam: tuple[int, int]  # flagged, of scam stories
    scam_precision: tuple[int, int]  # scam stories, of flagged
    scam_false_alarms: tuple[int, int]  # flagged, of other messages
    emotion_accuracy: tuple[int, int]


@dataclass
class Report:
    rows: int
    model: Scores
    baseline: Scores  # BM25 nearest example
    angry: tuple[int, int]
    scam: tuple[int, int]
    scam_false_alarms: tuple[int, int]
    emotion_accuracy: tuple[int, int]
    behaviour: Behaviour | None = None
    today: Scores | None = None  # today's classifier, before issue 19
    today_behaviour: Behaviour | None = None


def read_rows(path: Path) -> list[Row]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            row = Row(
                str(raw["text"]),
                str(raw["intent"]),
                raw.get("emotion"),
                raw.get("scam"),
                raw.get("wants_human"),
            )
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
    guessed: Counter[str] = Counter()
    for row, intent in zip(rows, predicted, strict=True):
        scores.total += 1
        of[row.intent] += 1
        guessed[intent] += 1
        if intent == row.intent:
            scores.correct += 1
            found[row.intent] += 1
        else:
            scores.confusion[(row.intent, intent)] += 1
    scores.recall = {intent: (found[intent], of[intent]) for intent in INTENT_CODES if of[intent]}
    scores.precision = {intent: (found[intent], guessed[intent]) for intent in INTENT_CODES}
    return scores


def _asked(row: Row) -> bool:
    return bool(row.wants_human) or row.intent in ASKED_INTENTS


def _behaviour(rows: Sequence[Row], predictions: Sequence[Prediction]) -> Behaviour:
    pairs = list(zip(rows, predictions, strict=True))
    angry = [p for row, p in pairs if row.emotion == "angry"]
    unasked = [(row, p) for row, p in pairs if row.emotion in ("calm", "anxious") and not _asked(row)]
    plain = [p for row, p in unasked if not row.scam and row.intent != "fraud_report"]
    scams = [p for row, p in pairs if row.scam]
    others = [p for row, p in pairs if row.scam is False]
    flagged = [row for row, p in pairs if p.scam and row.scam is not None]
    labelled = [(row, p) for row, p in pairs if row.emotion]
    return Behaviour(
        angry=(sum(p.handoff for p in angry), len(angry)),
        unasked=(sum(p.handoff for _, p in unasked), len(unasked)),
        unasked_no_scam=(sum(p.handoff for p in plain), len(plain)),
        scam=(sum(p.scam for p in scams), len(scams)),
        scam_precision=(sum(bool(row.scam) for row in flagged), len(flagged)),
        scam_false_alarms=(sum(p.scam for p in others), len(others)),
        emotion_accuracy=(sum(p.emotion == row.emotion for row, p in labelled), len(labelled)),
    )


def evaluate(
    rows: Sequence[Row],
    predict: Callable[[str], Prediction],
    baseline: Callable[[str], str],
    today: Callable[[str], Prediction] | None = None,
) -> Report:
    predictions = [predict(row.text) for row in rows]
    behaviour = _behaviour(rows, predictions)
    report = Report(
        rows=len(rows),
        model=_score("model", rows, [p.intent for p in predictions]),
        baseline=_score("bm25", rows, [baseline(row.text) for row in rows]),
        angry=behaviour.angry,
        scam=behaviour.scam,
        scam_false_alarms=behaviour.scam_false_alarms,
        emotion_accuracy=behaviour.emotion_accuracy,
        behaviour=behaviour,
    )
    if today is not None:
        before = [today(row.text) for row in rows]
        report.today = _score("today", rows, [p.intent for p in before])
        report.today_behaviour = _behaviour(rows, before)
    return report


def _share(pair: tuple[int, int]) -> str:
    found, of = pair
    return f"{found}/{of} ({found / of:.1%})" if of else "—"


def _behaviour_lines(b: Behaviour, t: Behaviour | None) -> Iterable[tuple[str, str, str]]:
    def row(label: str, pick: Callable[[Behaviour], tuple[int, int]]) -> tuple[str, str, str]:
        return label, _share(pick(b)), _share(pick(t)) if t else "—"

    yield row("angry messages handed off", lambda x: x.angry)
    yield row("calm/anxious handed off unasked", lambda x: x.unasked)
    yield row("  … scam stories and fraud aside", lambda x: x.unasked_no_scam)
    yield row("scam stories flagged (recall)", lambda x: x.scam)
    yield row("scam flags right (precision)", lambda x: x.scam_precision)
    yield row("scam false alarms", lambda x: x.scam_false_alarms)
    yield row("emotion label right", lambda x: x.emotion_accuracy)


def format_report(report: Report, top_confusions: int = 15) -> Iterable[str]:
    model, baseline, today = report.model, report.baseline, report.today
    yield f"messages: {report.rows}"
    today_part = f"   today's classifier {today.accuracy:.1%}" if today else ""
    bm25_part = f"   BM25 nearest example {baseline.accuracy:.1%}"
    yield f"top-1 accuracy: model {model.accuracy:.1%}{today_part}{bm25_part}"
    b = report.behaviour or Behaviour(
        report.angry, (0, 0), (0, 0), report.scam, (0, 0), report.scam_false_alarms, report.emotion_accuracy
    )
    yield ""
    yield f"{'behaviour':<36}{'model':>18}{'today':>18}"
    for label, mine, theirs in _behaviour_lines(b, report.today_behaviour):
        yield f"{label:<36}{mine:>18}{theirs:>18}"
    yield ""
    header = f"{'intent':<22}{'model recall':>16}{'model precision':>18}"
    header += f"{'today recall':>16}" if today else ""
    yield header + f"{'BM25 recall':>16}"
    for intent in INTENT_CODES:
        if intent in model.recall:
            line = f"{intent:<22}{_share(model.recall[intent]):>16}{_share(model.precision[intent]):>18}"
            line += f"{_share(today.recall[intent]):>16}" if today else ""
            yield line + f"{_share(baseline.recall[intent]):>16}"
    yield ""
    yield "most frequent confusions (gold → predicted)"
    named = [("model", model), *([("today", today)] if today else []), ("BM25", baseline)]
    for name, scores in named:
        pairs = ", ".join(f"{g}→{p} ×{n}" for (g, p), n in scores.confusion.most_common(top_confusions))
        yield f"  {name}: {pairs or 'none'}"
