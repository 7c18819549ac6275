"""The compliance guard: every code, the evasions it must see through, and the polite reminders it
must let pass."""

from __future__ import annotations

from datetime import time
from functools import lru_cache

import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lenddesk.collections.guard import (
    CHANNELS,
    TEXT_CODES,
    VIOLATION_CODES,
    ContactRules,
    ContactSituation,
    Violation,
    check_contact,
    text_violations,
)
from lenddesk.core.pii import id_check_char

ID_NUMBER = "11010519900307123" + id_check_char("11010519900307123")
BANK_CARD = "6222021234567890128"  # Luhn-valid UnionPay number
assert len(BANK_CARD) == 19

COMPLIANT = [
    "张先生您好，您在我司的借款（合同号HT2026113000000123）本期应还金额1,234.56元，还款日为2026年12月1日。"
    "您可通过银行转账、手机银行、微信支付或支付宝还款，转账时请备注合同号。如有困难请联系我们，客服电话400-000-0000。",
    "您好，您的借款已逾期3天，逾期将按合同收取罚息和滞纳金，并可能影响您的个人征信记录。请尽快还款。",
    "如仍未还款，我司可能依法提起诉讼。",
    "我司可能向有管辖权的人民法院依法提起诉讼，请您重视。",
    "我司保留依法提起诉讼的权利。",
    "逾期记录将报送中国人民银行征信中心，影响您今后的信贷申请。",
    "客户您好，关于您的网贷还款情况，我司已多次通过短信、电话等方式提醒您。目前您的贷款已逾期，逾期费已产生，请您尽快还款。",
    "还款时请务必备注您的借款合同号，以便及时入账。如您有任何疑问或困难，请及时联系我们，我们将竭诚为您服务。",
    "經查，您本期賬單尚未結清，請於12月1日前還款。",
    "您好，请您按键1转人工服务，按键2查询账单。",
    "有啥问题可以随时联系我们。",
    "您的银行卡尾号1234扣款失败，请确保余额充足。",
    "您可以申请分期还款或减免罚息，我们会根据您的情况提供方案。",
    "请使用Alipay或WeChat Pay扫码还款，或登录mobile banking转账。",
    "温馨提示：谨防冒充我司工作人员的诈骗电话。",
    "我们理解您目前的困难，如收入下降或家庭突发状况，可申请延期还款。",
    "逾期费将不断累积，导致还款金额增加。",
    "为了维护您的信用记录，请您尽快还清欠款。感谢您的配合。",
    "本通知以书面形式发送，您有权行使申诉权利。",
    "您的借款将于3天后到期，应还1234.56元。",
    "【某某金融】尊敬的李女士，您的账单将于12月05日到期，应还￥2,000.00，可使用自动扣款。回TD退订",
    "您好，我是某某金融的客服小王，请问是王先生本人吗？",
    "您好，为保证还款顺利入账，请核对您的手机号138****1234是否仍在使用。",
    "如对账单有异议，可拨打客服热线或通过App提交申诉，我们将在15日内答复。",
    "您的逾期已产生罚息人民币56.78元，按合同约定按日计收。",
    "逾期还款可能导致您无法继续使用本平台的借款服务。",
    "您好，我司将于本周三上午再次与您联系，确认还款安排。",
    "若您已还款，请忽略本短信。",
    "Dear customer, your instalment of CNY 1,234.56 is due on 1 Dec 2026.",
]

