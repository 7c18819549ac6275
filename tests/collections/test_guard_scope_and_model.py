"""The guard after issue 19: negated and factual statements pass, conditionals still block, pinyin,
emoji, Cantonese and English are read, the learned layer quotes its evidence, and no input makes
the check raise or stall."""

from __future__ import annotations

import json
import time
from datetime import time as clock
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from lenddesk.cli import app
from lenddesk.collections import guard_evaluation, guard_model
from lenddesk.collections.guard import ContactSituation, check_contact, text_violations
from lenddesk.collections.guard_model import Example

DEV_SET = Path(__file__).resolve().parents[2] / "evaluation" / "dev" / "guard.jsonl"


def codes(text: str, *, learned: bool = True) -> set[str]:
    return {v.code for v in text_violations(text, learned=learned)}


def to(recipient: str) -> ContactSituation:
    return ContactSituation(recipient=recipient, channel="sms", local_time=clock(10, 0))  # type: ignore[arg-type]


# --- negation and factual scope -------------------------------------------------------------------

NEGATED_OR_FACTUAL = [
    "我们绝不会上门，也不会联系您的家人。",
    "请放心，我司不会使用您的通讯录。",
    "逾期不是犯罪，您不会坐牢，也不会被抓。",
    "我们不会通知您的单位领导。",
    "借款合同第十条：因本合同发生的争议，提交贷款人所在地人民法院诉讼解决。",
    "谨防冒充公安、法院、律师的诈骗电话，公安机关不会要求您转账。",
    "有人冒充我司发送律师函，请勿理会。",
    "限制高消费须由法院依法裁定，我司无权限制您的消费。",
    "对于此前催收员说要上门、通知家人的不当言论，我们深表歉意，已对其严肃处理。",
    "您的孩子上学不会受到任何影响。",
    "We will never visit your home or contact your family.",
    "Overdue is not a crime and you will not go to jail.",
    "如您对催收方式有异议，可向当地银保监局投诉。",
    "逾期可能导致您的借款额度被冻结，还清后可恢复。",
    # an agent's service talk QA reads (issue 19, fourth round)
    "只要您保持电话畅通，我们就不会再联系紧急联系人。",
    "如果超过5个工作日还没收到，请直接在这里联系我们加急。",
    "请不要再转账，尽快携带转账记录到就近派出所报警或拨打110。",
    "立即修改登录密码，并拨打官方热线冻结账户。",
    "您绑定的银行卡今天扣款失败，原因是卡片已被银行冻结。",
]


@pytest.mark.parametrize("text", NEGATED_OR_FACTUAL)
def test_negated_and_factual_statements_pass(text: str) -> None:
    assert text_violations(text) == [], text


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("不还就上门", "FALSE_CONSEQUENCE"),
        ("别逼我们上门找你", "THREAT"),
        ("你不还钱我们就通知你家人", "FALSE_CONSEQUENCE"),
        ("不配合就去你单位", "FALSE_CONSEQUENCE"),
        ("我们不会放过你", "THREAT"),
        ("你不要脸", "INSULT"),
    ],
)
def test_a_conditional_or_a_negative_threat_still_blocks(text: str, code: str) -> None:
    assert code in codes(text, learned=False), text


@pytest.mark.parametrize(
    ("text", "code"),
    [("我们不会再给你机会，明天就上门", "FALSE_CONSEQUENCE"), ("依法没收你的财产", "FALSE_CONSEQUENCE")],
)
def test_not_again_and_a_word_inside_another_do_not_hide_a_real_threat(text: str, code: str) -> None:
    assert code in codes(text, learned=False), text


def test_a_reply_no_word_carried_is_not_blocked_by_the_model() -> None:
    assert text_violations("是的。") == []


# Issue 19, second round: what an authority never does, a rumour reported and denied, a complaint
# about a colleague's words handled, a clause letting either side sue, "courtesy" (not a court).
MORE_FACTUAL = [
    "防骗提示：公安、法院不会通过电话要求您转账还款",
    "您不会被列入失信名单，那是法院的事",
    "您引用的“后果自负”一语并非我司用语，我们已核查涉事人员",
    "您好，根据您反映的情况，催收员称要联系您父母一事我们已停止其工作",
    "如收到“律师函”要求添加微信还款，请直接忽略并联系官方客服",
    "您提到有人说您会被抓，这不是事实，逾期属于民事问题",
    "若协商不成，双方均可向有管辖权的人民法院提起诉讼",
    "Only a court can freeze a bank account; we cannot and will not do so.",
    "dear customer, this is a courtesy reminder, your payment is 3 days late",
    "如需找人建议您联系当地派出所。",
    "系统在无法联系到您时会联系紧急联系人。",
    "他应该一直瞒着你。",
]


