"""The rubric's shortcuts give the verdicts of the long way: the disclosure scan cached under only
what can change its answer, and the identity check skipping scans that cannot change its verdict."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lenddesk.desk import disclosure
from lenddesk.quality import identity, language, rubric
from lenddesk.quality.rubric import Conversation, Turn

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
ALL = dict.fromkeys(rubric.CODES, 10)
CONTRACTS = ("HT123456", "LN-2026-00123", "ht20260105001")
PUBLIC = ("400-000-0000", "T20261124-000123")
SENTENCES = [
    "您的合同ht123400-000-0000456已结清。",  # the hotline cut out joins the contract number
    "合同号 HT-123456，应还 1,050.00 元",
    "请拨打400-000-0000，工单T20261124-000123已登记",
    "LN 2026 00123 本期 12月5日 到期",
    "還款日為十二月五日，應還壹仟元",
    "尾号1234的卡，ht20260105001",
    "您好，很高兴为您服务。",
]
FRAGMENTS = st.sampled_from(
    [
        *("ht", "HT", "123", "456", "400-000-0000", "-", "T20261124-000123", "ln", "2026", "00123"),
        *("元", "应还", "月", "5日", "尾号", "，", " ", "您", "结清", "1,050.00", "０", "還"),
    ]
)


def account_data(text: str, contracts: tuple[str, ...], public: tuple[str, ...]) -> tuple:  # type: ignore[type-arg]
    conversation = Conversation("chat", (Turn("agent", text, T0),), contract_numbers=contracts, public=public)
    reading = rubric.read(conversation)
    return tuple(
        finding for sentence in reading.sentences for finding in identity.account_data(reading, sentence)
    )


def scanned(text: str, contracts: tuple[str, ...], public: tuple[str, ...]) -> tuple:  # type: ignore[type-arg]
    reading = rubric.read(Conversation("chat", (Turn("agent", text, T0),)))
    found = []
    for sentence in reading.sentences:
        if rubric.may_hold_account_data(sentence.plain, contracts):
            found += disclosure.find_account_data(sentence.text, contract_numbers=contracts, public=public)
    return tuple(found)


@pytest.mark.parametrize("text", SENTENCES)
def test_the_cached_disclosure_scan_finds_what_the_full_scan_finds(text: str) -> None:
    assert account_data(text, CONTRACTS, PUBLIC) == scanned(text, CONTRACTS, PUBLIC)


@settings(max_examples=300, deadline=None)
@given(st.lists(FRAGMENTS, max_size=12).map("".join))
def test_the_cached_disclosure_scan_agrees_on_any_text(text: str) -> None:
    assert account_data(text, CONTRACTS, PUBLIC) == scanned(text, CONTRACTS, PUBLIC)


LINES = st.sampled_from(
    [
        *SENTENCES,
        *("请提供身份证后六位", "110105199001011232", "我是他老婆，他欠你们多少", "您的借款已逾期", "好的"),
        *("您本期应还2,318.40元，还款日为12月18日。", "您丈夫在我们平台有一笔借款", "不给，凭什么"),
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.sampled_from(["agent", "borrower", "bot"]), LINES), min_size=1, max_size=8),
    st.sampled_from([None, 0, 2, 5]),
)
def test_skipping_scans_never_changes_a_score(turns, verified_minute) -> None:  # type: ignore[no-untyped-def]
    conversation = Conversation(
        "chat",
        tuple(Turn(who, text, T0 + timedelta(minutes=i)) for i, (who, text) in enumerate(turns)),
        verified_at=None if verified_minute is None else T0 + timedelta(minutes=verified_minute),
        contract_numbers=CONTRACTS,
        public=PUBLIC,
    )
    fast = rubric.score(conversation, ALL)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(identity, "_changes_nothing", lambda *_: False)
        assert rubric.score(conversation, ALL) == fast


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.lists(st.tuples(st.sampled_from(["agent", "borrower", "note"]), LINES), max_size=5), max_size=6
    )
)
def test_checking_a_batch_first_never_changes_a_score(conversations) -> None:  # type: ignore[no-untyped-def]
    batch = [
        Conversation(
            "chat", tuple(Turn(who, text, T0 + timedelta(minutes=i)) for i, (who, text) in enumerate(c))
        )
        for c in conversations
    ]
    alone = []
    for conversation in batch:
        language.RECENT = language.Recent(8192)  # nothing remembered
        alone.append(rubric.score(conversation, ALL))
    language.RECENT = language.Recent(8192)
    rubric.check_language(batch)
    assert [rubric.score(conversation, ALL) for conversation in batch] == alone


TEXTS = st.text(
    alphabet=st.sampled_from("借款餘額還欠應还元号月日尾號 ＡＢ１２3,.-:：HTln\u200b\u3000\t\n¥￥"),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_the_rubric_normalises_as_the_desk_does(text: str) -> None:
    """The disclosure scan reads a sentence's `plain` (the rubric's normalisation) in place of
    normalising the sentence again: the two must agree on every text."""
    assert rubric.normalise(text) == disclosure.normalise(text)


@settings(max_examples=300, deadline=None)
@given(TEXTS, st.sampled_from([(), CONTRACTS]), st.sampled_from([(), PUBLIC]))
def test_scanning_normalised_text_finds_what_scanning_the_text_does(
    text: str, contracts: tuple[str, ...], public: tuple[str, ...]
) -> None:
    found = disclosure.find_in_normalised(rubric.normalise(text), contract_numbers=contracts, public=public)
    assert found == disclosure.find_account_data(text, contract_numbers=contracts, public=public)
