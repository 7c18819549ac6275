"""The hand-written scam stories and hard negatives (data/train/scam_handwritten.jsonl): well formed,
kept apart from the development sets, read before the generated corpus and part of the model's key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lenddesk.assistant import classifier
from lenddesk.assistant.normalise import normalise
from tests.support.assistant_sets import assert_labelled_row, json_rows, texts_in_development_sets


def handwritten() -> list[dict[str, object]]:
    return json_rows(classifier.HANDWRITTEN_SCAM)


def test_every_row_is_labelled_with_known_codes() -> None:
    for row in handwritten():
        assert_labelled_row(row)
        assert isinstance(row["scam"], bool), row


def test_hundreds_of_stories_and_hard_negatives_each_told_once() -> None:
    rows = handwritten()
    stories = [r for r in rows if r["scam"]]
    assert len(stories) >= 600 and len(rows) - len(stories) >= 600
    texts = [normalise(str(r["text"])) for r in rows]
    assert len(set(texts)) == len(texts)
    # A victim's story either reports the fraud or asks whether the contact is official.
    assert {r["intent"] for r in stories} == {"fraud_report", "verify_official"}


def test_no_text_is_shared_with_a_development_set() -> None:
    assert texts_in_development_sets(handwritten()) == {}


def write_rows(path: Path, rows: list[tuple[str, str, bool]]) -> Path:
    lines = [
        json.dumps({"text": t, "intent": i, "emotion": "calm", "scam": s}, ensure_ascii=False)
        for t, i, s in rows
    ]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def test_a_text_in_both_files_keeps_the_hand_written_label(tmp_path: Path) -> None:
    hand = write_rows(tmp_path / "hand.jsonl", [("客服让我转钱到安全账户", "fraud_report", True)])
    corpus = write_rows(
        tmp_path / "corpus.jsonl",
        [("客服让我转钱到安全账户 ", "verify_official", False), ("怎么还款", "repay_how", False)] * 2,
    )
    rows = classifier.corpus_rows((hand, corpus))
    assert [(r.text, r.intent, r.scam) for r in rows] == [
        ("客服让我转钱到安全账户", "fraud_report", True),
        ("怎么还款", "repay_how", False),
        ("怎么还款", "repay_how", False),  # the corpus's own repeats are its own weighting
    ]


def test_the_models_key_changes_with_the_hand_written_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hand = write_rows(tmp_path / "hand.jsonl", [("客服让我转钱到安全账户", "fraud_report", True)])
    monkeypatch.setattr(classifier, "ROW_FILES", (hand, classifier.CORPUS))
    before = classifier.data_fingerprint()
    write_rows(hand, [("客服让我转钱到安全账户", "verify_official", True)])
    assert classifier.data_fingerprint() != before