# (text, code it must raise)
BANNED = [
    ("你再不还钱就等着坐牢吧", "FALSE_CONSEQUENCE"),
    ("你 要 做 牢 了", "FALSE_CONSEQUENCE"),
    ("zuolao", "FALSE_CONSEQUENCE"),
    ("ZuoLao啦", "FALSE_CONSEQUENCE"),
    ("警察马上上门抓你", "FALSE_CONSEQUENCE"),
    ("我们会通知你单位领导", "FALSE_CONSEQUENCE"),
    ("我们会打电话给你的父母", "FALSE_CONSEQUENCE"),
    ("再不还就爆你通讯录", "FALSE_CONSEQUENCE"),
    ("再不还就爆你通迅录", "FALSE_CONSEQUENCE"),
    ("影响你孩子上学", "FALSE_CONSEQUENCE"),
    ("你的银行卡会被冻结", "FALSE_CONSEQUENCE"),
    ("你的房子会被查封拍卖", "FALSE_CONSEQUENCE"),
    ("你这是诈骗罪，要负刑事责任", "FALSE_CONSEQUENCE"),
    ("你将被列入黑名单，以后坐不了高铁", "FALSE_CONSEQUENCE"),
    ("征信永久花掉", "FALSE_CONSEQUENCE"),
    ("我们会在网上曝光你", "FALSE_CONSEQUENCE"),
    ("你个傻逼", "INSULT"),
    ("你個傻屄", "INSULT"),
    ("你個傻逼", "INSULT"),
    ("你个傻X", "INSULT"),
    ("你个傻 Ｘ", "INSULT"),
    ("煞笔", "INSULT"),
    ("ｓｂ", "INSULT"),
    ("s.b.", "INSULT"),
    ("n m s l", "INSULT"),
    ("cnm还钱", "INSULT"),
    ("老赖快还钱", "INSULT"),
    ("捞赖快还钱", "INSULT"),
    ("你就是个骗子", "INSULT"),
    ("你真不要脸", "INSULT"),
    ("你这个人渣", "INSULT"),
    ("我是公安局的", "FALSE_AUTHORITY"),
    ("我們是工安", "FALSE_AUTHORITY"),
    ("我是派出所民警", "FALSE_AUTHORITY"),
    ("我是律师", "FALSE_AUTHORITY"),
    ("我是绿师事务所的", "FALSE_AUTHORITY"),
    ("woshilvshi", "FALSE_AUTHORITY"),
    ("法院传票明天送到", "FALSE_AUTHORITY"),
    ("你的案件已经移交法院", "FALSE_AUTHORITY"),
    ("我司已向法院提起诉讼", "FALSE_AUTHORITY"),
    ("我司已经起诉你", "FALSE_AUTHORITY"),
    ("已经立案了", "FALSE_AUTHORITY"),
    ("我们是政府部门", "FALSE_AUTHORITY"),
    ("我们已经报警", "FALSE_AUTHORITY"),
    ("杀\u200b你全家", "THREAT"),
    ("去.死", "THREAT"),
    ("弄 死 你", "THREAT"),
    ("我 知道 你家 住哪", "THREAT"),
    ("不还钱后果自负", "THREAT"),
    ("你给我等着瞧", "THREAT"),
    ("晚上走夜路小心点", "THREAT"),
    ("不还就派人上门", "THREAT"),
    ("煞你全家", "THREAT"),
    ("qusi", "THREAT"),
    (f"您的身份证号{ID_NUMBER}", "PRIVACY"),
    (f"身份证 {ID_NUMBER[:6]} {ID_NUMBER[6:14]} {ID_NUMBER[14:]}", "PRIVACY"),
    (f"卡号{BANK_CARD}", "PRIVACY"),
    ("卡号6222 0212 3456 7890 128", "PRIVACY"),
    ("卡号６２２２０２１２３４５６７８９０１２８", "PRIVACY"),
    ("联系人手机13812345678", "PRIVACY"),
    ("联系人手机138-1234-5678", "PRIVACY"),
    ("手机一三八一二三四五六七八", "PRIVACY"),
]


def codes(text: str) -> set[str]:
    return {v.code for v in text_violations(text)}


def test_the_codes_are_the_fixed_list() -> None:
    assert VIOLATION_CODES == (
        "QUIET_HOURS",
        "FREQUENCY_CAP",
        "THIRD_PARTY_DISCLOSURE",
        "THREAT",
        "INSULT",
        "FALSE_AUTHORITY",
        "FALSE_CONSEQUENCE",
        "PRIVACY",
        "OPTED_OUT",
        "DISPUTE_HOLD",
        "EMERGENCY_HOLD",
    )
    assert set(TEXT_CODES) <= set(VIOLATION_CODES)


