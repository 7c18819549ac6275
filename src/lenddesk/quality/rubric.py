"""The QA rubric: one conversation checked against the service standard, item by item. Pure.

Each item is passed, failed or not applicable, with the sentence that decided it quoted as
evidence; the score is the weighted share of the applicable items passed, 0–100. The codes are
fixed (the rubric in the policy chooses their weights); docs/QUALITY.md gives each item's rule:

- GREETING          the agent's first message opens with a written greeting (您好, 尊敬的客户您好,
                    X女士您好), in chat and e-mail alike
- IDENTITY_CHECK    identity verified (the agent asked and the borrower answered, or verified
                    outside the transcript) before any account data; n/a when no account is touched
- ACCURACY          amounts and dates match the ledger as the agent saw it; without the ledger, the
                    arithmetic the conversation lets one check (instalments, sums, level payments)
- EMPATHY           when the borrower expresses distress, worry or anger, the agent acknowledges it
- SOLUTION_OFFERED  the agent states what will happen or what the borrower can do
- BANNED_LANGUAGE   threats, insults, false authority, false consequences (the collections guard)
- PRIVACY           no full ID number, bank card or mobile number in clear, whatever its check
                    digits, and no third party's data
- CLOSING           the last agent turn closes: thanks, a next step or a goodbye
- RESPONSE_TIME     the first agent answer within the ticket's first-response SLA

BANNED_LANGUAGE, PRIVACY and account data before verification are severe: the conversation goes
to review whatever its score. What the company says is checked for the severe items whether an
agent or the bot said it; the manner items (greeting, empathy, closing) judge the agent's turns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import get_args

from lenddesk.collections import guard
from lenddesk.core.numerals import numerals_to_digits, percents_to_digits
from lenddesk.core.patterns import compile_prefiltered
from lenddesk.core.policy import QualityCode
from lenddesk.desk import categorise
from lenddesk.quality import arithmetic, language
from lenddesk.quality.identity import (
    CN_NUMERALS,
    ENGLISH_RUN,
    account_disclosure,
    identity_check,
    may_hold_account_data,
    third_party_loan,
    third_party_turn,
)
from lenddesk.quality.transcript import (
    COMPANY,
    EVIDENCE_LIMIT,
    SPEAKERS,
    STAFF_WRITTEN,
    Conversation,
    ItemResult,
    LedgerFacts,
    Reading,
    Score,
    Sentence,
    Turn,
    distress,
    has,
    normalise,
    quote,
    read,
)

__all__ = [
    "CHECKS", "CODES", "CODE_LABELS", "COMPANY", "EVIDENCE_LIMIT", "RESULTS", "SEVERE_CODES", "SPEAKERS",
    "STAFF_WRITTEN", "Conversation", "ItemResult", "LedgerFacts", "Score", "Turn", "check_language",
    "clear_numbers", "may_hold_account_data", "normalise", "read", "score",
]  # fmt: skip

# The nine codes are defined once, by the policy file's schema (core cannot import this room).
CODES: tuple[str, ...] = get_args(QualityCode)
CODE_LABELS = {
    "GREETING": "问候",
    "IDENTITY_CHECK": "身份核验",
    "ACCURACY": "信息准确",
    "EMPATHY": "同理心",
    "SOLUTION_OFFERED": "提供方案",
    "BANNED_LANGUAGE": "禁用语",
    "PRIVACY": "隐私保护",
    "CLOSING": "结束语",
    "RESPONSE_TIME": "响应时效",
}
SEVERE_CODES = frozenset({"BANNED_LANGUAGE", "PRIVACY", "IDENTITY_CHECK"})
RESULTS = ("pass", "fail", "n/a")

# --- word lists and patterns of the items (the severe language checks live in collections/guard.py) --
# Text is matched normalised: NFKC, Simplified, no spaces, lower case.

# GREETING: a written greeting at the opening of the agent's first message. 您好像 (you seem) is none.
_GREETING = compile_prefiltered(
    r"(?<!祝)(?:您|你)好(?![像运好])|(?:早上|上午|中午|下午|晚上)好|早安|午安|欢迎(?:咨询|光临|来电|您)|"
    r"(?<![a-z])(?:hello|hi|dear|good (?:morning|afternoon|evening))(?![a-z])|哈喽|嗨"
)

_EMPATHY_WORDS = (
    "理解", "抱歉", "不好意思", "很遗憾", "辛苦", "别着急", "不要着急", "请放心", "您放心", "体谅",
    "感同身受", "明白您", "心情", "难处", "关心", "保重", "早日康复", "我们会帮您", "一起想办法",
    "别担心", "不用担心", "不要担心", "致歉", "道歉", "对不起", "给您带来", "让您久等", "渡过难关",
    "不容易", "别急", "能体会", "尽力", "帮您想办法", "身体要紧", "注意身体", "照顾好", "安心", "难过",
    "节哀", "sorry", "understand", "很正常",
)  # fmt: skip
# An acknowledgement taken back in the same sentence: the borrower's trouble is their own affair.
_DISMISSAL = re.compile(
    r"天经地义|不是.{0,6}(?:理由|借口)|跟我们没关系|与我们无关|和我们没关系|(?:你|您)自己的事|那是(?:你|您)的事|不关我们"
)
# SOLUTION_OFFERED: what will happen or what the borrower can do.
_SOLUTION = compile_prefiltered(
    r"方案|分期|延期|展期|减免|协商|提交|登记|反馈给|转交|跟进|处理结果|回复您|联系您|回电|"
    r"工作日内|小时内|分钟内|天内|为您(?:办理|提交|申请|登记|核实|处理|停止|转|反馈|开具|调整|查询|安排|撤销|取消)|"
    r"可以为您|建议您?|您可以|你可以|您也可以|可(?:以)?(?:通过|在|到|申请|选择|拨打|联系|下载|登录|修改|上传|直接|随时|用)|"
    r"支持(?:微信|支付宝|银行卡|使用|通过|在)|可用|"
    r"下一步|还款计划|调整|暂停|豁免|已为您|已经为您|我(?:马上|这就|会|来|帮您)|我们(?:会|将)|会在|将在|将于|"
    r"将(?:会|被)?(?:退回|到账|恢复|通知|发送|寄|放款)|预计|稍后|短信通知|通知您|原路退回|自动(?:恢复|扣款|设为|退|更新|解除|取消)|"
    r"一般(?:在|会)|通常(?:在|会)|请(?:您)?先?(?:在|到|登录|通过|点击|拨打|联系|前往|按照)|点击|点“|进入|路径|"
    r"app.{0,12}(?:中|里|内|首页|操作)|操作|热线|报警|96110|不要转账|即可|就可以|就行|只需|"
    r"(?:会|帮|给)您(?:办理|处理|申请|安排|发|核实|查|转|登记|反馈|跟进)|马上|立即|"
    r"已(?:经)?(?:处理|办理|安排|撤销|取消|退款|退回|解除|恢复|更正|修改|调整|停止|关闭|提交|登记|反馈|开具|发送)|"
    r"已经?(?:发起|受理|申请|转交|暂停)|原路(?:返回|返还)|个?工作日(?:内|到账|左右)|会在?\w{0,8}(?:到账|退还|返还)|"
    r"请(?:您)?(?:提前|及时|按时|尽快|于|在|先)?\w{0,6}(?:存入|存钱|充值|上传|发给|查收|留意)|"
    r"麻烦(?:您|你)?\w{0,4}(?:截图|上传|发过来|发给)|(?:给|为|帮)您(?:记录|备注|记下)|已(?:经)?(?:记录|备注)|"
    r"请(?:您)?(?:在)?\w{0,8}(?:之)?前\w{0,4}(?:还|存)|"
    r"(?:今天|今晚|明天|后天|\d+[日号点]|周.|月底|中午|下午|晚上)(?:之)?前.{0,4}(?:先)?(?:还|存|处理)|"
    r"登录\w{0,4}app|在app|去app|日内|(?:会|将)(?:从|于|在).{0,12}(?:扣|到账|退)|"
    r"存够|存足|备足|确保.{0,10}(?:余额|充足)|每月\d+[号日](?:会|将)?(?:自动)?(?:扣款|扣除|还款)|请于|"
    r"专人|回访|加急|优先处理|工单|升级处理|反映给|提交给|转给|短信提醒|提醒您|"
    r"请(?:您)?(?:提供|补充|准备|携带|上传)\w{0,8}(?:材料|证明|凭证|截图|资料|流水|照片|病历|诊断)"
)
# The same in English, read with its spaces.
_SOLUTION_ENGLISH = re.compile(
    r"\bwe(?:'ll| will| have| can| are going to)\b|\byou can\b|"
    r"\bplease (?:contact|reply|call|log|update|send|visit|check)\b|\bwithin \d+"
)
_NO_SOLUTION = re.compile(
    r"没办法|无能为力|自己看着办|随便|就这样|签了就要还|必须还|爱怎么|随你|不予(?:减免|退还|退款|处理|受理)|"
    r"(?:无法|不能)(?:减免|退还|退款)"
)
_CLOSING_WORDS = (
    "感谢", "谢谢", "再见", "祝您", "祝好", "此致", "敬礼", "还有其他", "还有什么", "如有疑问",
    "如有问题", "如有其他", "有问题随时", "随时联系", "生活愉快", "工作顺利", "满意", "稍后", "下一步",
    "请保持电话畅通", "不客气", "致歉", "谅解", "欢迎再次", "欢迎回复", "注意防范", "欢迎随时", "请随时",
    "有任何", "如需帮助", "如需进一步", "若有疑问", "还有疑问", "顺祝", "期待", "regards", "thank",
    "还有别的", "其他问题", "别的问题", "takecare", "sincerely", "bestwishes", "平安", "保重", "早日康复",
    "拜拜", "bye", "有需要", "随时", "打扰了", "辛苦了", "愉快", "顺利",
)  # fmt: skip
# A reply that only asks the borrower to wait.
_HOLDING = re.compile(
    r"(?:(?:您好|你好|好的|好|收到|嗯)[,，!！。]?)*(?:请|麻烦)?(?:您)?(?:稍等|稍候)(?:一下|片刻)?[,，。!！~]*"
    r"(?:我(?:先|这边|马上|现在)?(?:帮|给|为)您(?:查|看|核实|核查|查询)(?:一下|看)?[。!！~]*)?|"
    r"(?:(?:您好|你好|好的|好|收到)[,，!！。]?)*我(?:先|这边|马上|现在)?(?:帮|给|为)您(?:查|看|核实|核查|查询)"
    r"(?:一下|看)?[,，]?(?:请|麻烦)?(?:您)?(?:稍等|稍候)?(?:一下|片刻)?[。!！~]*"
)
# A borrower message that asks for no answer (好的，谢谢): the agent's goodbye after it is no late reply.
_ACKNOWLEDGEMENT = re.compile(
    r"(?:(?:好的?|嗯+|哦+|噢|ok|okay|行|收到|知道了|明白了?|了解了?|谢谢(?:你|您)?|多谢|感谢|thanks|thankyou|没问题|"
    r"好吧|可以)(?:的|啦|了|呀|哈|啊)?[,，。.!！~～]*)+"
)
_COMPLAINT_WORDS = ("投诉", "举报", "不满意", "维权", "12378", "监管", "态度差", "银保监", "金融局")
# A borrower need that asks for a way forward (beyond the desk's categories): a request, a failure.
_NEED = re.compile(
    r"能不能|能否|可不可以|可以.{0,8}吗|行吗|怎么办|怎么处理|怎么(?:提前)?还|如何|帮我|帮忙|处理一下|尽快处理|"
    r"宽限|缓几天|晚点还|延期|还不上|还不起|拿不出|失败|扣了.{0,4}(?:两|2)次|重复扣|多扣|没到账|没入账|"
    r"还在催|一直催|给我(?:朋友|家人|同事)|换卡|开.{0,4}证明|借不了|借不出|太高|多收|乱收|不合理|还显示|为什么还|缓缓|缓一缓"
)
SOLUTION_CATEGORIES = frozenset({"hardship", "complaint", "collection_conduct", "fee_dispute"})

# PRIVACY without check digits: an 18-character ID (17 digits and a digit or X), a 15-digit ID or a
# card of 15–19 digits, a mobile number; digits may be spaced or dashed, a mask (*, ×) breaks them.
_CLEAR_NUMBER = compile_prefiltered(r"(?<![0-9a-z*×])[0-9](?:[0-9 \-]*[0-9])?(?:x(?![a-z]))?(?![0-9*×])")
_MOBILE_NUMBER = re.compile(r"1[3-9][0-9]{9}")
_MOBILE_WITH_CODE = compile_prefiltered(r"(?:00)?861[3-9][0-9]{9}")
_CARD_WORDS = re.compile(r"卡|card|账号|帐号|account")
_SERIAL_WORDS = re.compile(r"流水|订单|单号|交易号|编号|批次|serial|order|reference")
_LONG_DIGITS = re.compile(r"[0-9][0-9 \-]{9,}[0-9x]")  # eleven characters or more: worth a closer look

_AMOUNT = re.compile(
    r"(?:[¥￥]|人民币|rmb)\s*(\d[\d,]*(?:\.\d{1,2})?)|(\d[\d,]*(?:\.\d{1,2})?)\s*(?:元|块)", re.IGNORECASE
)
_FULL_DATE = compile_prefiltered(r"(?<!\d)((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_MONTH_DAY = compile_prefiltered(r"(?<![\d年/.-])(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_ANY_FIGURE = re.compile(f"[\\d{CN_NUMERALS}]")
_SPOKEN_FIGURE = re.compile(f"[{CN_NUMERALS}]{{2,}}|[{CN_NUMERALS}](?=[元块期日号月])")


# --- the items --------------------------------------------------------------------------------------


def _greeting(reading: Reading) -> tuple[str, str]:
    """A written greeting at the opening of the agent's first message (the bot's do not count)."""
    agent = reading.of(["agent"])
    if not agent:
        return "n/a", "没有客服发言"
    first_turn = agent[0].turn
    opening = [s for s in agent if s.turn == first_turn]
    # Anywhere in the first message (an e-mail may open with a line about the borrower's letter);
    # English is read with its spaces ("Dear Mr Chen" compacts to "dearmrchen").
    polite = next((s for s in opening if _GREETING.search(s.plain) or _GREETING.search(s.text.lower())), None)
    if polite is not None:
        return "pass", quote(polite)
    return "fail", quote(opening[0], "首条回复未使用礼貌问候语")


def check_language(conversations: Iterable[Conversation]) -> None:
    """Run the guard over the staff-written turns of many conversations before they are scored
    (`language.check_many`): nothing changes but speed."""
    language.check_many(
        turn.text
        for conversation in conversations
        for turn in conversation.turns
        if turn.speaker in STAFF_WRITTEN
    )


def _fen(text: str) -> int | None:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    return int(value * 100) if value < 10**12 else None


def _quoted_dates(plain: str, today_year: int | None) -> list[tuple[int | None, int, int]]:
    found: list[tuple[int | None, int, int]] = [
        (int(y), int(m), int(d)) for y, m, d in _FULL_DATE.findall(plain)
    ]
    found += [(None, int(m), int(d)) for m, d in _MONTH_DAY.findall(plain)]
    return found


def _date_matches(quoted: tuple[int | None, int, int], dates: frozenset[date]) -> bool:
    year, month, day = quoted
    return any(d.month == month and d.day == day and (year is None or d.year == year) for d in dates)


@lru_cache(maxsize=8192)
def _figures(plain: str) -> str:
    """A normalised sentence with its spoken Chinese figures as digits (六千元 → 6000元)."""
    if not _SPOKEN_FIGURE.search(plain):
        return plain
    return numerals_to_digits(percents_to_digits(plain) if "百分之" in plain else plain)


def _accuracy(reading: Reading) -> tuple[str, str]:
    """Against the ledger when there is one; else the arithmetic the conversation lets one check."""
    facts = reading.conversation.ledger
    if facts is not None and (facts.amounts_fen or facts.dates):
        return _accuracy_against_ledger(reading, facts)
    if not any(_ANY_FIGURE.search(s.plain) for s in reading.of(COMPANY)):
        return "n/a", "无账务数据可比对，文中无可核算的金额"
    context = "".join(_figures(s.plain) for s in reading.sentences)
    checked = None
    quotes = [
        (turn, "".join(_figures(s.plain) for s in reading.in_turn(turn)))
        for turn in reading.turns_of(COMPANY)
    ]
    if (changed := arithmetic.restated(quotes)) is not None:
        turn, found = changed
        return "fail", quote(reading.in_turn(turn)[0], found.what)
    for turn, quoted in quotes:
        sentences = reading.in_turn(turn)
        letter = reading.conversation.turns[turn].text.lower() if ENGLISH_RUN.search(quoted) else ""
        for found in [*arithmetic.check(context, quoted), *arithmetic.english(letter)]:
            sentence = next((s for s in sentences if re.search(r"\d", s.plain)), sentences[0])
            if not found.ok:
                return "fail", quote(sentence, f"计算有误：{found.what}")
            checked = checked or (sentence, found.what)
    if checked is None:
        return "n/a", "无账务数据可比对，文中无可核算的金额"
    return "pass", quote(checked[0], checked[1])


def _accuracy_against_ledger(reading: Reading, facts: LedgerFacts) -> tuple[str, str]:
    checked = None
    for sentence in reading.of(COMPANY):
        amounts = [_fen(a or b) for a, b in _AMOUNT.findall(sentence.plain)]
        for amount in amounts:
            if amount is not None and facts.amounts_fen and amount not in facts.amounts_fen:
                return "fail", quote(sentence, f"金额 {amount / 100:.2f} 元与账务不符")
        for quoted in _quoted_dates(sentence.plain, None):
            if facts.dates and not _date_matches(quoted, facts.dates):
                return "fail", quote(sentence, "日期与账务不符")
        if amounts or _quoted_dates(sentence.plain, None):
            checked = checked or sentence
    if checked is None:
        return "n/a", "客服未报金额或日期"
    return "pass", quote(checked)


def _acknowledges(sentence: Sentence) -> bool:
    """An agent sentence acknowledging the borrower's feelings, not one dismissing them after a
    token 理解 (理解理解，但借钱还钱天经地义)."""
    return bool(has(sentence.plain, _EMPATHY_WORDS)) and not _DISMISSAL.search(sentence.plain)


def _empathy(reading: Reading) -> tuple[str, str]:
    distressed = distress(reading)
    if distressed is None:
        return "n/a", "客户未表达困难或情绪"
    answer = next(
        (s for s in reading.of(["agent"]) if s.turn > distressed.turn and _acknowledges(s)),
        None,
    )
    if answer is None:
        return "fail", quote(distressed, "客户表达困难后客服未予回应")
    return "pass", quote(answer)


def _needs_solution(reading: Reading) -> Sentence | None:
    for sentence in reading.of(["borrower"]):
        if has(sentence.plain, _COMPLAINT_WORDS) or _NEED.search(sentence.plain):
            return sentence
        # A fee question (利率, 手续费) is no dispute until the borrower disputes it (太高, 多收 …).
        if categorise.suggest(sentence.plain).category in SOLUTION_CATEGORIES - {"fee_dispute"}:
            return sentence
    return None


def _offers_solution(sentence: Sentence) -> bool:
    offers = _SOLUTION.search(sentence.plain) or _SOLUTION_ENGLISH.search(sentence.text.lower())
    return bool(offers) and not _NO_SOLUTION.search(sentence.plain)


def _solution_offered(reading: Reading) -> tuple[str, str]:
    """Pass when the agent states what will happen or what the borrower can do (after the borrower's
    need — hardship, complaint, request, failure — if there is one); fail when the agent states
    neither; n/a only without an agent turn. A reviewer expects it of every conversation."""
    agent = reading.of(["agent"])
    if not agent:
        return "n/a", "没有客服发言"
    trigger = _needs_solution(reading)
    after = trigger.turn if trigger is not None else -1
    offer = next((s for s in agent if s.turn > after and _offers_solution(s)), None)
    if offer is not None:
        return "pass", quote(offer)
    if trigger is not None:
        return "fail", quote(trigger, "未给出方案或下一步")
    return "fail", quote(agent[-1], "未说明后续安排或客户可以怎么做")


def _banned_language(reading: Reading) -> tuple[str, str]:
    for turn in reading.turns_of(STAFF_WRITTEN):
        violations = [v for v in reading.violations(turn) if v.code != "PRIVACY"]
        if violations:
            found = "；".join(f"{v.message_zh}：{v.evidence}" for v in violations)
            return "fail", quote(reading.sentence_with(turn, violations[0].code), found)
    return "pass", "未发现威胁、辱骂、冒充权威或虚假后果用语"


def _id_shaped(run: str, digits: str) -> bool:
    """An 18- or 15-character ID number by its shape: a region and a birth date (its check digit is
    not looked at)."""
    if len(run) == 18 and digits[:17].isdigit() and len(digits) >= 17:
        year, month, day = int(run[6:10]), int(run[10:12]), int(run[12:14])
        return run[0] in "123456789" and 1900 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31
    if len(run) == 15 and run.isdigit():
        month, day = int(run[8:10]), int(run[10:12])
        return run[0] in "123456789" and 1 <= month <= 12 and 1 <= day <= 31
    return False


def clear_numbers(plain: str) -> list[str]:
    """Full ID numbers, card numbers and mobile numbers written in clear in normalised text, whatever
    their check digits (masked: the first three and last four digits)."""
    found = []
    # Sixteen to nineteen digits with a card named nearby are a card, whatever the issuer's prefix.
    card_context = bool(_CARD_WORDS.search(plain)) and not _SERIAL_WORDS.search(plain)
    for match in _CLEAR_NUMBER.finditer(plain):
        run = match.group().replace("-", "").replace(" ", "")
        digits = run.rstrip("x")
        is_id = _id_shaped(run, digits)
        card_prefix = 15 <= len(run) <= 19 and run[0] in "34569"
        named_card = 16 <= len(run) <= 19 and card_context
        is_card = run.isdigit() and (card_prefix or named_card)
        mobile = _MOBILE_NUMBER.fullmatch(run) or _MOBILE_WITH_CODE.fullmatch(run)
        if is_id or is_card or mobile:
            found.append(guard.mask_number(run))
    return found


def _privacy(reading: Reading) -> tuple[str, str]:
    """No full identifier in clear in any company turn or note (the guard's check-digit scan and a
    scan without check digits), and no third party's data: a third party's loan, or account data
    given to someone who said they are not the borrower."""
    third_party = third_party_turn(reading)
    for turn in reading.turns_of(STAFF_WRITTEN):
        violations = [v for v in reading.violations(turn) if v.code == "PRIVACY"]
        if violations:
            found = f"{violations[0].message_zh}：{violations[0].evidence}"
            return "fail", quote(reading.sentence_with(turn, "PRIVACY"), found)
        for sentence in reading.in_turn(turn):
            if _LONG_DIGITS.search(sentence.plain) and (numbers := clear_numbers(sentence.plain)):
                return "fail", quote(sentence, f"明文证件号、卡号或手机号：{numbers[0]}")
            if third := third_party_loan(sentence):
                return "fail", quote(sentence, f"透露第三方的借款信息：{third}")
            told_third_party = third_party is not None and turn > third_party and sentence.speaker in COMPANY
            if told_third_party and (what := account_disclosure(reading, sentence)):
                return "fail", quote(sentence, f"向第三方透露账户信息：{what}")
    return "pass", "未发现明文身份证号、银行卡号、手机号或第三方信息"


def _closing(reading: Reading) -> tuple[str, str]:
    agent = reading.of(["agent"])
    if not agent:
        return "n/a", "没有客服发言"
    last_turn = agent[-1].turn
    closing = [s for s in agent if s.turn == last_turn]
    found = next((s for s in closing if has(s.plain, _CLOSING_WORDS)), None)
    if found is None and reading.conversation.channel == "email":
        # A letter that ends on its next step (请在App…提交, 可在…下载) and a signature closes.
        found = next((s for s in closing if _offers_solution(s)), None)
    if found is None:
        return "fail", quote(closing[-1], "缺少结束语、下一步说明或致谢")
    return "pass", quote(found)


def _waits(reading: Reading) -> list[tuple[Sentence, Sentence]]:
    """(the borrower's first unanswered message, the agent's answer) for every answer, in order."""
    waits = []
    waiting: Sentence | None = None
    for sentence in reading.sentences:
        if sentence.at is None:
            continue
        if sentence.speaker == "borrower" and waiting is None:
            waiting = sentence
        elif sentence.speaker == "agent" and waiting is not None and sentence.at >= waiting.at:
            if _holding(reading, sentence):
                continue  # 请稍等，我帮您查一下: the answer is still to come
            if not _goodbye_after_thanks(reading, waiting, sentence):
                waits.append((waiting, sentence))
            waiting = None
    return waits


def _holding(reading: Reading, sentence: Sentence) -> bool:
    """An agent turn that only asks the borrower to wait (您好，请稍等，我帮您查一下) answers nothing yet."""
    said = "".join(s.plain for s in reading.in_turn(sentence.turn))
    return bool(_HOLDING.fullmatch(said))


def _goodbye_after_thanks(reading: Reading, message: Sentence, answer: Sentence) -> bool:
    """A borrower's 好的，谢谢 answered by nothing but a goodbye: nobody waited for that."""
    if not _ACKNOWLEDGEMENT.fullmatch(message.plain):
        return False
    return all(has(s.plain, _CLOSING_WORDS) for s in reading.in_turn(answer.turn))