@pytest.mark.parametrize("text", MORE_FACTUAL)
def test_reported_denied_and_lawful_statements_pass(text: str) -> None:
    assert text_violations(text) == [], text


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("你说没钱？有人说你会被抓，等着吧", "FALSE_CONSEQUENCE"),
        ("我们已经记录你的通讯录，同事明天上门", "FALSE_CONSEQUENCE"),
        ("法院已经立案，如已还款请忽略", "FALSE_AUTHORITY"),
        ("I am calling from the district court about your loan", "FALSE_AUTHORITY"),
        ("我们联合了当地街道，工作人员会联系你", "FALSE_AUTHORITY"),
        ("欠钱不还的蛀虫", "INSULT"),
        ("败家玩意儿，还钱", "INSULT"),
    ],
)
def test_the_new_exemptions_do_not_open_a_gap(text: str, code: str) -> None:
    assert code in codes(text, learned=False), text


def test_the_model_does_not_overrule_a_negation_the_rules_saw() -> None:
    assert codes("本公司禁止任何员工使用通讯录催收") == set()


# --- inputs: pinyin, initials, emoji, Traditional, Cantonese, full-width, English -------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("再不还爆你txl", "FALSE_CONSEQUENCE"),
        ("不还款hkzs", "THREAT"),
        ("不还款hou果自负", "THREAT"),
        ("不还款后果zifu", "THREAT"),
        ("nmsl", "INSULT"),
        ("tmd还钱", "INSULT"),
        ("还钱啊 s b", "INSULT"),
        ("傻bi快还钱", "INSULT"),
        ("还钱啊你这个🐶", "INSULT"),
        ("你是🐷吗", "INSULT"),
        ("小心🔪", "THREAT"),
        ("送你个💣", "THREAT"),
        ("杀💔你全家", "THREAT"),
        ("撲街，仲唔還錢", "INSULT"),
        ("你個死蠢", "INSULT"),
        ("ｔｘｌ全部爆掉", "FALSE_CONSEQUENCE"),
        ("我們會上門核實", "FALSE_CONSEQUENCE"),
        ("This is the police calling about your loan", "FALSE_AUTHORITY"),
        ("You will be arrested tomorrow", "FALSE_CONSEQUENCE"),
        ("your colleagues will know about your debt", "FALSE_CONSEQUENCE"),
        ("you stupid deadbeat", "INSULT"),
        ("we know where you live", "THREAT"),
    ],
)
def test_pinyin_emoji_cantonese_and_english_are_read_by_the_rules(text: str, code: str) -> None:
    assert code in codes(text, learned=False), text


@pytest.mark.parametrize(
    "text",
    [
        "麻烦转告他，他的dk已经yq了",
        "请告诉他zx要花了",
        "Please tell Wang Lei his loan is overdue",
        "你同事的dai款该还了",
    ],
)
def test_a_third_party_hears_nothing_of_the_debt_in_pinyin_or_english(text: str) -> None:
    assert "THIRD_PARTY_DISCLOSURE" in check_contact(text, to("third_party")).codes


@pytest.mark.parametrize(
    "text",
    [
        "Hi, could you please ask Ms Li to ring us back when convenient?",
        "您好，如果您见到王磊，请他给我们回个电话，谢谢",
    ],
)
def test_a_call_back_request_to_a_third_party_passes(text: str) -> None:
    assert check_contact(text, to("third_party")).allowed


def test_a_long_english_sentence_is_not_read_as_pinyin() -> None:
    text = "Disputes under this agreement are subject to the jurisdiction of the court where the lender is"
    assert codes(text) == set()


def test_a_date_next_to_you_is_not_an_insult() -> None:
    assert codes("您好，本期账单已出，请于5月16日你方便时还款") == set()


