"""Account data is found by its structure in any format; ordinary service sentences pass."""

from __future__ import annotations

import time
from datetime import date

import cn2an
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lenddesk.desk.disclosure import describe, find_account_data

FULL_WIDTH = str.maketrans("0123456789,.", "０１２３４５６７８９，．")
SENTENCE_STARTS = ["", "您好，", "張先生您好，", "根据系统记录，", "麻烦您注意一下，", "客服小李：", "Hi，"]
SENTENCE_ENDS = ["", "。", "，请知悉。", "，謝謝！", "，如有疑问请联系我们。", "～", " 祝您生活愉快"]
INNOCUOUS = [
    "您好，请问有什么可以帮您？",
    "您好，我是客服小王，工单 T20261124-000123 已收到。",
    "请您提供姓名和身份证后六位以便核实身份。",
    "我们会在3个工作日内回复您。",
    "客服热线 400-000-0000，工作时间周一至周五 9:00-18:00。",
    "感谢您的耐心等待，祝您生活愉快！",
    "您還有其他問題嗎？",
    "我们一块儿看看怎么处理。",
    "请稍等，我帮您转接到相关同事。",
    "为了保护您的账户安全，请先完成身份验证。",
    "已为您登记，处理结果会通过短信通知您。",
    "您可以在APP的“我的”页面查看相关信息。",
]


def grouped(yuan: int, fen: int) -> str:
    return f"{yuan:,}.{fen:02d}"


AMOUNT_FORMATS = [
    lambda y, f: f"{y}元",
    lambda y, f: f"{grouped(y, f)}元",
    lambda y, f: f"{y}.{f:02d}",
    lambda y, f: grouped(y, f),
    lambda y, f: f"¥{y}",
    lambda y, f: f"￥ {grouped(y, f)}",
    lambda y, f: f"RMB {y}.{f:02d}",
    lambda y, f: f"rmb{y}",
    lambda y, f: f"CNY {y}",
    lambda y, f: f"人民币{y}元",
    lambda y, f: f"{y}块",
    lambda y, f: f"{y}塊錢",
    lambda y, f: f"{y}圓",
    lambda y, f: f"{cn2an.an2cn(y, 'low')}元",
    lambda y, f: f"{cn2an.an2cn(y, 'up')}圆",
    lambda y, f: f"{cn2an.an2cn(y, 'rmb')}",
    lambda y, f: f"{cn2an.an2cn(y, 'low')}块钱",
    # A lone 一块/两块 without 钱 means "together" as often as money, so it is left out here.
    lambda y, f: f"{cn2an.an2cn(max(y, 3), 'low')}块",
    lambda y, f: f"{y}元".translate(FULL_WIDTH),
    lambda y, f: f"{grouped(y, f)}".translate(FULL_WIDTH),
    lambda y, f: f"应还{y}",
    lambda y, f: f"本期要还{y}",
    lambda y, f: f"还{y}",
    lambda y, f: f"欠{y}",
    lambda y, f: f"欠款{y}",
    lambda y, f: f"逾期{y}",
    lambda y, f: f"金额：{y}",
    lambda y, f: f"剩余本金为{cn2an.an2cn(y, 'low')}",
    lambda y, f: f"應還 {y}",
    lambda y, f: f"{y / 10000:.1f}万",
    lambda y, f: " ".join(f"{y}元"),  # digits spaced out
    lambda y, f: "\u200b".join(f"{y}元"),  # zero-width spaces between the digits
]


def date_formats(day: date) -> list[str]:
    weekday = "一二三四五六日"[day.weekday()]
    return [
        day.isoformat(),
        f"{day:%Y/%m/%d}",
        f"{day:%Y.%m.%d}",
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.month}月{day.day}日",
        f"{day.month}月{day.day}号",
        f"{day.day}号",
        f"{day.day}日前",
        f"{cn2an.an2cn(day.month)}月{cn2an.an2cn(day.day)}日",
        f"{cn2an.an2cn(day.day)}号",
        f"{day.month}/{day.day}",
        f"下周{weekday}",
        f"本週{weekday}",
        f"星期{weekday}前",
        f"{day.month}月{day.day}日".translate(FULL_WIDTH),
        "月底前",
        "明天之前",
    ]


def contract_shapes(letters: str, digits: str) -> list[str]:
    return [
        f"{letters}{digits}",
        f"{letters.lower()}{digits}",
        f"{letters}-{digits[:4]}-{digits[4:]}",
        f"{digits}{letters}",
        f"{letters} {digits}",
        f"{letters}{digits}".translate(
            str.maketrans(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                "ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ０１２３４５６７８９",
            )
        ),
        digits + digits[:3],  # all digits
    ]


