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
import warnings
from functools import lru_cache

import cn2an
from opencc import OpenCC

MAX_CHARS = 2000

_t2s = OpenCC("t2s")
_NUMERALS = "零〇一二两三四五六七八九十百千万亿"
# A numeral run that is a quantity: two or more numerals (三千, 十二), or one followed by a unit.
_NUMBER_RUN = re.compile(rf"[{_NUMERALS}]{{2,}}|[{_NUMERALS}](?=[块元期天号日月年次个岁%])")
# Runs that look numeric but are words.
_NOT_NUMBERS = frozenset({"万一", "一一"})
_SURROGATES_AND_CONTROLS = re.compile(r"[\ud800-\udfff\x00-\x08\x0b-\x1f\x7f]")
_SYMBOLS = re.compile(r"[^\w\u4e00-\u9fff@.%+\-:/#]+")
_SPACES = re.compile(r"\s+")
# A space between Chinese clauses separates like a comma; the emotion model reads its absence alike.
_SPACE_BESIDE_CJK = re.compile(r"(?<=[^\x00-\x7f]) | (?=[^\x00-\x7f])")
_REPEATS = re.compile(r"(\D)\1{3,}")
# 一 ending a run before these is the word 一 (一万一个月 = 10000 + 一个月), not a digit.
_WORD_AFTER_ONE = frozenset("个次下些样起直定般份点")


def _number(run: str) -> str:
    if run in _NOT_NUMBERS:
        return run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = cn2an.cn2an(run, "smart")
        except (ValueError, KeyError, IndexError, TypeError):
            return run
    return str(int(value)) if float(value).is_integer() else str(value)


def _replace(match: re.Match[str]) -> str:
    run, after = match.group(0), match.string[match.end() : match.end() + 1]
    if len(run) > 1 and run.endswith("一") and after in _WORD_AFTER_ONE:
        return _number(run[:-1]) + "一"
    if run == "一" and after in _WORD_AFTER_ONE:
        return run
    return _number(run)


def numerals_to_digits(text: str) -> str:
    return _NUMBER_RUN.sub(_replace, text)


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
