"""Text normalisation before understanding. Pure.

Borrowers type Traditional characters, full-width letters and digits, Chinese numerals, emoji and
stray punctuation; the model and the rules see one canonical form: Simplified (OpenCC t2s), NFKC
(full-width → half-width), lower case, Chinese numbers as digits (cn2an, only where a run of
numerals is a quantity: 三千五百块 → 3500块, never 一定 or 一直), runs of spaces and symbols
collapsed to one space. Unpaired surrogates and control characters are dropped, and the text is
cut to `MAX_CHARS` first, so a hostile message costs no more than a long one.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from opencc import OpenCC

from lenddesk.core.numerals import numerals_to_digits

MAX_CHARS = 2000

_t2s = OpenCC("t2s")
_SURROGATES_AND_CONTROLS = re.compile(r"[\ud800-\udfff\x00-\x08\x0b-\x1f\x7f]")
_SYMBOLS = re.compile(r"[^\w\u4e00-\u9fff@.%+\-:/#]+")
_SPACES = re.compile(r"\s+")
# A space between Chinese clauses separates like a comma; the emotion model reads its absence alike.
_SPACE_BESIDE_CJK = re.compile(r"(?<=[^\x00-\x7f]) | (?=[^\x00-\x7f])")
_REPEATS = re.compile(r"(\D)\1{3,}")


@lru_cache(maxsize=4096)
def normalise(text: str) -> str:
    """The canonical form the intent model, retrieval and rules read."""
    text = _SURROGATES_AND_CONTROLS.sub("", text[: MAX_CHARS * 2])[:MAX_CHARS]
    text = unicodedata.normalize("NFKC", text)
    text = _t2s.convert(text).lower()
    text = numerals_to_digits(text)
    text = _REPEATS.sub(r"\1\1\1", text)  # 啊啊啊啊啊啊 → 啊啊啊; !!!!!!!! → !!!
    text = _SYMBOLS.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=4096)
def emotion_text(text: str) -> str:
    """The form the emotion model reads: canonical characters, but punctuation, emoji and their
    repetition kept (？？？ and ！！ carry the tone)."""
    text = _SURROGATES_AND_CONTROLS.sub("", text[: MAX_CHARS * 2])[:MAX_CHARS]
    text = _t2s.convert(unicodedata.normalize("NFKC", text)).lower()
    text = _REPEATS.sub(r"\1\1\1", text)
    return _SPACE_BESIDE_CJK.sub("", _SPACES.sub(" ", text)).strip()


def clean_for_storage(text: str) -> str:
    """What we keep of what the borrower wrote: the text as typed, minus what cannot be stored."""
    return _SURROGATES_AND_CONTROLS.sub("", text).strip()
