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


@pytest.mark.parametrize("opening", ["说吧，什么事", "喂？", "在的，请问有什么可以帮您？"])
def test_greeting_fails_without_a_polite_opener(opening: str) -> None:
    result = item(chat(("borrower", "在吗"), ("agent", opening)), "GREETING")
    assert result.result == "fail" and "未使用礼貌问候语" in result.evidence and opening in result.evidence


@pytest.mark.parametrize(
    ("channel", "opening"),
    [
        ("chat", "您好。"),  # a greeting alone is enough: naming oneself is not required
        ("email", "尊敬的客户您好：\n您的结清证明已开具，可在 App 中下载。"),
        ("email", "王女士您好：\n多扣的款项将在3个工作日内原路退回。"),
        ("chat", "阿姨您好，借款信息只能和本人沟通。"),
        ("email", "您好！\n收到您的反馈，已登记。"),
    ],
)
def test_a_written_greeting_in_the_first_agent_message_passes_in_chat_and_email(
    channel: str, opening: str
) -> None:
    conversation = Conversation(
        channel, (Turn("borrower", "你好，我想问一下", at(0)), Turn("agent", opening, at(1)))
    )
    assert item(conversation, "GREETING").result == "pass"


@pytest.mark.parametrize(
    "opening",
    [
        "王女士：\n经查，您反映的问题已核实，多扣款项将原路退回。",  # a bare salutation
        "经查，您12月3日的还款已入账。",
        "提前还款不收取违约金，您可以在 App 中操作。",  # a straight answer
        "您好像还没有完成实名认证。",  # 您好像 is no greeting
    ],
)
def test_a_bare_salutation_or_a_straight_answer_fails_in_email_too(opening: str) -> None:
    conversation = Conversation(
        "email", (Turn("borrower", "您好！请问……", at(0)), Turn("agent", opening, at(60)))
    )
    assert item(conversation, "GREETING").result == "fail"


def test_a_reply_to_a_borrower_who_greeted_first_is_judged_on_the_agents_first_message() -> None:
    late = chat(
        ("borrower", "你好"),
        ("agent", "请问什么事"),
        ("borrower", "还款日能改吗"),
        ("agent", "您好，可以修改。"),
    )
    assert item(late, "GREETING").result == "fail"


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


def test_account_data_after_verification_passes_and_no_account_at_all_is_not_applicable() -> None:
    verified = chat(("borrower", "还多少"), ("agent", "您本期应还1050.00元"), verified_at=at(0))
    assert item(verified, "IDENTITY_CHECK").result == "pass"
    asked_first = chat(("borrower", "我还多少"), ("agent", "请您先完成身份核验，我再为您查询。"))
    assert item(asked_first, "IDENTITY_CHECK").result == "pass"  # the account is touched, nothing leaked
    general = chat(("borrower", "你们客服电话多少"), ("agent", "您好，客服热线400-820-1234。"))
    assert item(general, "IDENTITY_CHECK").result == "n/a"


def test_the_agent_asking_and_the_borrower_answering_verifies_identity() -> None:
    conversation = chat(
        ("borrower", "在吗？我想查下这个月要还多少"),
        ("agent", "您好，为了您的账户安全，请先提供注册手机号后四位和身份证后六位。"),
        ("borrower", "手机后四位5521，身份证后六位03241X"),
        ("agent", "感谢配合，已核实。您本期应还2,318.40元，还款日为12月18日。"),
    )
    result = item(conversation, "IDENTITY_CHECK")
    assert result.result == "pass" and "2,318.40" in result.evidence


def test_a_refused_identity_question_verifies_nothing() -> None:
    conversation = chat(
        ("borrower", "我这个月还款日是几号"),
        ("agent", "您好，请提供身份证后四位核实身份。"),
        ("borrower", "不方便，你直接说吧"),
        ("agent", "好的，您的还款日是每月8号，本期应还980元。"),
    )
    assert item(conversation, "IDENTITY_CHECK").result == "fail"


