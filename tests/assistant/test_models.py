"""The issue-19 models: emotion and scam story beside the rules, the intent labelling rules, the
handoff policy, explanations, and the targets on the second development set (data/eval/world.jsonl)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lenddesk.assistant import classifier, dialogue, emotion, engine, evaluation, scam
from lenddesk.assistant.normalise import emotion_text, normalise
from lenddesk.cli import app

WORLD = Path(classifier.DATA) / "eval" / "world.jsonl"
THIRD = Path(__file__).resolve().parents[2] / "evaluation" / "dev" / "assistant.jsonl"


def decide(text: str) -> dialogue.Decision:
    return dialogue.decide(
        engine.understand_text(text), misses=0, min_confidence=0.45, misses_before_handoff=2
    )


@pytest.mark.parametrize(
    "text",
    [
        "呵呵 你们系统真厉害 钱扣了还说我没还",
        "搞什么 审核了十天了还没动静",
        "你们是放贷的还是抢钱的 这利息",
        "骗人吧 上个月说好给我提额的",
        "還咗錢仲日日催 你哋搞乜",
    ],
)
def test_rhetorical_anger_without_a_lexicon_word_is_heard_and_handed_off(text: str) -> None:
    understood = engine.understand_text(text)
    assert understood.emotion.label == "angry", understood.emotion
    assert understood.emotion.cues  # the words that carried it
    assert decide(text).handoff_reason == "angry"


@pytest.mark.parametrize(
    "text",
    ["投诉电话是多少", "这条短信是不是骗人的", "请问年化利率是多少呀", "好的谢谢你", "我还不上了怎么办"],
)
def test_calm_and_anxious_questions_are_not_handed_off(text: str) -> None:
    understood = engine.understand_text(text)
    assert understood.emotion.label != "angry", understood.emotion
    if understood.intent != "complaint":
        assert not decide(text).handoff


@pytest.mark.parametrize(
    "text",
    [
        "网上有个人说能帮我洗掉逾期记录 我给了他两千块 现在拉黑我了",
        "有個人話可以幫我辦停息掛賬 收咗我三千蚊服務費",
        "一个自称法院书记员的人说我被起诉了 让我马上把欠款打到他给的账号",
        "someone from your customer service asked me to download an app and share my screen",
    ],
)
def test_scam_stories_are_flagged_with_their_evidence(text: str) -> None:
    understood = engine.understand_text(text)
    assert understood.scam.suspected
    assert understood.scam.scripts and (understood.scam.evidence or understood.scam.scripts != ("model",))
    decision = decide(text)
    assert decision.action == "scam_warning" and decision.ticket_reason == "scam"


def test_a_calm_scam_story_is_answered_by_the_bot_with_a_fraud_ticket_not_handed_off() -> None:
    calm = decide("对方说是你们客服 让我把钱转到安全账户 这是真的吗")
    assert calm.action == "scam_warning" and not calm.handoff and calm.ticket_reason == "scam"
    angry = decide("骗子让我转到安全账户 你们这破平台怎么保护客户的！！！")
    assert angry.action == "scam_warning" and angry.handoff_reason == "scam"
    asked = decide("有人让我转到安全账户 转人工")
    assert asked.handoff_reason == "scam"


@pytest.mark.parametrize(
    "text", ["停息挂账怎么申请", "征信上的逾期能修复吗", "保证金是什么意思", "银行卡被冻结了怎么换卡"]
)
def test_the_same_words_in_an_ordinary_question_are_not_a_scam(text: str) -> None:
    assert not engine.understand_text(text).scam.suspected


def test_the_model_layer_finds_a_story_the_rules_miss() -> None:
    story = "网上有个人说能帮我洗掉逾期记录 我给了他两千块 现在拉黑我了"
    assert not scam.screen(normalise(story)).suspected
    assert scam.assess(normalise(story), engine.intent_model().scam).scripts == ("model",)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("借呗到期怎么还啊", "repay_how"),
        ("白条这期要还多少钱", "repay_amount"),
        ("商家想开通花呗收款怎么弄", "other"),
        ("网购的东西退了 退款多久到", "other"),
        ("晚还两天会影响征信吗", "credit_report"),
        ("晚还两天会怎么样", "overdue_consequence"),
        ("这个月手头紧 能晚几天还吗", "hardship"),
        ("以后每个月的还款日能改成28号吗", "repay_date"),
        ("钱已经还了 为什么还显示未还", "repay_failed"),
        ("扣款的银行卡想换一张", "account_change"),
        ("这个号码是你们的吗 打来说我逾期", "verify_official"),
        ("你是机器人吗", "chitchat"),
        ("提前还清要付违约金吗", "early_repay"),
        ("罚息能免吗 我只晚了一天", "penalty_fee"),
    ],
)
def test_the_labelling_rules(text: str, intent: str) -> None:
    assert engine.understand_text(text).intent == intent


def test_a_request_for_a_person_inside_another_question_is_handed_off() -> None:
    understood = engine.understand_text("帮我转人工 问一下还款日能不能改")
    assert understood.wants_human and decide("帮我转人工 问一下还款日能不能改").handoff_reason == "asked"
    assert not engine.understand_text("你是真人吗").wants_human


def test_an_intent_verdict_names_its_words() -> None:
    understood = engine.understand_text("逾期会上征信吗")
    assert understood.intent == "credit_report" and any("征信" in word for word in understood.evidence)


def test_the_emotion_model_reads_punctuation() -> None:
    assert emotion_text("還錢？？？？？") == "还钱???"
    model = engine.intent_model().emotion
    assert model is not None
    assert model.probability(emotion_text("什么意思？？？"), "angry") > model.probability("什么意思", "angry")


def test_without_models_the_rules_decide_as_before() -> None:
    assert emotion.classify("你们这什么垃圾平台！！", None).label == "angry"
    assert emotion.classify("呵呵 你们系统真厉害", None).label == "calm"
    assert scam.assess(normalise("对方让我开屏幕共享"), None).suspected


def test_the_models_are_small_and_quick_to_train() -> None:
    trained = engine.intent_model()
    assert trained.emotion is not None and trained.scam is not None
    assert len(pickle.dumps(trained)) <= 20 * 1024 * 1024
    assert trained.examples >= 10_000


def test_the_corpus_has_thousands_of_examples_per_model() -> None:
    rows = classifier.corpus_rows()
    assert sum(r.emotion == "angry" for r in rows) >= 1000
    assert sum(r.emotion == "anxious" for r in rows) >= 1000
    assert sum(r.scam for r in rows) >= 1000 and sum(not r.scam for r in rows) >= 1000


def test_the_second_development_set_is_not_in_the_training_data() -> None:
    train = {normalise(text) for text, _ in classifier.training_examples()}
    train |= {normalise(r.text) for r in classifier.corpus_rows()}
    world = [normalise(row.text) for row in evaluation.read_rows(WORLD)]
    assert sum(text in train for text in world) <= len(world) * 0.03


def test_the_third_development_set_is_not_in_the_training_data() -> None:
    train = {normalise(text) for text, _ in classifier.training_examples()}
    train |= {normalise(r.text) for r in classifier.corpus_rows()}
    mine = [normalise(row.text) for row in evaluation.read_rows(THIRD)]
    assert len(mine) >= 150 and sum(text in train for text in mine) <= len(mine) * 0.03


def test_targets_on_the_third_development_set() -> None:
    """evaluation/dev/assistant.jsonl (issue 19, second round): scam stories in many tellings, hard
    negatives, rhetorical anger."""
    report = evaluation.evaluate(
        evaluation.read_rows(THIRD), engine.predict_for_evaluation, engine.baseline_intent
    )
    behaviour = report.behaviour
    assert behaviour is not None
    assert report.model.accuracy >= 0.9
    assert behaviour.scam[0] >= 0.95 * behaviour.scam[1]
    assert behaviour.scam_false_alarms[0] <= 0.02 * behaviour.scam_false_alarms[1]
    assert behaviour.unasked[0] <= 0.05 * behaviour.unasked[1]
    assert behaviour.angry[0] >= 0.85 * behaviour.angry[1]


def test_targets_on_the_second_development_set() -> None:
    report = evaluation.evaluate(
        evaluation.read_rows(WORLD), engine.predict_for_evaluation, engine.baseline_intent
    )
    behaviour = report.behaviour
    assert behaviour is not None
    assert report.model.accuracy >= 0.88
    both = evaluation.evaluate(
        evaluation.read_rows(WORLD) + evaluation.read_rows(WORLD.parent / "dev.jsonl"),
        engine.predict_for_evaluation,
        engine.baseline_intent,
    ).behaviour
    assert both is not None  # 16 angry messages and 17 scam stories in one set: too few alone
    assert both.angry[0] >= 0.95 * both.angry[1]
    assert both.scam[0] >= 0.95 * both.scam[1]
    assert behaviour.unasked_no_scam[0] <= 0.05 * behaviour.unasked_no_scam[1]


def test_eval_command_prints_handoffs_precision_and_baselines(tmp_path: Path) -> None:
    data = tmp_path / "mini.jsonl"
    lines = [
        {"text": "怎么还款", "intent": "repay_how", "emotion": "calm", "scam": False, "wants_human": False},
        {"text": "你们是高利贷吗？？？", "intent": "interest_rate", "emotion": "angry", "scam": False},
        {"text": "转人工", "intent": "human", "emotion": "calm", "scam": False, "wants_human": True},
    ]
    data.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines), encoding="utf-8")
    result = CliRunner().invoke(app, ["assistant", "eval", "--set", str(data), "--no-today"])
    assert result.exit_code == 0, result.output
    assert "calm/anxious handed off unasked" in result.output and "0/1 (0.0%)" in result.output
    assert "angry messages handed off" in result.output and "model precision" in result.output