@pytest.mark.parametrize("text", COMPLIANT)
def test_a_compliant_reminder_passes(text: str) -> None:
    assert text_violations(text) == []


@pytest.mark.parametrize(("text", "code"), BANNED)
def test_a_banned_text_is_caught_with_its_code(text: str, code: str) -> None:
    assert code in codes(text), text


def test_a_violation_names_its_evidence_and_reason() -> None:
    (found,) = text_violations("你要坐牢了")
    assert found == Violation("FALSE_CONSEQUENCE", found.message_zh, "坐牢")
    assert "坐牢" in found.message_zh


def test_privacy_evidence_never_repeats_the_number_in_clear() -> None:
    (found,) = text_violations(f"卡号{BANK_CARD}")
    assert BANK_CARD not in found.evidence
    assert found.evidence.endswith(BANK_CARD[-4:])


def test_a_contract_number_and_masked_numbers_are_not_personal_data() -> None:
    assert codes("合同号HT2026113000001234，卡号尾号0128，手机138****5678") == set()


def test_an_invalid_id_number_is_not_flagged_as_one() -> None:
    wrong_check = ID_NUMBER[:17] + ("0" if ID_NUMBER[17] != "0" else "1")
    assert codes(f"编号{wrong_check}") == set()


def test_a_claimed_lawsuit_differs_from_a_possible_one() -> None:
    assert "FALSE_AUTHORITY" in codes("我司已于12月1日向法院提起诉讼")
    assert codes("您已逾期3天，如不还款我司可能依法提起诉讼") == set()
    assert codes("您已逾期，否则我司将起诉") == set()


def test_hostile_input_does_not_crash() -> None:
    for text in ["", "\ud800", "\x00" * 50, "9" * 5000, "🙂" * 100, "\u202e还款\u202c", "a" * 100_000]:
        assert isinstance(text_violations(text), list)


# --- the whole check --------------------------------------------------------------------------------

POLITE = "您好，您的借款本期应还1234.56元，请于12月1日前还款。"


def situation(**overrides: object) -> ContactSituation:
    values: dict[str, object] = {"recipient": "self", "channel": "sms", "local_time": time(10, 0)}
    values.update(overrides)
    return ContactSituation(**values)  # type: ignore[arg-type]


def test_a_polite_reminder_in_hours_under_the_cap_is_allowed() -> None:
    verdict = check_contact(POLITE, situation(contacts_today=2, contacts_7d=6))
    assert verdict.allowed and verdict.violations == ()


def test_an_active_incident_holds_even_a_polite_reminder() -> None:
    verdict = check_contact(POLITE, situation(emergency_hold="应急事件 #1（系统故障）：支付通道故障"))
    assert not verdict.allowed
    assert verdict.codes == ("EMERGENCY_HOLD",)
    assert verdict.violations[0].evidence.startswith("应急事件 #1")


@pytest.mark.parametrize(
    ("at", "allowed"),
    [
        (time(7, 59), False),
        (time(8, 0), True),
        (time(20, 59), True),
        (time(21, 0), False),
        (time(23, 30), False),
    ],
)
def test_quiet_hours_are_borrower_local_8_to_21(at: time, allowed: bool) -> None:
    verdict = check_contact(POLITE, situation(local_time=at))
    assert verdict.allowed is allowed
    assert verdict.codes == (() if allowed else ("QUIET_HOURS",))


def test_the_window_comes_from_the_rules() -> None:
    rules = ContactRules(window_start=time(9, 0), window_end=time(20, 0))
    assert check_contact(POLITE, situation(local_time=time(8, 30)), rules).codes == ("QUIET_HOURS",)


@pytest.mark.parametrize(
    ("today", "week", "blocked"), [(3, 3, True), (0, 7, True), (2, 6, False), (5, 9, True)]
)
def test_the_frequency_cap_counts_the_day_and_the_rolling_week(today: int, week: int, blocked: bool) -> None:
    verdict = check_contact(POLITE, situation(contacts_today=today, contacts_7d=week))
    assert ("FREQUENCY_CAP" in verdict.codes) is blocked


