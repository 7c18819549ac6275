"""Chinese numerals as digits, where a run of them is a quantity. Pure.

三千五百块 → 3500块 and 分三期每期两千元 → 分3期每期2000元 (cn2an), never 一定 or 一直. The assistant reads
borrowers' messages so, and QA checks an agent's spoken figures (六千元分三期) so.
"""

from __future__ import annotations

import re
import warnings
from functools import cache
from types import ModuleType

_NUMERALS = "零〇一二两三四五六七八九十百千万亿"
# A numeral run that is a quantity: two or more numerals (三千, 十二), or one followed by a unit.
_NUMBER_RUN = re.compile(rf"[{_NUMERALS}]{{2,}}|[{_NUMERALS}](?=[块元期天号日月年次个岁%])")
# Runs that look numeric but are words.
_NOT_NUMBERS = frozenset({"万一", "一一"})
# 一 ending a run before these is the word 一 (一万一个月 = 10000 + 一个月), not a digit.
_WORD_AFTER_ONE = frozenset("个次下些样起直定般份点")


@cache
def _cn2an() -> ModuleType:
    """cn2an, imported at first use: its import takes a tenth of a second, and most texts have no
    Chinese numeral."""
    import cn2an

    return cn2an


def _number(run: str) -> str:
    if run in _NOT_NUMBERS:
        return run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = _cn2an().cn2an(run, "smart")
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


_PERCENT = re.compile(r"百分之([零〇一二两三四五六七八九十点]+)")


def _percent(match: re.Match[str]) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = _cn2an().cn2an(match.group(1), "smart")
        except (ValueError, KeyError, IndexError, TypeError):
            return match.group(0)
    return f"{value:g}%"


def percents_to_digits(text: str) -> str:
    """百分之一点五 → 1.5% (a spoken rate, as an agent on the phone says it)."""
    return _PERCENT.sub(_percent, text)
