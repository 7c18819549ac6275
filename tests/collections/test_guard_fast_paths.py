"""The guard's fast paths read a text exactly as the plain ones: the normalisation that skips the
Traditional and emoji tables when nothing would change, and the model's n-grams counted as integers
for a long message or remembered for the message just scored."""

from __future__ import annotations

import math
import unicodedata
from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lenddesk.collections import guard, guard_model

HOSTILE = [
    "還錢！否則後果自負，我們知道你住哪裡",
    "ｓｂ，你个傻ｂ，Ｗｅ　ｗｉｌｌ　ｆｉｎｄ　ｙｏｕ",
    "你\ud800个废物\udfff，坐牢",
    "🔪🔪 等着 🐶东西 💀☠️ ❤️💔",
    "hou果自负 dai款逾期 wo shi gong an nmsl zuolao",
    "唔還錢就等住瞓街啦，冚家鏟",
    "尊敬的客戶您好，您的借款將於12月1日到期。" * 6,
    "𠮷野家 𡘙 \U0002a6a5 乾隆 后 後 于 於",
    "",
]
TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("還錢後果自負你傻逼坐牢ｓｂＡ１🔪🐶💀☠⚔❤\ud800 ,。！abcxyz𠮷"),
        st.characters(codec="utf-8"),
    ),
    max_size=200,
)


def plain_normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).lower().translate(guard._traditional_to_simplified())
    return folded.translate(guard._EMOJI_TABLE)


def plain_scores(model: guard_model.GuardModel, text: str) -> tuple[list[float], list[str]]:
    """The model's arithmetic on n-gram strings, as it was first written."""
    index = {gram: row for row, gram in enumerate(model.grams)}
    entries = list(model.grams.values())
    counts = Counter(guard_model.ngrams(text))
    grams = [gram for gram in counts if gram in index]
    if not grams:
        return list(model.intercepts), grams
    rows = np.array([index[gram] for gram in grams], dtype=np.intp)
    idf = np.array([entries[row][0] for row in rows])
    weights = np.array([entries[row][1] for row in rows])
    vector = (1.0 + np.log(np.array([float(counts[gram]) for gram in grams]))) * idf
    vector /= math.sqrt(float(vector @ vector)) or 1.0
    return list(vector @ weights + np.asarray(model.intercepts)), grams


def test_normalising_matches_the_plain_translation_on_hostile_text() -> None:
    for text in HOSTILE:
        assert guard.normalise(text) == plain_normalise(text), text


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_normalising_matches_the_plain_translation_on_any_text(text: str) -> None:
    assert guard.normalise(text) == plain_normalise(text)


def test_the_model_scores_long_and_short_messages_as_on_strings() -> None:
    model = guard_model.current()
    texts = HOSTILE + ["".join(HOSTILE)] + [text * 9 for text in HOSTILE]
    for text in texts:
        prepared = guard_model.model_text(text)
        scores = model._raw_scores(prepared)
        raw, grams = plain_scores(model, prepared)
        assert list(scores.raw) == raw and scores.grams == grams, text


@settings(max_examples=150, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=4))
def test_the_model_scores_any_text_as_on_strings(parts: list[str]) -> None:
    model = guard_model.current()
    prepared = guard_model.model_text("".join(parts))
    scores = model._raw_scores(prepared)
    assert (list(scores.raw), scores.grams) == plain_scores(model, prepared)


def test_the_message_just_scored_is_not_confused_with_another() -> None:
    model = guard_model.current()
    fresh = guard_model.GuardModel(
        model.fingerprint, model.codes, model.grams, model.intercepts, model.thresholds
    )
    for text in ["你这个废物", "我们知道你家住哪", "你这个废物", "周敏的dai款逾期了"] * 2:
        for third_party in (True, False):
            expected = fresh.verdicts(text, third_party=third_party)
            fresh._last = None
            assert model.verdicts(text, third_party=third_party) == expected, text


def test_checking_many_texts_at_once_names_what_checking_each_names() -> None:
    texts = (
        HOSTILE
        + ["".join(HOSTILE), "你这个废物", "我们知道你孩子在哪个学校", "周敏的dai款逾期了", "您好"] * 2
    )
    assert guard.text_violations_of_many(texts) == [guard.text_violations(text) for text in texts]
    assert guard.text_violations_of_many(texts, learned=False) == [
        guard.text_violations(text, learned=False) for text in texts
    ]


@settings(max_examples=40, deadline=None)
@given(st.lists(TEXT, max_size=12))
def test_checking_any_texts_at_once_names_what_checking_each_names(texts: list[str]) -> None:
    assert guard.text_violations_of_many(texts) == [guard.text_violations(text) for text in texts]
