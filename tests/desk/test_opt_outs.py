"""Opt-out replies (退订) are recognised however they are typed, and only they are."""

from __future__ import annotations

import pytest

from lenddesk.desk.service import is_opt_out_reply


@pytest.mark.parametrize(
    "text", ["退订", " 退订。", "退訂", "TD", "td", "ＴＤ", "回TD", "T", "N", "stop", "Unsubscribe", "拒收"]
)
def test_opt_out_replies_are_recognised(text: str) -> None:
    assert is_opt_out_reply(text)


@pytest.mark.parametrize(
    "text", ["", "我想问一下退订以后还能还款吗", "TD123", "不要退订", "今天还款", "\ud800", "T D 退订 谢谢"]
)
def test_other_messages_are_not_opt_outs(text: str) -> None:
    assert not is_opt_out_reply(text)