# --- the learned layer ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("你女儿长得挺可爱的，要看好哦", "THREAT"),
        ("你老板很快就会知道这件事", "FALSE_CONSEQUENCE"),
        ("你就是个没用的东西", "INSULT"),
    ],
)
def test_the_model_catches_what_no_phrase_lists_and_quotes_the_ngrams(text: str, code: str) -> None:
    assert code not in codes(text, learned=False)
    (found,) = [v for v in text_violations(text) if v.code == code]
    assert found.evidence.startswith("模型判定")
    quoted = found.evidence.split("：", 1)[1]
    grams = [part.strip("「」") for part in quoted.split("、")]
    assert grams and all(gram in guard_model.model_text(text) for gram in grams)


def test_every_block_names_its_code_and_quotes_evidence() -> None:
    for example in guard_model.read_examples(DEV_SET):
        verdict = check_contact(example.text, to("third_party" if example.to_third_party else "self"))
        for found in verdict.violations:
            assert found.code and found.message_zh and found.evidence.strip("—： ")


def test_the_fast_scorer_equals_scikit_learn() -> None:
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    examples = guard_model.read_examples(guard_model.TRAINING_FILE)[:600]
    model = guard_model.train(examples, "test")
    texts = [guard_model.model_text(e.text) for e in examples]
    vectoriser = TfidfVectorizer(analyzer=guard_model.ngrams, sublinear_tf=True, min_df=2)
    matrix = vectoriser.fit_transform(texts)
    labels = np.array(["INSULT" in e.codes for e in examples])
    classifier = LogisticRegression(
        C=guard_model.INVERSE_REGULARISATION, class_weight="balanced", max_iter=2000, solver="liblinear"
    )
    classifier.fit(matrix, labels)
    expected = classifier.predict_proba(vectoriser.transform(texts[:50]))[:, 1]
    got = [model.probabilities(e.text)["INSULT"] for e in examples[:50]]
    assert np.allclose(got, expected, atol=1e-3)


def test_the_shipped_model_matches_the_training_data_and_is_small() -> None:
    assert guard_model.MODEL_FILE.stat().st_size <= 15_000_000
    shipped = guard_model.load(guard_model.MODEL_FILE, guard_model.data_fingerprint())
    assert shipped is not None, "run `lenddesk collections train` after changing the training data"
    assert shipped.codes == guard_model.MODEL_CODES


def test_no_dev_set_is_in_the_training_data() -> None:
    training = {e.text for e in guard_model.read_examples(guard_model.TRAINING_FILE)}
    for dev_set in sorted(DEV_SET.parent.glob("guard*.jsonl")):
        assert not training & {e.text for e in guard_model.read_examples(dev_set)}, dev_set.name


@pytest.mark.parametrize(
    "text",
    [
        "孩子上学要花钱我们理解，您看这个月能先还多少",
        "如果您不方便接电话，也可以在App里留言，我们会在24小时内回复",
        "We will call you again tomorrow afternoon to confirm the plan.",
        "夜间出行注意安全，明天是还款日，别忘了哦",
        "不客气，再见。",
        "我们会一直跟进，直到您的问题解决",
    ],
)
def test_everyday_wording_about_family_safety_and_call_plans_passes(text: str) -> None:
    assert text_violations(text) == [], text


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("孩子上学会受影响", "FALSE_CONSEQUENCE"),
        ("你孩子上不了好学校", "FALSE_CONSEQUENCE"),
        ("会影响你子女入学", "FALSE_CONSEQUENCE"),
        ("We will send a letter to your whole company about this.", "FALSE_CONSEQUENCE"),
        ("你手机以后每天都会响个不停，信不信", "THREAT"),
        ("欠钱不还的下流胚子", "INSULT"),
    ],
)
def test_schooling_and_letters_to_the_employer_as_consequences_still_block(text: str, code: str) -> None:
    assert code in codes(text, learned=False), text


