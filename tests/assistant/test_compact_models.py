"""The models are stored with float32 arrays (classifier.compact): the same verdicts as the float64
models they came from, on every text of the development sets, in about half the bytes."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable

import numpy as np
import pytest

from lenddesk.assistant import classifier, emotion, engine, scam
from lenddesk.assistant.normalise import emotion_text, normalise
from tests.support.assistant_sets import DEVELOPMENT_SETS, json_rows

Models = dict[str, tuple[classifier.LinearModel, Callable[[str], str]]]


def development_texts() -> list[str]:
    return [str(row["text"]) for path in DEVELOPMENT_SETS for row in json_rows(path)]


@pytest.fixture(scope="module")
def float64_models() -> Models:
    """Models trained as the shipped ones are, but quickly: the intent model on the hand-written
    examples, the emotion and scam models on every third labelled row; none compacted."""
    rows = classifier.corpus_rows()[::3]
    return {
        "intent": (classifier.train_legacy(), normalise),
        "emotion": (classifier.train_emotion(rows, classifier.training_examples()), emotion_text),
        "scam": (classifier.train_scam(rows), normalise),
    }


@pytest.mark.parametrize("name", ["intent", "emotion", "scam"])
def test_a_compacted_model_gives_the_float64_models_labels_and_probabilities(
    name: str, float64_models: Models
) -> None:
    wide, form = float64_models[name]
    narrow = classifier.compact(copy.deepcopy(wide))
    assert narrow.classifier.coef_.dtype == np.float32
    texts = [form(text) for text in development_texts()]
    expected = wide.probabilities(texts)
    assert expected.dtype == np.float64
    for got in (narrow.probabilities(texts), np.array([narrow.probability_row(text) for text in texts])):
        assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()
        assert np.abs(got - expected).max() < 1e-6


def test_a_compacted_model_takes_the_same_emotion_and_scam_decisions(float64_models: Models) -> None:
    wide_emotion, wide_scam = float64_models["emotion"][0], float64_models["scam"][0]
    narrow_emotion = classifier.compact(copy.deepcopy(wide_emotion))
    narrow_scam = classifier.compact(copy.deepcopy(wide_scam))
    for text in development_texts():
        assert emotion.classify(text, narrow_emotion) == emotion.classify(text, wide_emotion), text
        normalised = normalise(text)
        assert scam.assess(normalised, narrow_scam) == scam.assess(normalised, wide_scam), text


def test_compacting_about_halves_a_models_file(float64_models: Models) -> None:
    wide = float64_models["intent"][0]
    narrow = classifier.compact(copy.deepcopy(wide))
    assert len(pickle.dumps(narrow)) <= 0.6 * len(pickle.dumps(wide))


def test_the_models_in_use_are_stored_compact() -> None:
    trained = engine.intent_model()
    for part in (trained, trained.emotion, trained.scam):
        assert part is not None
        assert part.classifier.coef_.dtype == part.classifier.intercept_.dtype == np.float32
        assert all(v.idf_.dtype == np.float32 for _, v in part.features.transformer_list)