def _response_time(reading: Reading) -> tuple[str, str]:
    """The first answer by the ticket's first-response deadline (or within `first_response_minutes`
    of the borrower's first message); with `first_response_minutes`, every later answer within as
    many minutes of the message it answers too."""
    conversation = reading.conversation
    waits = _waits(reading)
    if not waits:
        return "n/a", "无法计算首次响应时间"
    (asked, answered), later = waits[0], waits[1:]
    assert asked.at is not None and answered.at is not None  # _waits keeps timed sentences only
    limit = conversation.first_response_minutes
    due = conversation.first_response_due
    if due is None and limit is not None:
        due = asked.at + timedelta(minutes=limit)
    if due is None:
        return "n/a", "无响应时限"
    waited = int((answered.at - asked.at).total_seconds() // 60)
    if answered.at > due:
        return "fail", quote(answered, f"首次响应用时 {waited} 分钟，超出时限")
    for message, answer in later if limit is not None else ():
        assert message.at is not None and answer.at is not None
        if answer.at > message.at + timedelta(minutes=limit):
            late = int((answer.at - message.at).total_seconds() // 60)
            return "fail", quote(answer, f"客户等待 {late} 分钟才得到回复，超出 {limit} 分钟")
    return "pass", quote(answered, f"{waited} 分钟内首次响应")


CHECKS = {
    "GREETING": _greeting,
    "IDENTITY_CHECK": identity_check,
    "ACCURACY": _accuracy,
    "EMPATHY": _empathy,
    "SOLUTION_OFFERED": _solution_offered,
    "BANNED_LANGUAGE": _banned_language,
    "PRIVACY": _privacy,
    "CLOSING": _closing,
    "RESPONSE_TIME": _response_time,
}


def score(
    conversation: Conversation, weights: Mapping[str, int], *, severe_zeroes_score: bool = True
) -> Score:
    """Check the conversation against the rubric `weights` (code → weight; codes not named are skipped).

    The score is 100 × (weights of passed items) / (weights of applicable items), rounded half up;
    100 when no weighted item applies. A severe failure makes it 0 when `severe_zeroes_score`.
    """
    reading = read(conversation)
    items = []
    for code in CODES:
        if code not in weights:
            continue
        result, evidence = CHECKS[code](reading)
        items.append(ItemResult(code, result, evidence, weights[code]))
    severe = any(item.result == "fail" and item.code in SEVERE_CODES for item in items)
    applicable = sum(item.weight for item in items if item.result != "n/a")
    passed = sum(item.weight for item in items if item.result == "pass")
    value = 100 if applicable == 0 else (200 * passed + applicable) // (2 * applicable)
    if severe and severe_zeroes_score:
        value = 0
    return Score(value, severe, tuple(items))
