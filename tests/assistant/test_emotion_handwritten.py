"""The hand-written angry messages and calm/anxious hard negatives (data/train/emotion_handwritten.jsonl):
well formed, kept apart from the development sets, read by the intent and emotion models (not the
scam model) and part of the models' key."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lenddesk.assistant import classifier
from lenddesk.assistant.normalise import normalise
from tests.support.assistant_sets import assert_labelled_row, json_rows, texts_in_development_sets


def handwritten() -> list[dict[str, object]]:
    return json_rows(classifier.HANDWRITTEN_EMOTION)


def test_every_row_is_labelled_with_known_codes_and_no_scam() -> None:
    for row in handwritten():
        assert_labelled_row(row)
        assert row["scam"] is False, row


def test_hundreds_of_angry_messages_and_calm_hard_negatives_each_written_once() -> None:
    rows = handwritten()
    angry = [r for r in rows if r["emotion"] == "angry"]
    assert len(angry) >= 500 and len(rows) - len(angry) >= 500
    texts = [normalise(str(r["text"])) for r in rows]
    assert len(set(texts)) == len(texts)
    # Anger about every kind of request, not only complaints.
    assert len({r["intent"] for r in angry}) >= 15


# What a calm complaint says: the intent model hands every `complaint` off, so a calm question about
# fees, refunds or the app filed there would teach it to hand such questions to a person.
_COMPLAINING = re.compile(
    r"投诉|投訴|反映|反馈|建议|意见|打不通|一直忙|占线|12378|消费者|complain|regulator|tousu"
)


def test_a_calm_row_is_a_complaint_only_when_it_speaks_of_complaining() -> None:
    calm_complaints = [r for r in handwritten() if r["intent"] == "complaint" and r["emotion"] != "angry"]
    assert calm_complaints
    for row in calm_complaints:
        assert _COMPLAINING.search(str(row["text"]).lower()), row


def test_no_text_is_shared_with_a_development_set() -> None:
    assert texts_in_development_sets(handwritten()) == {}


def test_the_emotion_model_reads_the_file_before_the_corpus() -> None:
    assert classifier.EMOTION_ROW_FILES[0] == classifier.HANDWRITTEN_EMOTION
    rows = classifier.corpus_rows(classifier.EMOTION_ROW_FILES)
    first = handwritten()[0]
    assert (rows[0].text, rows[0].emotion) == (first["text"], first["emotion"])


def test_the_intent_model_reads_the_file_before_the_corpus_and_the_scam_model_does_not() -> None:
    files = classifier.ROW_FILES
    assert files.index(classifier.HANDWRITTEN_EMOTION) < files.index(classifier.CORPUS)
    read = {(row.text, row.intent) for row in classifier.corpus_rows()}
    mine = {(str(r["text"]), str(r["intent"])) for r in handwritten()}
    # A text the hand-written scam file already has keeps that file's row.
    assert len(mine - read) <= 10
    assert classifier.HANDWRITTEN_EMOTION not in classifier.SCAM_ROW_FILES


def test_the_models_key_changes_with_the_hand_written_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hand = tmp_path / "emotion.jsonl"
    row = {"text": "还款又失败了？？？", "intent": "repay_failed", "emotion": "angry", "scam": False}
    hand.write_text(json.dumps(row, ensure_ascii=False) + "\n", "utf-8")
    monkeypatch.setattr(classifier, "ROW_FILES", (classifier.HANDWRITTEN_SCAM, hand, classifier.CORPUS))
    monkeypatch.setattr(classifier, "EMOTION_ROW_FILES", (hand, classifier.CORPUS))
    before = classifier.data_fingerprint()
    hand.write_text(json.dumps({**row, "emotion": "calm"}, ensure_ascii=False) + "\n", "utf-8")
    assert classifier.data_fingerprint() != before
