"""The understanding pipeline, pure: normalisation, the model's fast path, emotion, scam rules, and the
targets on the shipped development set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from lenddesk.assistant import classifier, emotion, engine, evaluation, scam
from lenddesk.assistant.intents import INTENT_CODES
from lenddesk.assistant.knowledge import default_entries, fill, unknown_placeholders
from lenddesk.assistant.normalise import MAX_CHARS, normalise
from lenddesk.assistant.understanding import named_agent_ids
from lenddesk.cli import app

DEV = Path(classifier.DATA) / "eval" / "dev.jsonl"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("還款日是每月幾號", "还款日是每月几号"),
        ("ＡＰＰ怎麼還款！！！", "app怎么还款"),
        ("我欠了三千五百块", "我欠了3500块"),
        ("借一万一个月利息多少", "借10000一个月利息多少"),
        ("一定要还 一直在催", "一定要还 一直在催"),
        ("十二期", "12期"),
        ("啊啊啊啊啊啊啊", "啊啊啊"),
        ("还了两万", "还了20000"),
    ],
)
def test_normalisation(text: str, expected: str) -> None:
    assert normalise(text) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_normalisation_takes_any_text(text: str) -> None:
    out = normalise(text)
    out.encode("utf-8")  # no lone surrogate survives
    assert len(out) <= MAX_CHARS


def test_a_huge_message_is_cut_before_work() -> None:
    assert len(normalise("逾" * 1_000_000)) <= MAX_CHARS


def test_the_fast_path_equals_scikit_learn() -> None:
    trained = engine.intent_model()
    texts = [normalise(json.loads(line)["text"]) for line in DEV.read_text("utf-8").splitlines()[:80]]
    expected = trained.probabilities(texts)
    got = np.array([classifier.FastScorer.of(trained).probabilities(text) for text in texts])
    assert np.allclose(got, expected, atol=1e-9)


def test_every_intent_has_training_examples_and_a_default_answer() -> None:
    examples = classifier.training_examples()
    counts = {intent: sum(1 for _, i in examples if i == intent) for intent in INTENT_CODES}
    assert min(counts.values()) >= 50, counts
    answered = {entry.intent for entry in default_entries()}
    assert answered == set(INTENT_CODES)
    for entry in default_entries():
        assert not unknown_placeholders(entry.answer), entry.code
    assert "400-000-0000" in fill("电话 {hotline}", {"hotline": "400-000-0000"})


def test_the_development_set_is_not_the_training_set() -> None:
    train = {normalise(text) for text, _ in classifier.training_examples()}
    dev = [normalise(row.text) for row in evaluation.read_rows(DEV)]
    assert sum(text in train for text in dev) <= len(dev) * 0.03


def test_targets_on_the_development_set() -> None:
    report = evaluation.evaluate(
        evaluation.read_rows(DEV), engine.predict_for_evaluation, engine.baseline_intent
    )
    assert report.model.accuracy >= 0.90
    assert report.model.accuracy - report.baseline.accuracy >= 0.10
    handed_off, angry = report.angry
    flagged, scams = report.scam
    assert angry >= 30 and handed_off / angry >= 0.95
    assert scams >= 25 and flagged / scams >= 0.95
    assert report.scam_false_alarms[0] <= report.scam_false_alarms[1] * 0.02


@pytest.mark.parametrize(
    "text",
    [
        "对方让我下载腾讯会议开屏幕共享",
        "客服说要先交3000解冻费才能放款",
        "有人让我注销校园贷账户",
        "他让我把验证码告诉他",
        "說要把錢轉到安全賬戶",
        "对方说流水不够要刷流水",
        "专员让我转钱到私人账户 说核实完就退",
        "对方发了个链接 让我输入银行卡密码和短信码",
        "骗子冒充你们公司 骗走了我一万二",
        "a caller said he was from your bank and asked for my otp code",
        "they told me to move everything into a safe account",
    ],
)
def test_scam_scripts_are_flagged(text: str) -> None:
    assert scam.screen(normalise(text)).suspected


@pytest.mark.parametrize(
    "text",
    [
        "收不到验证码",
        "提前还款有手续费吗",
        "我想注销我的账户",
        "能不能关闭额度",
        "怎么设置自动扣款",
        "服务费是什么",
        "你们的工作人员会让我共享屏幕吗",
        "官方会要求客户转到安全账户吗",
        "听说有人冒充客服让人注销校园贷 怎么识别",
        "怎么防止被骗 你们的官方电话是多少",
        "我怕被骗了 不敢接陌生电话",
    ],
)
def test_ordinary_questions_are_not_flagged(text: str) -> None:
    assert not scam.screen(normalise(text)).suspected


@pytest.mark.parametrize(
    "text",
    ["你们的工作人员会让我共享屏幕吗", "听说有人冒充你们让人转账到个人账户 你们会这么做吗"],
)
def test_a_question_about_the_lenders_practice_is_not_a_scam_story_for_the_model_either(text: str) -> None:
    assert not scam.assess(normalise(text), engine.intent_model().scam).suspected


def test_a_question_that_tells_what_happened_is_still_a_scam_story() -> None:
    assert scam.screen(normalise("有人打电话说是你们的 让我转到安全账户 你们会这样吗")).suspected


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("律师函说明天就要强制执行 但能私下和解 先打五千到律师个人账户", "personal_account"),
        ("还款转个人账户 是你们规定的吗", "personal_account"),
        ("收到一則簡訊說帳戶異常，要點連結重新驗證身分，網址長得很像你們的", "phishing"),
        ("点了短信链接 卡被刷了", "victim"),
        ("有个二维码说扫了就能减免利息 扫完要我绑卡输密码", "phishing"),
        ("还款可以用充值卡吗 你们客服让我去买话费卡发卡号", "gift_card"),
        ("信用分不够需要充值提分 是你们规定的吗", "pay_for_score"),
        ("借款卡号错误要交修改费", "unfreeze_fee"),
        ("一个仿冒你们的小程序 我在上面还了三期", "impostor"),
        ("又被拉群了 群名就是你们公司 发的全是刷单垫付", "impostor"),
        ("他要看我手机屏幕", "screen_share"),
        ("转了钱才发现不对 报警了", "victim"),
        ("给我打了个视频电话 穿着警服 说我涉案了不能挂断也不能告诉家里人", "fake_authority"),
        ("交了198开了个什么VIP说能提额到5万 交完额度一分没动", "paid_membership"),
        ("这个95开头的号码说是你们的，让我加QQ处理退费", "impostor"),
        ("骗子冒充客服", "impostor"),
        ("说我的账户被冻结了，要我转5000元到他个人账户才能解冻", "personal_account"),
    ],
)
def test_scripts_told_by_their_detail_are_flagged_and_named(text: str, script: str) -> None:
    found = scam.screen(normalise(text))
    assert found.suspected and script in found.scripts


@pytest.mark.parametrize(
    "text",
    [
        "购物卡能用来还款吗",
        "额度清零了是什么原因 上个月还有两万",
        "公司要求用腾讯会议开会 共享屏幕的时候会不会把你们app的消息弹出来",
        "网上说有人冒充你们让人转账到安全账户 我应该注意什么",
        "我发现一个假冒你们的app 在应用商店里 名字只差一个字 请你们处理",
        "你们的还款链接在哪里",
        "开通会员能提额吗 你们app里有个会员入口",
        "有条短信说我的额度即将到期 让我登录app激活 不用付钱 是你们发的吗",
        "催收冒充律师给我发信息说要起诉 你们管不管",
    ],
)
def test_the_same_words_without_a_story_are_not_flagged(text: str) -> None:
    assert not scam.screen(normalise(text)).suspected


def test_a_meeting_app_an_impostor_asked_for_is_a_story_even_in_a_work_setting() -> None:
    text = "有个叫李经理的让我下载钉钉开会议，说你们公司的业务都在这上面办，是真的吗"
    assert scam.screen(normalise(text)).suspected


def test_screen_sharing_for_work_is_not_a_story_for_the_model_either() -> None:
    text = "老板叫我们装钉钉开会要屏幕共享 我手机装了你们app会不会泄露信息"
    assert not scam.assess(normalise(text), engine.intent_model().scam).suspected


def test_emotion() -> None:
    assert emotion.detect("你们这什么垃圾平台！！").label == "angry"
    assert emotion.detect("急死了，怎么办啊").label == "anxious"
    assert emotion.detect("请问怎么还款").label == "calm"
    assert emotion.detect("我要投诉").label == "calm"  # a complaint is not by itself anger


def test_eval_command_prints_both_figures(tmp_path: Path) -> None:
    data = tmp_path / "mini.jsonl"
    data.write_text(
        "\n".join(
            json.dumps({"text": t, "intent": i}, ensure_ascii=False)
            for t, i in (("怎么还款", "repay_how"), ("转人工", "human"), ("罚息能免吗", "penalty_fee"))
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["assistant", "eval", str(data)])
    assert result.exit_code == 0, result.output
    assert "top-1 accuracy: model 100.0%" in result.output and "BM25 nearest example" in result.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "intent": "nope"}\n', encoding="utf-8")
    assert CliRunner().invoke(app, ["assistant", "eval", str(bad)]).exit_code == 2


def test_train_command_writes_a_model_the_app_reads(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["assistant", "train", "--model-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (written,) = tmp_path.glob("intent-model-*.pkl")
    loaded = classifier.load(written, classifier.data_fingerprint())
    assert loaded is not None and loaded.predict(normalise("怎么还款"))[0] == "repay_how"
    assert classifier.load(written, "another-fingerprint") is None


def test_a_staff_number_introduced_with_shi_is_read_for_the_look_up() -> None:
    assert named_agent_ids(normalise("给我打电话的人说他工号是A2093 是你们的人吗")) == ("a2093",)
    understood = engine.understand_text("给我打电话的人说他工号是A2093 是你们的人吗")
    assert understood.intent == "verify_official" and not understood.scam.suspected