def test_confirming_ones_name_answers_and_not_being_the_borrower_does_not() -> None:
    asked = ("agent", "您好，请问是王先生吗？")
    told = ("agent", "您本期应还1,050元。")
    assert item(chat(asked, ("borrower", "是的"), told), "IDENTITY_CHECK").result == "pass"
    assert item(chat(asked, ("borrower", "我不是，他是我哥"), told), "IDENTITY_CHECK").result == "fail"


def test_a_verification_turn_counts_from_that_turn() -> None:
    volunteered = Conversation(
        "chat",
        (
            Turn("borrower", "我是陈大文，身份证尾号5566，这个月要还多少", at(0)),
            Turn("agent", "陈先生您好，您本期应还3,150元。", at(1)),
        ),
        verified_turn=0,
    )
    assert item(volunteered, "IDENTITY_CHECK").result == "pass"
    later = Conversation(
        "chat",
        (
            Turn("borrower", "我这个月要还多少", at(0)),
            Turn("agent", "您本期应还3,150元。", at(1)),
            Turn("borrower", "我是陈大文，尾号5566", at(2)),
        ),
        verified_turn=2,
    )
    assert item(later, "IDENTITY_CHECK").result == "fail"


@pytest.mark.parametrize(
    "leak",
    ["您已逾期三天，请尽快处理。", "您的借款目前处于逾期状态。", "您绑定的是尾号6688的招商银行卡。"],
)
def test_overdue_status_and_card_tails_are_account_data(leak: str) -> None:
    conversation = chat(("borrower", "我的借款怎么样了"), ("agent", f"您好，{leak}"))
    assert item(conversation, "IDENTITY_CHECK").result == "fail"


def test_a_maintenance_notice_or_a_worked_example_is_no_account_data() -> None:
    notice = chat(("agent", "尊敬的客户您好：App 将于12月20日凌晨2:00至4:00维护，期间暂停还款服务。"))
    assert item(notice, "IDENTITY_CHECK").result == "n/a"
    example = chat(
        ("borrower", "借1万，年化18%，分6期等额本息，每期还多少？"),
        ("agent", "您好，每期应还约1,755.25元。"),
    )
    assert item(example, "IDENTITY_CHECK").result == "n/a"


def test_refusing_a_relative_the_borrowers_loan_passes_and_telling_them_fails() -> None:
    asked = ("borrower", "我是张伟的妈妈，他在你们这借了多少钱？是不是逾期了？")
    refused = chat(
        asked, ("agent", "阿姨您好，借款信息属于客户个人隐私，只能和借款人本人沟通，无法向您透露。")
    )
    assert item(refused, "IDENTITY_CHECK").result == "pass"
    assert item(refused, "PRIVACY").result == "pass"
    told = rubric.score(chat(asked, ("agent", "您好，他已经逾期20天了，欠款5400元。")), ALL)
    assert told.item("IDENTITY_CHECK").result == "fail" and "第三方" in told.item("IDENTITY_CHECK").evidence
    assert told.item("PRIVACY").result == "fail" and told.severe


def test_another_persons_loan_told_to_a_verified_borrower_fails() -> None:
    conversation = Conversation(
        "chat",
        (
            Turn("borrower", "我的借款还差多少结清", at(0)),
            Turn(
                "agent", "您好，您还差3,200元。另外您丈夫周强在我们平台也有一笔5万元的借款，已逾期。", at(1)
            ),
        ),
        verified_turn=0,
    )
    score = rubric.score(conversation, ALL)
    assert score.item("IDENTITY_CHECK").result == "fail" and score.item("PRIVACY").result == "fail"
    polite = chat(
        ("borrower", "我的借款逾期了会怎样"), ("agent", "您好，我们不会联系您的家人，也不会透露您的借款。")
    )
    assert item(polite, "PRIVACY").result == "pass"


def test_a_question_about_this_months_figures_touches_the_account_a_worked_example_does_not() -> None:
    asked = chat(("borrower", "这个月要还多少"), ("agent", "您好，请登录 App 查看。"))
    assert item(asked, "IDENTITY_CHECK").result == "pass"
    example = chat(("borrower", "如果借5000分6期，每期还多少"), ("agent", "您好，以 App 试算为准。"))
    assert item(example, "IDENTITY_CHECK").result == "n/a"


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


