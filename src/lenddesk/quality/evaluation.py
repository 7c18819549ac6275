"""QA against a reviewer: labelled transcripts scored by the rubric, agreement item by item.

A labelled transcript is one JSON line (the held-out format, docs/DATA.md):
`{"id", "channel": "chat"|"email", "verified_at_turn": null|int, "turns": [{"speaker", "text",
"minutes"}], "verdicts": {CODE: "pass"|"fail"|"n/a"}, "severe": bool}`. `minutes` are minutes from
the start of the conversation; `verified_at_turn` is the turn at which identity was established
outside an agent question (null when the agent asks and the borrower answers in the transcript).

The report compares only verdicts the reviewer gave; it never prints a transcript's text, so it can
be run on a held-out set without showing what is in it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from lenddesk.quality import rubric

START = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
# First-response limits of a posted transcript, per channel, in minutes (docs/QUALITY.md).
FIRST_RESPONSE_MINUTES = {"chat": 5, "email": 24 * 60}


@dataclass(frozen=True)
class Labelled:
    id: str
    channel: str
    verified_at_turn: int | None
    turns: tuple[tuple[str, str, float | None], ...]  # speaker, text, minutes
    verdicts: Mapping[str, str]
    severe: bool


@dataclass(frozen=True)
class Judged:
    """What a rubric said of one transcript: a result per code and whether it is severe."""

    results: Mapping[str, str]
    severe: bool


Judge = Callable[[Labelled], Judged]


def read_rows(path: Path) -> list[Labelled]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(parse(json.loads(line)))
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"line {number}: {error}") from error
    return rows


def parse(data: Mapping[str, Any]) -> Labelled:
    turns = tuple((str(t["speaker"]), str(t["text"]), t.get("minutes")) for t in data["turns"])
    verdicts = {str(code): str(result) for code, result in (data.get("verdicts") or {}).items()}
    unknown = [c for c, r in verdicts.items() if c not in rubric.CODES or r not in rubric.RESULTS]
    if unknown:
        raise ValueError(f"unknown verdicts {unknown}")
    verified = data.get("verified_at_turn")
    return Labelled(
        id=str(data.get("id", "")),
        channel=str(data.get("channel", "chat")),
        verified_at_turn=None if verified is None else int(verified),
        turns=turns,
        verdicts=verdicts,
        severe=bool(data.get("severe", False)),
    )


def moment(minutes: float | None) -> datetime | None:
    return None if minutes is None else START + timedelta(minutes=float(minutes))


def conversation_of(row: Labelled) -> rubric.Conversation:
    """The transcript as the rubric reads it (the verification turn kept as a turn index)."""
    return rubric.Conversation(
        channel=row.channel,
        turns=tuple(rubric.Turn(speaker, text, moment(minutes)) for speaker, text, minutes in row.turns),
        verified_turn=row.verified_at_turn,
        first_response_minutes=FIRST_RESPONSE_MINUTES.get(row.channel),
    )


# --- the report -----------------------------------------------------------------------------------


@dataclass
class ItemTally:
    agreed: int = 0
    total: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)  # (reviewer, rubric)

    @property
    def share(self) -> float:
        return self.agreed / self.total if self.total else 0.0


@dataclass
class Tally:
    transcripts: int = 0
    items: dict[str, ItemTally] = field(default_factory=lambda: {c: ItemTally() for c in rubric.CODES})
    severe_flagged: int = 0
    severe_missed: int = 0
    false_alarms: int = 0  # flagged severe, the reviewer says not

    @property
    def agreed(self) -> int:
        return sum(t.agreed for t in self.items.values())

    @property
    def total(self) -> int:
        return sum(t.total for t in self.items.values())

    @property
    def share(self) -> float:
        return self.agreed / self.total if self.total else 0.0


def tally(rows: Iterable[Labelled], judge: Judge) -> Tally:
    found = Tally()
    for row in rows:
        found.transcripts += 1
        judged = judge(row)
        for code, expected in row.verdicts.items():
            got = judged.results.get(code, "n/a")
            item = found.items[code]
            item.total += 1
            item.agreed += got == expected
            item.confusion[(expected, got)] += 1
        if row.severe:
            found.severe_flagged += judged.severe
            found.severe_missed += not judged.severe
        else:
            found.false_alarms += judged.severe
    return found


def judge_with(score: Callable[[rubric.Conversation], rubric.Score]) -> Judge:
    """A judge that scores the transcript through `score` (the service's `score_transcript`)."""

    def judge(row: Labelled) -> Judged:
        result = score(conversation_of(row))
        return Judged({item.code: item.result for item in result.items}, result.severe)

    return judge


def _percent(share: float) -> str:
    return f"{100 * share:5.1f} %"


def _confusion(item: ItemTally) -> str:
    cells = []
    for expected in rubric.RESULTS:
        row = [item.confusion[(expected, got)] for got in rubric.RESULTS]
        if any(row):
            cells.append(f"{expected}→" + "/".join(str(n) for n in row))
    return "  ".join(cells)


def format_report(current: Tally, baseline: Tally | None = None, *, baseline_name: str = "") -> list[str]:
    """Aggregate figures only: agreement per item, overall, severe flagged and missed, confusions."""
    lines = [f"transcripts: {current.transcripts}   verdicts: {current.total}"]
    header = f"{'item':<17}{'n':>4}  {'rubric':>8}"
    if baseline is not None:
        header += f"  {'baseline':>8}"
    lines.append(header + "   confusion reviewer→rubric pass/fail/n/a")
    for code in rubric.CODES:
        item = current.items[code]
        if not item.total:
            continue
        line = f"{code:<17}{item.total:>4}  {_percent(item.share):>8}"
        if baseline is not None:
            line += f"  {_percent(baseline.items[code].share):>8}"
        lines.append(f"{line}   {_confusion(item)}")
        if baseline is not None:
            lines.append(f"{'':<17}{'':>4}  {'':>8}  {'':>8}   baseline: {_confusion(baseline.items[code])}")
    overall = f"overall agreement: {current.agreed}/{current.total} = {_percent(current.share).strip()}"
    if baseline is not None:
        overall += f"   baseline {baseline.agreed}/{baseline.total} = {_percent(baseline.share).strip()}"
    lines.append(overall)
    severe_total = current.severe_flagged + current.severe_missed
    severe = (
        f"severe flagged: {current.severe_flagged}/{severe_total}  missed: {current.severe_missed}"
        f"  false alarms: {current.false_alarms}"
    )
    if baseline is not None:
        severe += (
            f"   baseline flagged {baseline.severe_flagged}/{severe_total}"
            f"  missed {baseline.severe_missed}  false alarms {baseline.false_alarms}"
        )
    lines.append(severe)
    if baseline is not None and baseline_name:
        lines.append(f"baseline: {baseline_name}")
    return lines


# --- the baseline: the rubric as it was before the item definitions of issue 19 ---------------------

BASELINE_REF = "1635f8c"  # the last commit with the earlier rubric (main, 2026-12-06)
RUBRIC_PATH = "src/lenddesk/quality/rubric.py"


def load_rubric_at(ref: str, repository: Path) -> ModuleType:
    """The rubric module as it was at git `ref`, loaded under another name (it imports only the
    guard, the desk's disclosure scan and categoriser, which it uses as they are now)."""
    source = subprocess.run(
        ["git", "-C", str(repository), "show", f"{ref}:{RUBRIC_PATH}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = ModuleType(f"lenddesk.quality.rubric_at_{ref}")
    module.__file__ = f"{ref}:{RUBRIC_PATH}"
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, module.__file__, "exec"), module.__dict__)  # our own history, read from git
    return module


def baseline_judge(old: ModuleType, weights: Mapping[str, int]) -> Judge:
    """A judge scoring with an earlier rubric module: it knows no verification turn, so identity
    counts from that turn's time."""

    def judge(row: Labelled) -> Judged:
        turns = tuple(old.Turn(speaker, text, moment(minutes)) for speaker, text, minutes in row.turns)
        verified = row.verified_at_turn
        verified_at = turns[verified].at if verified is not None and verified < len(turns) else None
        conversation = old.Conversation(
            channel=row.channel,
            turns=turns,
            verified_at=verified_at,
            first_response_minutes=FIRST_RESPONSE_MINUTES.get(row.channel),
        )
        result = old.score(conversation, weights)
        return Judged({item.code: item.result for item in result.items}, result.severe)

    return judge
