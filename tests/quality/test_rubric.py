"""The rubric, code by code: passing and failing Chinese transcripts (evasions of banned language
included), not-applicable cases, the score, and properties (same input, same result)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lenddesk.desk import disclosure
from lenddesk.quality import rubric
from lenddesk.quality.rubric import Conversation, LedgerFacts, Turn

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
ALL = dict.fromkeys(rubric.CODES, 10)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def chat(*turns: tuple[str, str], **extra) -> Conversation:  # type: ignore[no-untyped-def]
    return Conversation("chat", tuple(Turn(who, text, at(i)) for i, (who, text) in enumerate(turns)), **extra)


def item(conversation: Conversation, code: str) -> rubric.ItemResult:
    return rubric.score(conversation, ALL).item(code)


# --- GREETING -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "opening",
    [
        "您好，我是客服小王，很高兴为您服务。",
        "你好，这里是贷后服务中心。",
        "晚上好！客服 007 号为您服务",
        "您好，我是客服。",
    ],
)
def test_greeting_passes_a_polite_opening_that_names_the_agent_or_service(opening: str) -> None:
    result = item(chat(("borrower", "在吗"), ("agent", opening)), "GREETING")
    assert result.result == "pass"
    assert opening.split("，")[0][:2] in result.evidence


@pytest.mark.parametrize(
    ("opening", "why"),
    [("说吧，什么事", "未使用礼貌问候语"), ("您好。", "未自报姓名或服务名称"), ("喂？", "未使用礼貌问候语")],
)
def test_greeting_fails_without_politeness_or_a_name(opening: str, why: str) -> None:
    result = item(chat(("borrower", "在吗"), ("agent", opening)), "GREETING")
    assert result.result == "fail" and why in result.evidence and opening in result.evidence


def test_greeting_reads_traditional_and_full_width_text() -> None:
    assert item(chat(("agent", "您好，我是客服小陳，很高興為您服務")), "GREETING").result == "pass"
    assert item(chat(("agent", "ｎｉｈａｏ 您好 ，我 是 客 服")), "GREETING").result == "pass"


def test_greeting_is_not_applicable_without_an_agent() -> None:
    assert item(chat(("borrower", "你好"), ("bot", "您好，我是智能助手")), "GREETING").result == "n/a"


# --- IDENTITY_CHECK -------------------------------------------------------------------------------


def test_account_data_before_verification_is_a_severe_failure() -> None:
    conversation = chat(
        ("borrower", "我这个月还多少"),
        ("agent", "您好，本期应还1,050.00元，12月5日到期。"),
        verified_at=at(5),
    )
    score = rubric.score(conversation, ALL)
    assert score.item("IDENTITY_CHECK").result == "fail" and score.severe and score.score == 0
    assert "1,050.00" in score.item("IDENTITY_CHECK").evidence


@pytest.mark.parametrize(
    "leak",
    [
        "应还壹仟零伍拾元",
        "您尾号 1232 的卡",
        "合同 ht 2026 0105 001 已逾期",
        "还款日是十二月五日",
        "欠款１０５０元",
    ],
)
def test_disclosure_is_found_in_any_shape_before_verification(leak: str) -> None:
    conversation = chat(("borrower", "查账"), ("agent", leak), contract_numbers=("HT20260105001",))
    assert item(conversation, "IDENTITY_CHECK").result == "fail"


def test_account_data_after_verification_passes_and_none_at_all_is_not_applicable() -> None:
    verified = chat(("borrower", "还多少"), ("agent", "您本期应还1050.00元"), verified_at=at(0))
    assert item(verified, "IDENTITY_CHECK").result == "pass"
    silent = chat(("borrower", "还多少"), ("agent", "请您先完成身份核验，我再为您查询。"))
    assert item(silent, "IDENTITY_CHECK").result == "n/a"


def test_the_hotline_and_ticket_number_are_not_account_data() -> None:
    conversation = chat(("agent", "请拨打 400-000-0000，工单号 T20261124-000001"), public=("400-000-0000",))
    assert item(conversation, "IDENTITY_CHECK").result == "n/a"


# --- ACCURACY -------------------------------------------------------------------------------------

LEDGER = LedgerFacts(frozenset({105000, 210000}), frozenset({date(2026, 12, 5)}))


def test_quoted_amounts_and_dates_that_match_the_ledger_pass() -> None:
    conversation = chat(
        ("agent", "本期应还1,050.00元，还款日12月5日，结清需¥2100。"), ledger=LEDGER, verified_at=T0
    )
    assert item(conversation, "ACCURACY").result == "pass"


@pytest.mark.parametrize(
    "quote", ["本期应还1,500.00元", "还款日是2026年12月15日", "您还欠 1050.5 元", "12月6号前还款"]
)
def test_a_wrong_amount_or_date_fails(quote: str) -> None:
    result = item(chat(("agent", quote), ledger=LEDGER, verified_at=T0), "ACCURACY")
    assert result.result == "fail" and quote[:4] in result.evidence


def test_accuracy_is_not_applicable_without_ledger_facts_or_quotes() -> None:
    assert item(chat(("agent", "本期应还999元")), "ACCURACY").result == "n/a"
    assert item(chat(("agent", "请您按时还款"), ledger=LEDGER), "ACCURACY").result == "n/a"


# --- EMPATHY --------------------------------------------------------------------------------------


def test_distress_acknowledged_passes() -> None:
    conversation = chat(
        ("borrower", "我住院了，真的还不上"), ("agent", "非常抱歉听到这个消息，请您先保重身体。")
    )
    assert item(conversation, "EMPATHY").result == "pass"


def test_distress_ignored_fails_with_the_borrowers_words() -> None:
    conversation = chat(("borrower", "我失業了，壓力很大"), ("agent", "请尽快还款。"))
    result = item(conversation, "EMPATHY")
    assert result.result == "fail" and "失業" in result.evidence


def test_empathy_before_the_distress_does_not_count_and_none_is_not_applicable() -> None:
    early = chat(("agent", "理解您的心情"), ("borrower", "我没钱了"), ("agent", "请还款"))
    assert item(early, "EMPATHY").result == "fail"
    assert item(chat(("borrower", "怎么还款"), ("agent", "在 App 还款")), "EMPATHY").result == "n/a"


# --- SOLUTION_OFFERED -----------------------------------------------------------------------------


def test_hardship_with_an_option_passes_and_without_fails() -> None:
    asked = ("borrower", "我还不起了，能不能协商分期？")
    assert item(chat(asked, ("agent", "可以为您申请分期还款方案。")), "SOLUTION_OFFERED").result == "pass"
    failed = item(chat(asked, ("agent", "那没办法。")), "SOLUTION_OFFERED")
    assert failed.result == "fail" and "协商分期" in failed.evidence


def test_a_complaint_needs_a_next_step() -> None:
    asked = ("borrower", "你们客服态度太差，我要投诉！")
    assert (
        item(chat(asked, ("agent", "已为您登记，会在24小时内联系您。")), "SOLUTION_OFFERED").result == "pass"
    )
    assert item(chat(asked, ("agent", "随便你。")), "SOLUTION_OFFERED").result == "fail"
    assert item(chat(("borrower", "还款入口在哪"), ("agent", "首页")), "SOLUTION_OFFERED").result == "n/a"


# --- BANNED_LANGUAGE (the collections guard) ------------------------------------------------------


@pytest.mark.parametrize(
    "said",
    [
        "再不还钱就等着坐牢吧",
        "再不还就等着做牢",  # homophone
        "再不还就等着 zuolao",  # pinyin
        "你就是个 傻 逼",  # spaces inside
        "你這個廢物",  # Traditional
        "我们已经向法院立案，明天传票就到",  # false authority
        "不还钱就通知你单位和家人",  # false consequence
        "小心你的家人出门",  # threat
        "坐。牢！",  # punctuation inside the word
    ],
)
def test_banned_language_and_its_evasions_are_severe(said: str) -> None:
    score = rubric.score(chat(("borrower", "我还不上"), ("agent", f"您好，我是客服。{said}")), ALL)
    assert score.item("BANNED_LANGUAGE").result == "fail", said
    assert score.severe and score.score == 0


def test_factual_consequences_stated_politely_pass() -> None:
    polite = "您好，我是客服。逾期会产生罚息，并可能影响您的个人征信记录，建议您按时还款。感谢您的配合。"
    assert item(chat(("borrower", "不还会怎样"), ("agent", polite)), "BANNED_LANGUAGE").result == "pass"


def test_the_borrowers_own_words_are_not_the_agents_fault() -> None:
    conversation = chat(("borrower", "你们这些傻逼"), ("agent", "您好，我是客服，请您冷静，我来帮您处理。"))
    assert item(conversation, "BANNED_LANGUAGE").result == "pass"


def test_internal_notes_are_checked_for_banned_language() -> None:
    conversation = chat(("agent", "您好，我是客服"), ("note", "这个老赖就是个废物"))
    assert item(conversation, "BANNED_LANGUAGE").result == "fail"


# --- PRIVACY --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "said",
    [
        "您的身份证号是110105199001011232",
        "卡号 6222 0212 3456 7890 128 已绑定",
        "您的身份证号 １１０１０５１９９００１０１１２３２",  # full-width digits
        "我把您老婆的手机 13912345678 记下了",
    ],
)
def test_a_full_identifier_in_clear_is_a_severe_privacy_failure(said: str) -> None:
    score = rubric.score(chat(("agent", said)), ALL)
    assert score.item("PRIVACY").result == "fail" and score.severe


def test_masked_identifiers_pass_privacy() -> None:
    conversation = chat(("agent", "您尾号1232的身份证、138****5678 的手机已核验"), verified_at=T0)
    assert item(conversation, "PRIVACY").result == "pass"


# --- CLOSING --------------------------------------------------------------------------------------


def test_closing_passes_with_thanks_or_a_next_step_and_fails_without() -> None:
    assert (
        item(chat(("agent", "您好"), ("agent", "感谢您的耐心，祝您生活愉快！")), "CLOSING").result == "pass"
    )
    assert (
        item(chat(("agent", "您好"), ("agent", "请您保持电话畅通，稍后回电。")), "CLOSING").result == "pass"
    )
    failed = item(chat(("agent", "谢谢您"), ("agent", "就这样。")), "CLOSING")
    assert failed.result == "fail" and "就这样" in failed.evidence


# --- RESPONSE_TIME --------------------------------------------------------------------------------


def test_response_time_against_the_deadline_or_the_minutes() -> None:
    quick = Conversation(
        "chat", (Turn("borrower", "在吗", at(0)), Turn("agent", "您好", at(10))), first_response_minutes=15
    )
    slow = Conversation(
        "chat", (Turn("borrower", "在吗", at(0)), Turn("agent", "您好", at(20))), first_response_due=at(15)
    )
    assert item(quick, "RESPONSE_TIME").result == "pass"
    late = item(slow, "RESPONSE_TIME")
    assert late.result == "fail" and "20 分钟" in late.evidence
    untimed = Conversation(
        "chat", (Turn("borrower", "在吗"), Turn("agent", "您好")), first_response_minutes=15
    )
    assert item(untimed, "RESPONSE_TIME").result == "n/a"


# --- the score ------------------------------------------------------------------------------------


def test_the_score_is_the_weighted_share_of_applicable_items_passed() -> None:
    conversation = chat(("borrower", "在吗"), ("agent", "在的。"))  # greeting and closing fail
    weights = {"GREETING": 30, "CLOSING": 10, "BANNED_LANGUAGE": 60, "EMPATHY": 50}
    score = rubric.score(conversation, weights)
    assert [i.code for i in score.items] == ["GREETING", "EMPATHY", "BANNED_LANGUAGE", "CLOSING"]
    assert score.score == 60  # 60 of 100 applicable (empathy n/a)
    assert rubric.score(conversation, {"EMPATHY": 10}).score == 100  # nothing applicable


def test_a_severe_failure_keeps_its_score_when_the_policy_says_so() -> None:
    conversation = chat(("agent", "您好，我是客服。你这个废物。谢谢"))
    kept = rubric.score(conversation, ALL, severe_zeroes_score=False)
    assert kept.severe and kept.score > 0


HOSTILE = st.text(
    alphabet=st.sampled_from(
        [*"您好我是客服还款欠元月日号0123456789１２３,.。！ \t\n坐牢废物尾号ＨＴht-", "\ud800", "\u200b"]
    ),
    max_size=80,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.sampled_from(["agent", "borrower", "bot"]), HOSTILE), min_size=1, max_size=8),
    st.booleans(),
)
def test_scoring_is_deterministic_bounded_and_never_raises(turns, verified: bool) -> None:
    conversation = Conversation(
        "chat",
        tuple(Turn(who, text, at(i)) for i, (who, text) in enumerate(turns)),
        verified_at=T0 if verified else None,
    )
    first, second = rubric.score(conversation, ALL), rubric.score(conversation, ALL)
    assert first == second
    assert 0 <= first.score <= 100
    assert {i.result for i in first.items} <= set(rubric.RESULTS)


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(
            list("零一二两十百千万元块号日月周天今明上下旬尾号末xX*¥$rmb为是:应还欠款的了我你您好")
            + list("0123456789，。 ")
        ),
        max_size=30,
    )
)
def test_the_account_data_prefilter_never_skips_what_the_disclosure_scan_finds(text: str) -> None:
    if not rubric.may_hold_account_data(rubric.normalise(text)):
        assert disclosure.find_account_data(text) == []