@pytest.mark.parametrize(
    ("quote", "result"),
    [
        ("分4期的话每期1500元，4期合计6500元。", "fail"),
        ("剩余6000元分3期，每期2000元。", "pass"),
        ("免息分12期每期833.33元，12期合计约10,000元。", "pass"),  # cents of rounding
        ("本金5,000元，利息300元，罚息50元，合计5,400元。", "fail"),
        ("本金5,000元，利息300元，罚息50元，合计5,350元。", "pass"),
        ("请您按时还款。", "n/a"),
        ("您本期应还1,520元。", "n/a"),  # nothing to check it against
    ],
)
def test_without_the_ledger_accuracy_judges_the_arithmetic_in_the_text(quote: str, result: str) -> None:
    assert item(chat(("agent", quote), verified_at=T0), "ACCURACY").result == result


@pytest.mark.parametrize(
    ("quote", "result"),
    [
        ("4×1500=6500", "fail"),
        ("1500乘以4等于6000元", "pass"),
        ("5000+300+50=5400", "fail"),
        ("每期1,600元，6期共计9,600元（已含利息）", "pass"),
        ("分12期，每期1000元，加上利息共计12600元", "n/a"),  # the interest is not given
    ],
)
def test_written_sums_are_checked_and_added_charges_are_not_judged(quote: str, result: str) -> None:
    assert item(chat(("agent", quote), verified_at=T0), "ACCURACY").result == result


def test_a_level_payment_is_checked_against_principal_rate_and_months() -> None:
    asked = ("borrower", "借12000元，年利率12%，分12期等额本息，每月还多少？")
    right = item(chat(asked, ("agent", "您好，每月应还约1066.19元，总利息约794.28元。")), "ACCURACY")
    assert right.result == "pass" and "1066.19" in right.evidence
    asked = ("borrower", "借1万，年化18%，分6期等额本息，每期还多少？")
    wrong = item(chat(asked, ("agent", "您好，每期应还1,800元，6期共还10,800元。")), "ACCURACY")
    assert wrong.result == "fail" and "1755.25" in wrong.evidence


@pytest.mark.parametrize(("interest", "result"), [("150", "pass"), ("160", "fail")])
def test_simple_daily_interest_is_checked(interest: str, result: str) -> None:
    asked = ("borrower", "借款10000元，日利率万分之五，用了30天，利息多少？")
    assert item(chat(asked, ("agent", f"您好，利息共{interest}元。")), "ACCURACY").result == result


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


@pytest.mark.parametrize(
    ("said", "answer"),
    [
        ("我害怕，逾期会坐牢吗？", "请别担心，逾期不构成犯罪。"),
        ("生意失败了，现在负债累累，真的撑不下去了", "我能体会您的不容易，我们一起想办法。"),
    ],
)
def test_worry_and_hardship_need_acknowledging_too(said: str, answer: str) -> None:
    assert item(chat(("borrower", said), ("agent", answer)), "EMPATHY").result == "pass"
    assert item(chat(("borrower", said), ("agent", "请按时还款。")), "EMPATHY").result == "fail"


def test_an_angry_complaint_alone_is_no_distress() -> None:
    angry = chat(("borrower", "你们搞什么？？？我要投诉！"), ("agent", "您好，已为您登记投诉。"))
    assert item(angry, "EMPATHY").result == "n/a"


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
    where = chat(("borrower", "还款入口在哪"), ("agent", "在 App 首页点“还款”即可。"))
    assert item(where, "SOLUTION_OFFERED").result == "pass"


@pytest.mark.parametrize(
    "answer",
    [
        "在 App 首页点“提前还款”，选择借款后确认即可。",
        "多扣的款项将在3个工作日内原路退回。",
        "还清后一般在次月征信报送时更新。",
        "这是诈骗电话，请不要转账，可拨打96110反诈专线。",
    ],
)
def test_stating_what_will_happen_or_what_the_borrower_can_do_passes(answer: str) -> None:
    conversation = chat(("borrower", "你好，请问一下"), ("agent", f"您好，{answer}"))
    assert item(conversation, "SOLUTION_OFFERED").result == "pass"


