"""The assistant's development sets and the JSON-lines files its tests read."""

from __future__ import annotations

import json
from pathlib import Path

from lenddesk.assistant import classifier
from lenddesk.assistant.intents import EMOTIONS, INTENT_CODES
from lenddesk.assistant.normalise import normalise

REPO = Path(__file__).resolve().parents[2]
DEVELOPMENT_SETS = (
    REPO / "evaluation" / "dev" / "assistant.jsonl",
    REPO / "evaluation" / "dev" / "assistant_scam.jsonl",
    REPO / "evaluation" / "dev" / "assistant_scam2.jsonl",
    REPO / "evaluation" / "dev" / "assistant_scam3.jsonl",
    REPO / "evaluation" / "dev" / "assistant_scam4.jsonl",
    classifier.DATA / "eval" / "dev.jsonl",
    classifier.DATA / "eval" / "world.jsonl",
)


def json_rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def assert_labelled_row(row: dict[str, object]) -> None:
    """A training row as the corpus writes them: a trimmed text and known codes."""
    assert set(row) == {"text", "intent", "emotion", "scam"}, row
    assert isinstance(row["text"], str) and row["text"].strip() == row["text"] != "", row
    assert row["intent"] in INTENT_CODES, row
    assert row["emotion"] in EMOTIONS, row


def texts_in_development_sets(rows: list[dict[str, object]]) -> dict[str, list[str]]:
    """The rows' texts (normalised) that a development set has too, by set."""
    mine = {normalise(str(row["text"])) for row in rows}
    found = {}
    for path in DEVELOPMENT_SETS:
        shared = [text for row in json_rows(path) if (text := normalise(str(row["text"]))) in mine]
        if shared:
            found[path.name] = shared
    return found
