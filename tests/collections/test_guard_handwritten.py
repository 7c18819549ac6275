"""The hand-written guard rows (data/guard_handwritten.jsonl) are well-formed, distinct, apart from
every dev set, and reach the training set with their own labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lenddesk.collections import guard_model

HANDWRITTEN = guard_model.DATA / "guard_handwritten.jsonl"
DEV_SETS = sorted((Path(__file__).resolve().parents[2] / "evaluation" / "dev").glob("guard*.jsonl"))
TEXT_CODES = frozenset(guard_model.MODEL_CODES) | {"PRIVACY"}


def rows() -> list[dict[str, object]]:
    lines = HANDWRITTEN.read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_each_row_is_a_message_with_known_codes() -> None:
    for row in rows():
        assert set(row) == {"text", "codes", "to_third_party"}, row
        text, codes = row["text"], row["codes"]
        assert isinstance(text, str) and text.strip() == text and text, row
        assert isinstance(row["to_third_party"], bool), row
        assert isinstance(codes, list) and set(codes) <= TEXT_CODES and len(set(codes)) == len(codes), row
        if "THIRD_PARTY_DISCLOSURE" in codes:
            assert row["to_third_party"], row


def test_the_file_is_large_and_mixes_violating_and_compliant_rows() -> None:
    data = rows()
    violating = sum(1 for row in data if row["codes"])
    assert len(data) >= 1200
    assert 0.45 <= violating / len(data) <= 0.65
    assert sum(1 for row in data if row["to_third_party"]) >= 100


def test_no_text_is_written_twice() -> None:
    texts = [row["text"] for row in rows()]
    assert len(texts) == len(set(texts))


@pytest.mark.parametrize("dev_set", DEV_SETS, ids=lambda path: path.name)
def test_no_text_is_shared_with_a_dev_set(dev_set: Path) -> None:
    dev_texts = {example.text for example in guard_model.read_examples(dev_set)}
    assert not dev_texts & {row["text"] for row in rows()}


def test_every_row_reaches_the_training_set_with_its_labels() -> None:
    training = {e.text: e for e in guard_model.read_examples(guard_model.TRAINING_FILE)}
    for row in rows():
        example = training.get(str(row["text"]))
        assert example is not None, "run scripts/guard_training_data.py after editing the file"
        assert example.codes == frozenset(row["codes"]), row  # type: ignore[arg-type]
        assert example.to_third_party == row["to_third_party"], row