def test_a_need_met_with_a_rule_or_a_refusal_fails_and_only_no_agent_is_not_applicable() -> None:
    hardship = ("borrower", "我住院了，这个月能不能晚点还")
    assert (
        item(chat(hardship, ("agent", "逾期会产生罚息，请按时还款。")), "SOLUTION_OFFERED").result == "fail"
    )
    request = ("borrower", "下个月再还行吗")
    assert item(chat(request, ("agent", "不行，自己看着办。")), "SOLUTION_OFFERED").result == "fail"
    inquiry = chat(("borrower", "我的扣款卡是哪张"), ("agent", "您好，是尾号6688的卡。"), verified_at=T0)
    assert item(inquiry, "SOLUTION_OFFERED").result == "fail"  # expected of every conversation
    assert item(chat(("borrower", "在吗"), ("bot", "您好")), "SOLUTION_OFFERED").result == "n/a"


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


@pytest.mark.parametrize(
    "said",
    [
        "系统登记的身份证号是110105198803154171",  # check digit wrong: still an ID number in clear
        "您绑定的还款卡号为6217 0000 1234 5678 901",  # Luhn fails: still a card number
        "您的身份证号 32010219920517332X 已登记",
        "您预留的手机号是13812345678",
    ],
)
def test_a_full_number_in_clear_fails_whatever_its_check_digits(said: str) -> None:
    score = rubric.score(chat(("agent", said), verified_at=T0), ALL)
    assert score.item("PRIVACY").result == "fail" and score.severe


@pytest.mark.parametrize(
    "said",
    [
        "您尾号0832的卡、139****5678 的手机已核验",
        "身份证110105********4170与证件一致",
        "请拨打客服热线400-820-1234，合同编号HT20260315008",
    ],
)
def test_masked_numbers_hotlines_and_contract_numbers_are_no_privacy_leak(said: str) -> None:
    assert item(chat(("agent", said), verified_at=T0), "PRIVACY").result == "pass"


def test_a_long_transaction_number_is_no_id_or_card_number() -> None:
    said = "您的还款流水号202612031015300001已入账"  # 18 digits, but no birth date and no card prefix
    assert item(chat(("agent", said), verified_at=T0), "PRIVACY").result == "pass"


@pytest.mark.parametrize("asked", ["我是他老婆，他欠你们多少", "我老公在你们这借的钱还了没有"])
def test_a_spouse_asking_is_a_third_party(asked: str) -> None:
    told = chat(("borrower", asked), ("agent", "您好，他还欠5400元。"))
    assert item(told, "PRIVACY").result == "fail"


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


def test_an_email_sign_off_closes() -> None:
    letter = "李先生您好：\n结清证明已开具。\n此致\n客服中心"
    assert item(Conversation("email", (Turn("agent", letter, at(0)),)), "CLOSING").result == "pass"


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


def test_with_a_minutes_limit_every_answer_is_timed_not_only_the_first() -> None:
    turns = (
        Turn("borrower", "在吗", at(0)),
        Turn("agent", "您好，请讲", at(1)),
        Turn("borrower", "还款失败了", at(2)),
        Turn("agent", "您好，请换一张卡试试", at(40)),
    )
    late = item(Conversation("chat", turns, first_response_minutes=5), "RESPONSE_TIME")
    assert late.result == "fail" and "38 分钟" in late.evidence
    quick = Conversation("chat", (*turns[:3], Turn("agent", "请换一张卡", at(4))), first_response_minutes=5)
    assert item(quick, "RESPONSE_TIME").result == "pass"


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


# --- issue 19, second round: the items reviewers disagreed on most -----------------------------------


def test_a_greeting_later_in_an_emails_first_message_passes() -> None:
    opening = "关于您12月5日来信反映的重复扣款问题，我们已经核实。周女士您好，多扣的300元将原路退回。"
    conversation = Conversation(
        "email", (Turn("borrower", "多扣了钱", at(0)), Turn("agent", opening, at(60)))
    )
    assert item(conversation, "GREETING").result == "pass"


@pytest.mark.parametrize("opening", ["Dear Mr Chen,\n\nThank you for your e-mail.", "Good morning, Ms Li."])
def test_an_english_salutation_is_a_greeting(opening: str) -> None:
    conversation = Conversation("email", (Turn("borrower", "hello", at(0)), Turn("agent", opening, at(60))))
    assert item(conversation, "GREETING").result == "pass"