def test_an_opted_out_channel_is_blocked_and_others_are_not() -> None:
    opted = frozenset({"sms"})
    assert check_contact(POLITE, situation(opted_out_channels=opted)).codes == ("OPTED_OUT",)
    assert check_contact(POLITE, situation(channel="email", opted_out_channels=opted)).allowed


def test_an_open_dispute_holds_every_contact() -> None:
    for channel in CHANNELS:
        assert check_contact(POLITE, situation(channel=channel, dispute_open=True)).codes == ("DISPUTE_HOLD",)


@pytest.mark.parametrize(
    "text",
    [
        "您好，麻烦转告张先生尽快回电4000000000，谢谢。",
        "请问您是否知道王女士的新联系方式？如方便请让她回电。",
        "您好，我们是某某公司，有事找李先生，请他方便时回个电话。",
    ],
)
def test_a_third_party_may_be_asked_for_a_call_back(text: str) -> None:
    assert check_contact(text, situation(recipient="third_party")).allowed


@pytest.mark.parametrize(
    "text",
    [
        "请转告张先生他的借款已逾期",
        "张先生欠我们1234元",
        "请让他尽快还款",
        "告诉他网贷到期了",
        "我们是催收部门",
        "麻烦转告他yu qi了",
        "請轉告他貸款逾期",
        "他的合同HT2026113000000001有问题",
    ],
)
def test_a_third_party_never_hears_of_the_debt(text: str) -> None:
    verdict = check_contact(text, situation(recipient="third_party"))
    assert "THIRD_PARTY_DISCLOSURE" in verdict.codes
    to_the_borrower = check_contact(text.replace("他", "您"), situation(recipient="self"))
    assert "THIRD_PARTY_DISCLOSURE" not in to_the_borrower.codes


def test_every_violation_is_reported_in_the_fixed_order() -> None:
    verdict = check_contact(
        "你再不还钱就坐牢，傻逼",
        situation(
            recipient="third_party",
            local_time=time(22, 0),
            contacts_today=3,
            opted_out_channels=frozenset({"sms"}),
            dispute_open=True,
        ),
    )
    assert verdict.codes == (
        "QUIET_HOURS",
        "FREQUENCY_CAP",
        "THIRD_PARTY_DISCLOSURE",
        "INSULT",
        "FALSE_CONSEQUENCE",
        "OPTED_OUT",
        "DISPUTE_HOLD",
    )
    assert not verdict.allowed
    assert all(v.message_zh for v in verdict.violations)


def test_an_unknown_channel_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="channel"):
        check_contact(POLITE, situation(channel="fax"))


# --- properties ---------------------------------------------------------------------------------

ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\ufeff", "\u2060", "\u00ad"]
SEPARATORS = [*" \u3000.。，-_*/|~\t\n、·…（）【】#@★🙂", *ZERO_WIDTH]


@lru_cache(maxsize=4)
def converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


@st.composite
def disguised(draw: st.DrawFn) -> tuple[str, str]:
    text, code = draw(st.sampled_from(BANNED))
    if draw(st.booleans()):
        text = converter(draw(st.sampled_from(["s2t", "s2tw", "s2hk"]))).convert(text)
    pieces = []
    for char in text:
        pieces.append(char)
        pieces.append(draw(st.text(alphabet=st.sampled_from(SEPARATORS), max_size=3)))
    if draw(st.booleans()):  # full-width forms of the ASCII part
        pieces = [chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in "".join(pieces)]
    return "".join(pieces), code


@settings(max_examples=400, deadline=None)
@given(disguised())
def test_no_banned_text_gets_through_separators_traditional_or_full_width(case: tuple[str, str]) -> None:
    text, code = case
    assert code in codes(text), repr(text)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(COMPLIANT), st.sampled_from(["s2t", "s2tw", "s2hk"]))
def test_a_compliant_reminder_still_passes_in_traditional_characters(text: str, config: str) -> None:
    assert text_violations(converter(config).convert(text)) == []