# --- third round (branch guard-lift) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "如果有人以检察院的名义让您还钱，请挂断后拨打官方客服核实。",
        "法院文书会通过正式渠道送达，陌生短信里的链接请不要点开。",
        "冻结银行账户的前提是有生效的法院判决，目前您的情况并不涉及。",
    ],
)
def test_someone_using_an_authoritys_name_and_lawful_preconditions_pass(text: str) -> None:
    assert text_violations(text) == [], text


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("我以律师的名义正式通知你，你已经被起诉了", "FALSE_AUTHORITY"),
        ("传票已经寄出，链接不要点也没用", "FALSE_AUTHORITY"),
        ("法院已经判决，你的账户马上冻结", "FALSE_CONSEQUENCE"),
        ("你的征信一辈子都毁了", "FALSE_CONSEQUENCE"),
        ("这笔逾期会影响你一辈子", "FALSE_CONSEQUENCE"),
        # a lawful-sounding clause ("after the judgment takes effect") used as a menace
        ("法院判决生效后你就等着坐牢吧", "FALSE_CONSEQUENCE"),
    ],
)
def test_the_third_round_exemptions_do_not_open_a_gap(text: str, code: str) -> None:
    assert code in codes(text, learned=False), text


def test_a_life_of_poverty_wished_on_the_borrower_is_an_insult_not_a_consequence() -> None:
    assert codes("你这人活该穷一辈子", learned=False) == {"INSULT"}


@pytest.mark.parametrize("name", ["guard_fresh.jsonl", "guard_styles.jsonl"])
def test_each_large_dev_set_meets_the_guards_targets(name: str) -> None:
    report = guard_evaluation.evaluate(
        guard_model.read_examples(DEV_SET.parent / name), guard_evaluation.current_guard(learned=True)
    )
    assert report.violating >= 70 and report.compliant >= 45
    assert report.blocked_rate >= 0.95
    assert report.false_block_rate <= 0.05
    assert report.codes_named_rate >= 0.9


# --- hostile input --------------------------------------------------------------------------------

HOSTILE = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from(["\ud800", "\udfff", "\u200b", "\u202e", "🔪", "💔", "ｓ", "傻", "逼", "不", "，"]),
    ),
    max_size=300,
)


@settings(max_examples=300, deadline=None)
@given(HOSTILE, st.booleans())
def test_check_contact_never_raises(text: str, third_party: bool) -> None:
    verdict = check_contact(text, to("third_party" if third_party else "self"))
    assert verdict.allowed is (verdict.violations == ())


@pytest.mark.parametrize(
    "text",
    ["傻" * 100_000, "\ud800" * 50_000, "不会" * 50_000, "a b " * 50_000, "🔪" * 20_000, "9" * 100_000],
)
def test_a_huge_string_is_checked_quickly(text: str) -> None:
    started = time.thread_time()
    check_contact(text, to("self"))
    assert time.thread_time() - started < 2.0


# --- the evaluation command -----------------------------------------------------------------------


def test_the_evaluation_counts_blocks_false_blocks_and_codes() -> None:
    examples = [
        Example("a", frozenset({"THREAT", "INSULT"}), False),
        Example("b", frozenset({"THREAT"}), False),
        Example("c", frozenset(), False),
        Example("d", frozenset(), False),
    ]
    named = {"a": {"THREAT"}, "b": set(), "c": {"INSULT"}, "d": set()}
    report = guard_evaluation.evaluate(examples, lambda text, _third: named[text])
    assert (report.blocked_rate, report.false_block_rate) == (0.5, 0.5)
    assert report.codes_named_rate == pytest.approx(1 / 3)
    assert report.precision("INSULT") == 0.0 and report.recall("THREAT") == 0.5
    assert report.confusions[("THREAT", "none")] == 1 and report.confusions[("INSULT", "none")] == 1


def test_lenddesk_collections_eval_prints_aggregates_beside_the_baseline(tmp_path: Path) -> None:
    rows = [
        {"text": "你要坐牢了", "codes": ["FALSE_CONSEQUENCE"], "to_third_party": False},
        {"text": "您好，本期应还100元", "codes": [], "to_third_party": False},
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    result = CliRunner().invoke(app, ["collections", "eval", "--set", str(path)])
    assert result.exit_code == 0, result.output
    assert "baseline rules" in result.output and "rules + model" in result.output
    assert "100.0%" in result.output
    assert "坐牢" not in result.output  # aggregates only, never the texts
    rules_only = CliRunner().invoke(app, ["collections", "eval", "--set", str(path), "--rules-only"])
    assert rules_only.exit_code == 0 and "rules + model" not in rules_only.output