def test_wishing_good_luck_is_no_greeting() -> None:
    assert item(chat(("borrower", "在吗"), ("agent", "已处理，祝您好运。")), "GREETING").result == "fail"


@pytest.mark.parametrize(
    "said",
    [
        "您绑定的是工商银行卡 9558 8012 0012 3456 789。",  # a card of an issuer starting with 9
        "我们记录的您的联系电话是 +86 139 1234 5678。",  # a mobile with the country code
        "卡号 1234 5678 9012 3456 已解绑。",  # sixteen digits, whatever the issuer
    ],
)
def test_a_number_in_clear_fails_privacy_whatever_its_issuer_or_prefix(said: str) -> None:
    conversation = chat(
        ("borrower", "查一下"), ("agent", "请提供身份证后四位。"), ("borrower", "0318"), ("agent", said)
    )
    assert item(conversation, "PRIVACY").result == "fail"


def test_a_bare_status_before_verification_fails_identity() -> None:
    conversation = chat(
        ("borrower", "我之前那笔贷款结清了吗"), ("agent", "您好，已经结清了，结清证明可以在App下载。")
    )
    assert item(conversation, "IDENTITY_CHECK").result == "fail"


def test_an_english_sentence_is_not_read_as_a_contract_number() -> None:
    said = (
        "Thank you. We have paused reminders while we review your complaint; we reply within 5 working days."
    )
    assert item(chat(("agent", said)), "IDENTITY_CHECK").result == "n/a"


@pytest.mark.parametrize(
    "answer",
    [
        "已核实，退款已经发起，款项会原路返回到您的付款账户，一般三到五个工作日到账。",
        "您下期扣款日为1月8日，请提前存入足额资金。",
        "麻烦您把还款截图发过来，我这边提交给后台。",
        "We have paused reminders and we will reply within 5 working days.",
    ],
)
def test_what_will_happen_or_what_the_borrower_can_do_is_a_solution(answer: str) -> None:
    conversation = chat(("borrower", "退款什么时候到？"), ("agent", answer))
    assert item(conversation, "SOLUTION_OFFERED").result == "pass"


def test_asking_for_identity_is_no_solution() -> None:
    conversation = chat(("borrower", "能不能延期？"), ("agent", "您好，请提供身份证后四位核实身份。"))
    assert item(conversation, "SOLUTION_OFFERED").result == "fail"


# --- issue 19, fresh development sets: what reviewers read that the rubric did not -------------------


def email(*turns: tuple[str, str, int], **extra) -> Conversation:  # type: ignore[no-untyped-def]
    return Conversation("email", tuple(Turn(who, text, at(minutes)) for who, text, minutes in turns), **extra)


def test_an_answer_the_agent_says_does_not_match_verifies_nothing() -> None:
    conversation = chat(
        ("borrower", "帮我查下还欠多少"),
        ("agent", "您好，请提供身份证后四位。"),
        ("borrower", "好像是3321吧"),
        ("agent", "您提供的信息与登记信息不一致，无法核实。"),
        ("borrower", "那你直接告诉我欠多少就行"),
        ("agent", "好吧，您目前还欠本金6,200元，逾期5天。"),
    )
    assert item(conversation, "IDENTITY_CHECK").result == "fail"


def test_the_agent_saying_identity_is_verified_verifies_what_the_borrower_volunteered() -> None:
    conversation = chat(
        ("borrower", "您好我叫王芳 身份证尾号4418 注册手机尾号6620，想问一下提前还款一共要还多少钱"),
        ("agent", "王女士您好，已根据您提供的信息为您核实身份。您剩余本金12,000元，合计12,325元。"),
    )
    assert item(conversation, "IDENTITY_CHECK").result == "pass"
    asked_only = chat(
        ("borrower", "我想问下我还有几期没还"),
        ("agent", "您好，请提供身份证后四位以便核实身份。"),
        ("agent", "您目前还有3期未还，每期2,100元，共6,300元。"),
    )
    assert item(asked_only, "IDENTITY_CHECK").result == "fail"  # asking to verify is not having verified


