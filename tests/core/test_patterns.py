"""A prefiltered pattern finds exactly what the plain pattern finds: same spans, same groups."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lenddesk.collections import guard, guard_scope
from lenddesk.core.patterns import compile_prefiltered

PATTERNS = [
    r"(?:通知|告诉|联系)(?:你|您)?的?(?:家人|父母|单位)",
    r"(?<![0-9号月])日你|你滚|大骗子",
    r"已经?(?:(?!可能|或|将)\w){0,12}?(?:起诉|报案)",
    r"(?:孩子|子女)\w{0,3}(?:上学|读书)(?:受|被)?(?:影响|受限)",
    r"\b(?:know where you (?:live|are)|can'?t hide|kill you)",
    r"(?:(a)|b)+c|d\d",
    r"(?<![a-z0-9]) | (?![a-z0-9])",
    *(pattern.pattern for pattern in guard._matchers().literal.values()),
    guard_scope.EXEMPTION_CUE.pattern,
    guard.SAFE_PHRASES[0],
]
HOSTILE = [
    "我们会通知你的家人和单位，孩子上学会受影响",
    "已经向法院起诉，你等着，日你",
    "12日你好，大骗子你滚",
    "We know where you live and you can't hide",
    "abac aab d7 cc",
    "還錢！ｓｂ\ud800🔪 hou果自负 dai款",
    "",
]
LETTERS = "通知告诉你您的家人已经起诉日号0滚大骗子孩子上学影响 abcd7\ud800🔪"
TEXT = st.text(alphabet=st.sampled_from(LETTERS), max_size=40)


def matches(pattern: re.Pattern[str], text: str) -> list[tuple[tuple[int, int], tuple[str | None, ...]]]:
    return [(m.span(), m.groups()) for m in pattern.finditer(text)]


@pytest.mark.parametrize("source", PATTERNS)
def test_the_prefiltered_pattern_matches_as_the_plain_one(source: str) -> None:
    plain, fast = re.compile(source), compile_prefiltered(source)
    for text in HOSTILE:
        assert matches(fast, text) == matches(plain, text), text


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_the_prefiltered_patterns_agree_on_any_text(text: str) -> None:
    for source in PATTERNS[:7]:
        assert matches(compile_prefiltered(source), text) == matches(re.compile(source), text)


@pytest.mark.parametrize("source", [r"a?", r".b", r"[^a]b", r"(?i)ab|cd", r"abc", r"(?:a|)b?"])
def test_what_cannot_be_prefiltered_is_compiled_plain(source: str) -> None:
    assert compile_prefiltered(source).pattern == source