# Words of ordinary service sentences (no digits, units of money or of time).
chinese_filler = st.text(
    alphabet="您好请问有什么可以帮助感谢耐心等待我们已经为登记处理结果会通过短信通知保护账户安全先完成身份验证的了是在",
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=1, max_value=9_999_999),
    st.integers(min_value=0, max_value=99),
    st.sampled_from(AMOUNT_FORMATS),
    st.sampled_from(SENTENCE_STARTS),
    chinese_filler,
    st.sampled_from(SENTENCE_ENDS),
)
def test_amounts_in_any_format_are_found(yuan, fen, shape, start, filler, end) -> None:
    amount = shape(yuan, fen)
    text = f"{start}{filler}{amount}{end}"
    assert any(f.kind == "amount" for f in find_account_data(text)), (text, amount)


@settings(max_examples=300, deadline=None)
@given(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    st.data(),
    st.sampled_from(SENTENCE_STARTS),
    chinese_filler,
    st.sampled_from(SENTENCE_ENDS),
)
def test_dates_in_any_format_are_found(day, data, start, filler, end) -> None:
    shown = data.draw(st.sampled_from(date_formats(day)))
    text = f"{start}{filler}请于{shown}处理{end}"
    assert any(f.kind == "date" for f in find_account_data(text)), (text, shown)


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ", min_size=1, max_size=4),
    st.text(alphabet="0123456789", min_size=7, max_size=14),
    st.data(),
    st.sampled_from(SENTENCE_STARTS),
    chinese_filler,
    st.sampled_from(SENTENCE_ENDS),
)
def test_contract_numbers_of_any_shape_are_found(letters, digits, data, start, filler, end) -> None:
    shown = data.draw(st.sampled_from(contract_shapes(letters, digits)))
    text = f"{start}{filler}合同{shown}已更新{end}"
    assert find_account_data(text), (text, shown)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["HT-1", "A-7-Z", "合同九号", "x9y", "LOAN-ABC-12"]), st.sampled_from(SENTENCE_STARTS))
def test_the_borrowers_real_contract_numbers_are_found_whatever_their_shape(number, start) -> None:
    spaced = " ".join(number.lower())
    found = find_account_data(f"{start}您的{spaced}已处理", contract_numbers=[number])
    assert any(f.kind == "contract" for f in found)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["尾号{}", "末四位{}", "后4位是{}", "****{}", "{}****", "卡号后六位：{}"]),
    st.integers(min_value=0, max_value=9999),
)
def test_card_and_id_tails_are_found(shape, tail) -> None:
    assert find_account_data(f"您{shape.format(f'{tail:04d}')}的银行卡")


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(INNOCUOUS), st.sampled_from(SENTENCE_STARTS), st.sampled_from(SENTENCE_ENDS))
def test_ordinary_service_sentences_pass(sentence, start, end) -> None:
    text = f"{start}{sentence}{end}"
    assert find_account_data(text, public=["400-000-0000"]) == [], text


@pytest.mark.parametrize(
    "reply",
    ["您的应还金额：3,200.00", "本期要还5000块", "请还款 RMB 888.00", "应还1234.56，15号前还款"],
)
def test_the_replies_that_reached_unverified_callers_are_found(reply: str) -> None:
    assert find_account_data(reply)


def test_what_was_found_is_named_in_both_languages() -> None:
    zh, en = describe(find_account_data("应还1234.56，15号前还款"))
    assert zh == "金额「应还1234.56」、日期「15号」"
    assert en == "amount '应还1234.56', date '15号'"


def test_the_hotline_and_ticket_number_are_public() -> None:
    assert find_account_data("热线 400-000-0000，工单 T20261124-000123") != []
    assert find_account_data("热线 400-000-0000，工单 T20261124-000123", public=["400-000-0000"]) == []


@pytest.mark.parametrize("unit", ["1", "1,", "一", "*", "a-", "0-", "金额", "12月"])
def test_a_hostile_5000_character_reply_is_scanned_in_linear_time(unit: str) -> None:
    text = unit * (5000 // len(unit))
    started = time.perf_counter()
    find_account_data(text, contract_numbers=["HT20260105001"])
    assert time.perf_counter() - started < 2.0  # quadratic backtracking took 3-9 s on these


def test_text_without_traditional_characters_skips_the_slow_conversion(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from lenddesk.desk import disclosure

    disclosure.normalise("測試")  # the converter and its character set are loaded once
    calls = []
    real = disclosure._t2s()
    monkeypatch.setattr(disclosure, "_t2s", lambda: calls.append(1) or real)
    assert disclosure.normalise("您好，您的借款 5000 元已到账") == "您好,您的借款5000元已到账"
    assert calls == []
    assert disclosure.normalise("您的借款餘額") == "您的借款余额" and calls == [1]


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from("借款餘額還欠說話后後里裡发發干乾台臺的了 ＡＢ１２3,.\u200b\t"), max_size=30
    )
)
def test_normalise_with_the_skip_equals_converting_every_text(text: str) -> None:
    import unicodedata

    import opencc

    from lenddesk.desk import disclosure

    nfkc = unicodedata.normalize("NFKC", text)
    converted = opencc.OpenCC("t2s").convert(nfkc)
    kept = (ch for ch in converted if not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc"))
    assert disclosure.normalise(text) == "".join(kept).lower()