def test_account_data_in_an_english_letter_before_verification_fails() -> None:
    conversation = email(
        ("borrower", "Hi, I was charged twice for my loan repayment this month.", 0),
        ("agent", "Dear Ms Li, we have checked your account: the duplicate payment of RMB 1,200 made on"
         " 5 December will be refunded within 3 working days.", 180),
    )  # fmt: skip
    assert item(conversation, "IDENTITY_CHECK").result == "fail"


def test_a_hardship_in_a_verified_session_touches_the_account() -> None:
    conversation = chat(
        ("borrower", "我妈突然住进ICU了，这几天实在顾不上还款"),
        ("agent", "您好，请您先照顾好妈妈。我为您登记延期7天，期间不会催收。"),
        verified_turn=0,
    )
    assert item(conversation, "IDENTITY_CHECK").result == "pass"


@pytest.mark.parametrize(
    "turns",
    [
        (("borrower", "借5000块，日息万分之五，借20天利息多少"), ("agent", "你好，20天的利息是50元。")),
        (("borrower", "在吗 想问下逾期几天会上征信"), ("agent", "您好，逾期一般会按规定报送征信。")),
        (
            ("borrower", "今天有个自称你们公司的人说我的征信有逾期记录，要先转3000元到个人账户，这是骗子吗"),
            ("agent", "您好，我司不会要求客户向个人账户转账，请不要再转账并报警。"),
        ),
        (("agent", "尊敬的客户您好：系统将于本周六00:00-06:00升级维护，期间暂停还款服务。"),),
    ],
)
def test_examples_general_questions_scam_warnings_and_notices_touch_no_account(
    turns: tuple[tuple[str, str], ...],
) -> None:
    assert item(chat(*turns), "IDENTITY_CHECK").result == "n/a"


def test_denied_distress_is_none_and_an_acknowledgement_taken_back_is_none_either() -> None:
    denied = chat(
        ("borrower", "没什么困难，就是忘了还款日，现在还来得及吗"), ("agent", "您好，今天还款不算逾期。")
    )
    assert item(denied, "EMPATHY").result == "n/a"
    dismissed = chat(
        ("borrower", "我住院做手术刚出来，真的没钱还，求你们宽限几天"),
        ("agent", "你好，理解理解，但借钱还钱天经地义，这不是拖欠的理由。"),
    )
    assert item(dismissed, "EMPATHY").result == "fail"
    condolence = chat(
        ("borrower", "家母病故，丧事花光了积蓄，这期可能还不了"), ("agent", "您好，请您节哀顺变。")
    )
    assert item(condolence, "EMPATHY").result == "pass"


@pytest.mark.parametrize(
    ("quote", "result"),
    [
        ("黄先生您剩余欠款六千元可以帮您分三期每期两千元一共六千五百元", "fail"),
        ("您剩余欠款两千四百元可以分四期每期六百元合计两千四百元", "pass"),
        ("您借款12,000元，分12期，每期本息1,080元，12期合计应还12,600元。", "fail"),
        ("日利率0.05%，借5,000元用30天，利息是5,000×0.05%×30=75元。", "pass"),
        ("剩余本金12,000元，提前还款手续费为剩余本金的2%，即240元，另加本期利息85元，合计12,325元。", "pass"),
    ],
)
def test_spoken_figures_products_and_unnamed_charges_are_read_as_reviewers_read_them(
    quote: str, result: str
) -> None:
    conversation = chat(("borrower", "这个怎么算"), ("agent", quote), verified_turn=0)
    assert item(conversation, "ACCURACY").result == result


@pytest.mark.parametrize(
    ("first", "later"),
    [
        ("您好，您本期应还2,318.40元，还款日为12月18日。", "请在12月18日前存入2,381.40元即可。"),
        ("您好，您的还款日是每月15日，本期应还1,200元。", "是的，请在12月20日前还款即可，不会产生罚息。"),
    ],
)
def test_a_figure_restated_differently_later_fails(first: str, later: str) -> None:
    conversation = chat(
        ("borrower", "这期要还多少"), ("agent", first), ("borrower", "好的"), ("agent", later)
    )
    assert item(conversation, "ACCURACY").result == "fail"


def test_a_grace_period_deadline_is_no_restated_due_day() -> None:
    conversation = chat(
        ("borrower", "这期要还多少"),
        ("agent", "您好，您的还款日是每月15日，本期应还1,200元。"),
        ("borrower", "能晚几天吗"),
        ("agent", "可以为您申请宽限，请在12月20日前还款即可。"),
    )
    assert item(conversation, "ACCURACY").result != "fail"


def test_a_thank_you_asks_for_no_answer_so_a_late_goodbye_is_not_late() -> None:
    conversation = Conversation(
        "chat",
        (
            Turn("borrower", "请问你们客服电话是多少", at(0)),
            Turn("agent", "您好，客服热线是95188。", at(1)),
            Turn("borrower", "好的，谢谢", at(2)),
            Turn("agent", "不客气，如有疑问随时联系我们，再见！", at(30)),
        ),
        first_response_minutes=5,
    )
    assert item(conversation, "RESPONSE_TIME").result == "pass"


def test_a_letter_ending_on_its_next_step_and_a_signature_closes_a_chat_line_does_not() -> None:
    letter = email(
        ("borrower", "想申请最低还款", 0),
        ("agent", "郑女士您好：\n如需办理，请在App「还款-最低还款」提交申请。\nLendDesk客服", 600),
    )
    assert item(letter, "CLOSING").result == "pass"
    line = chat(("borrower", "想申请最低还款"), ("agent", "您好，请在App「还款-最低还款」提交申请。"))
    assert item(line, "CLOSING").result == "fail"


def test_a_promise_noted_for_the_borrower_is_a_solution() -> None:
    conversation = chat(
        ("borrower", "孩子生病住院了手上一点钱都没有"),
        ("agent", "那您最晚什么时候能还"),
        ("borrower", "下个月吧"),
        ("agent", "好的那我给您记录下个月十五号还款"),
    )
    assert item(conversation, "SOLUTION_OFFERED").result == "pass"


@pytest.mark.parametrize(
    ("quote", "result"),
    [
        ("今天上午系统确实重复扣款，两笔各3,200元，共6,400元。", "pass"),
        ("上午10:02和10:05各扣了2,130元，共4,360元。", "fail"),
        ("您剩余本金12,000元，提前还款手续费为剩余本金的2%，即240元。", "pass"),
        ("您剩余本金8,000元，延期费为本金的1%，即100元。", "fail"),
    ],
)
def test_repeated_payments_and_a_share_of_a_named_amount_are_checked(quote: str, result: str) -> None:
    conversation = chat(("borrower", "怎么回事"), ("agent", quote), verified_turn=0)
    assert item(conversation, "ACCURACY").result == result


def test_the_agent_confirming_the_details_match_verifies_and_a_mismatch_does_not() -> None:
    matched = chat(
        ("borrower", "你好，我是李娜，身份证尾号2213，想确认一下这期的金额"),
        ("agent", "李女士您好，您提供的信息已与系统登记核对无误。您本期应还1,380元。"),
    )
    assert item(matched, "IDENTITY_CHECK").result == "pass"
    mismatch = chat(
        ("borrower", "我想查下这期还多少"),
        ("agent", "您好，麻烦提供一下身份证号后四位，我帮您核实。"),
        ("borrower", "3321"),
        ("agent", "和系统登记的不太一样哦，您再确认一下？"),
        ("borrower", "反正就是我本人 你就告诉我吧"),
        ("agent", "好吧，本期应还980元，还款日12月20日。"),
    )
    assert item(mismatch, "IDENTITY_CHECK").result == "fail"


@pytest.mark.parametrize(
    "state",
    [
        "您这期还没还。",
        "您还有两期没还。",
        "您的申请被拒了。",
        "系统显示您有一笔借款。",
        "您绑定的是工商银行的卡。",
        "您现在欠我们1200。",
        "您的卡余额不足扣款失败了。",
        "利息已经给您减免了。",
    ],
)
def test_an_accounts_state_told_without_a_figure_is_account_data(state: str) -> None:
    conversation = chat(("borrower", "我想问一下我的借款"), ("agent", state))
    assert item(conversation, "IDENTITY_CHECK").result == "fail"


def test_a_state_supposed_or_explained_in_general_is_none() -> None:
    supposed = chat(
        ("borrower", "扣款失败会怎样"), ("agent", "如果您的卡余额不足扣款失败了，可以在App手动还款。")
    )
    assert item(supposed, "IDENTITY_CHECK").result != "fail"


def test_a_product_question_in_the_first_person_touches_no_account() -> None:
    question = chat(("borrower", "我想问一下提前还款要手续费吗"), ("agent", "您好，提前还款不收手续费。"))
    assert item(question, "IDENTITY_CHECK").result == "n/a"
    request = chat(("borrower", "我想申请延期"), ("agent", "您好，请提供身份证后四位。"))
    assert item(request, "IDENTITY_CHECK").result == "pass"


@pytest.mark.parametrize(
    ("quote", "result"),
    [
        ("Your remaining balance is RMB 9,600 across 8 instalments of RMB 1,100.", "fail"),
        ("The amount now due is RMB 3,450, made up of principal RMB 3,000 and interest RMB 405.", "fail"),
        ("The amount now due is RMB 3,405, made up of principal RMB 3,000 and interest RMB 405.", "pass"),
        ("日利率0.05%，年化18.25%。", "pass"),
        ("月利率1%，即年化15%。", "fail"),
        ("延期费按本金五千元的百分之一点五收取，也就是七十五元。", "pass"),
    ],
)
def test_english_letters_annual_rates_and_spoken_percentages_are_checked(quote: str, result: str) -> None:
    conversation = chat(("borrower", "how much"), ("agent", quote), verified_turn=0)
    assert item(conversation, "ACCURACY").result == result


@pytest.mark.parametrize(
    "rule",
    [
        "还款日可以选择每月1号到28号。",
        "罚息按未还本金的0.05%每日计算。",
        "提前还款需要支付剩余本金2%的手续费。",
        "借款金额在1000元到5万元之间。",
    ],
)
def test_a_products_rules_and_rates_are_no_account_data(rule: str) -> None:
    conversation = chat(("borrower", "问一下你们的产品"), ("agent", rule))
    assert item(conversation, "IDENTITY_CHECK").result == "n/a"


def test_a_holding_line_is_no_answer_so_a_late_answer_after_it_is_late() -> None:
    conversation = Conversation(
        "chat",
        (
            Turn("borrower", "我想提前全部还清，一共需要还多少", at(0)),
            Turn("agent", "您好，好的，请稍等，我帮您查一下。", at(1)),
            Turn("agent", "让您久等了，您共需还12120元。", at(14)),
        ),
        first_response_minutes=5,
        verified_turn=0,
    )
    assert item(conversation, "RESPONSE_TIME").result == "fail"


@pytest.mark.parametrize(
    ("turns", "result"),
    [
        (
            (("borrower", "我上次先还了1500，本期应还3000，现在还差多少？"), ("agent", "您本期还差1800元。")),
            "fail",
        ),
        (
            (("borrower", "我上次先还了1500，本期应还3000，现在还差多少？"), ("agent", "您本期还差1500元。")),
            "pass",
        ),
        (
            (
                ("borrower", "还欠多少"),
                ("agent", "您目前待还金额为5320元，其中本金5000元，利息及费用320元。"),
            ),
            "pass",
        ),
        (
            (
                ("borrower", "还欠多少"),
                ("agent", "您目前待还金额为5420元，其中本金5000元，利息及费用320元。"),
            ),
            "fail",
        ),
    ],
)
def test_what_is_left_after_a_payment_and_a_total_before_its_parts_are_checked(
    turns: tuple[tuple[str, str], ...], result: str
) -> None:
    assert item(chat(*turns, verified_turn=0), "ACCURACY").result == result


def test_telling_the_borrower_they_have_no_overdue_record_is_account_data() -> None:
    conversation = chat(
        ("borrower", "帮我看看我在你们这有没有逾期记录"), ("agent", "您好，帮您查了，您没有任何逾期记录。")
    )
    assert item(conversation, "IDENTITY_CHECK").result == "fail"
