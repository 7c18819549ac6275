"""The QA rubric: one conversation checked against the service standard, item by item. Pure.

Each item is passed, failed or not applicable, with the sentence that decided it quoted as
evidence; the score is the weighted share of the applicable items passed, 0–100. The codes are
fixed (the rubric in the policy chooses their weights):

- GREETING          the first agent turn opens politely and names the agent or the service
- IDENTITY_CHECK    account data (amounts, dates, contract numbers, card tails) only once identity
                    was verified — the desk's own disclosure scan decides what is account data
- ACCURACY          amounts and dates the agent quotes match the ledger as the agent saw it
- EMPATHY           when the borrower expresses distress, the agent acknowledges it afterwards
- SOLUTION_OFFERED  a hardship or complaint gets an option or a next step
- BANNED_LANGUAGE   threats, insults, false authority, false consequences (the collections guard)
- PRIVACY           no full ID number, bank card or mobile number in clear (the guard's privacy
                    check: numbers found by their check digits, whatever the spacing)
- CLOSING           the last agent turn closes: thanks, a next step or a goodbye
- RESPONSE_TIME     the first agent answer within the ticket's first-response SLA

BANNED_LANGUAGE, PRIVACY and account data before verification are severe: the conversation goes
to review whatever its score. What the company says is checked for the severe items whether an
agent or the bot said it; the manner items (greeting, empathy, closing) judge the agent's turns.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import get_args

from lenddesk.collections import guard
from lenddesk.core.policy import QualityCode
from lenddesk.desk import categorise, disclosure

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
SPEAKERS = ("agent", "borrower", "bot")
RESULTS = ("pass", "fail", "n/a")
COMPANY = frozenset({"agent", "bot"})
# Stored conversations also carry the staff's internal notes (call notes, collection notes): checked
# for banned language and privacy only, as the borrower never reads them.
STAFF_WRITTEN = COMPANY | {"note"}
EVIDENCE_LIMIT = 200

# --- word lists of the manner items (the severe language checks live in collections/guard.py) ----
_GREETING_WORDS = ("您好", "你好", "早上好", "上午好", "中午好", "下午好", "晚上好", "欢迎", "很高兴为您服务")
_SELF_WORDS = ("我是", "客服", "工号", "为您服务", "小助手", "专员", "这里是", "本平台")
_DISTRESS_WORDS = (
    "困难", "还不起", "还不上", "没钱", "失业", "下岗", "裁员", "生病", "住院", "手术", "急用",
    "着急", "焦虑", "压力", "崩溃", "难受", "绝望", "走投无路", "活不下去", "睡不着", "怎么办",
    "求求", "太难了", "家里出事", "去世", "离婚", "被骗",
)  # fmt: skip
_EMPATHY_WORDS = (
    "理解", "抱歉", "不好意思", "很遗憾", "辛苦", "别着急", "不要着急", "请放心", "您放心", "体谅",
    "感同身受", "明白您", "心情", "难处", "关心", "保重", "早日康复", "我们会帮您", "一起想办法",
)  # fmt: skip
_SOLUTION_WORDS = (
    "方案", "分期", "延期", "展期", "减免", "协商", "申请", "提交", "登记", "反馈给", "转交", "跟进",
    "核实", "处理结果", "回复您", "联系您", "回电", "工作日内", "小时内", "为您办理", "可以为您",
    "建议您", "您可以", "下一步", "还款计划", "调整", "暂停", "豁免",
)  # fmt: skip
_CLOSING_WORDS = (
    "感谢", "谢谢", "再见", "祝您", "还有其他", "还有什么", "如有疑问", "如有问题", "随时联系",
    "生活愉快", "工作顺利", "满意", "稍后", "下一步", "请保持电话畅通",
)  # fmt: skip
_COMPLAINT_WORDS = ("投诉", "举报", "不满意", "维权", "12378", "监管", "态度差")
SOLUTION_CATEGORIES = frozenset({"hardship", "complaint", "collection_conduct", "fee_dispute"})

_SENTENCE_END = re.compile(r"(?<=[。！？!?；;…\n])")
_AMOUNT = re.compile(
    r"(?:[¥￥]|人民币|rmb)\s*(\d[\d,]*(?:\.\d{1,2})?)|(\d[\d,]*(?:\.\d{1,2})?)\s*(?:元|块)", re.IGNORECASE
)
_FULL_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_MONTH_DAY = re.compile(r"(?<![\d年/.-])(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
# A sentence can hold account data (desk/disclosure.py) only if it has one of these: a digit, a
# currency sign, a date word, a card-tail word, or a Chinese numeral that the disclosure patterns
# would read as a sum or a date (two in a row, one before a unit or a non-Chinese character, one
# after 为/是/:). Sentences without any skip the scan, whose Traditional → Simplified step is slow;
# tests/quality/test_rubric.py checks that nothing the scan finds is skipped.
_CN_NUMERALS = "零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟"
_MAYBE_ACCOUNT_DATA = re.compile(
    r"\d|[¥$]|rmb|cny|usd|人民币|旬|周|星期|礼拜|今天|明天|后天|今日|明日|本月|下月|下个月|月底|月初|月末|"
    r"月中|年底|尾号|末尾|结尾"
    f"|[{_CN_NUMERALS}]{{2}}|[{_CN_NUMERALS}](?=[元圆块万千百月日号]|[^\u4e00-\u9fff]|$)|[:为是][{_CN_NUMERALS}]"
)


# --- the conversation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    speaker: str  # agent, borrower, bot
    text: str
    at: datetime | None = None


@dataclass(frozen=True)
class LedgerFacts:
    """What the ledger said when the agent looked: every amount and date the agent might quote."""

    amounts_fen: frozenset[int] = frozenset()
    dates: frozenset[date] = frozenset()


@dataclass(frozen=True)
class Conversation:
    channel: str
    turns: tuple[Turn, ...]
    verified_at: datetime | None = None  # when identity reached the level account data needs
    verified_turn: int | None = None  # or the turn at which it did (a posted transcript)
    ledger: LedgerFacts | None = None
    first_response_due: datetime | None = None  # the SLA deadline of the first answer
    first_response_minutes: int | None = None  # without a deadline: minutes from the first message
    category: str | None = None  # the ticket's category, when known
    contract_numbers: tuple[str, ...] = ()  # the borrower's, found in any shape
    public: tuple[str, ...] = ()  # not account data: the hotline, the ticket number


@dataclass(frozen=True)
class ItemResult:
    code: str
    result: str  # pass, fail, n/a
    evidence: str
    weight: int


@dataclass(frozen=True)
class Score:
    score: int
    severe: bool
    items: tuple[ItemResult, ...]

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.items if item.result == "fail")

    def item(self, code: str) -> ItemResult:
        return next(item for item in self.items if item.code == code)


@dataclass(frozen=True)
class _Sentence:
    turn: int  # index of the turn
    speaker: str
    text: str  # as written, trimmed
    plain: str  # normalised: NFKC, Simplified, no spaces, lower-case
    at: datetime | None


@dataclass
class _Read:
    """A conversation cut into sentences, each normalised once (the checks share the work)."""

    conversation: Conversation
    sentences: list[_Sentence] = field(default_factory=list)
    _violations: dict[int, tuple[guard.Violation, ...]] = field(default_factory=dict)

    def violations(self, turn: int) -> tuple[guard.Violation, ...]:
        """The collections guard's findings in one whole turn (its checks see through punctuation
        put inside a word, so a turn is not cut into sentences for them)."""
        if turn not in self._violations:
            self._violations[turn] = _guard_findings(self.conversation.turns[turn].text)
        return self._violations[turn]

    def of(self, speakers: Iterable[str]) -> list[_Sentence]:
        wanted = set(speakers)
        return [s for s in self.sentences if s.speaker in wanted]

    def turns_of(self, speakers: Iterable[str]) -> list[int]:
        wanted = set(speakers)
        return [i for i, turn in enumerate(self.conversation.turns) if turn.speaker in wanted]

    def sentence_with(self, turn: int, code: str) -> _Sentence:
        """The sentence of `turn` the guard objects to under `code` (the first, else the whole turn)."""
        sentences = [s for s in self.sentences if s.turn == turn]
        for sentence in sentences:
            if any(v.code == code for v in guard.text_violations(sentence.text)):
                return sentence
        whole = self.conversation.turns[turn]
        return _Sentence(turn, whole.speaker, whole.text.strip(), "", whole.at)


# --- reading ----------------------------------------------------------------------------------------


# The fast Simplified step (OpenCC skipped when no character can change) is the desk's.
to_simplified = disclosure.to_simplified


class _Invisible(dict[int, int | None]):
    """str.translate table dropping white space, format and control characters (as disclosure
    does), filled in as characters are met: building it for every code point takes seconds."""

    def __missing__(self, code: int) -> int | None:
        char = chr(code)
        keep = not (char.isspace() or unicodedata.category(char) in ("Cf", "Cc"))
        self[code] = code if keep else None
        return self[code]


_INVISIBLE = _Invisible()


def _strip(text: str) -> str:
    return text.translate(_INVISIBLE)


def normalise(text: str) -> str:
    """The desk's disclosure normalisation (NFKC, Simplified, no spaces or format characters,
    lower-case), with the fast Simplified step."""
    return _strip(to_simplified(unicodedata.normalize("NFKC", text))).lower()


def _sentences(text: str) -> list[str]:
    parts = [part.strip() for part in _SENTENCE_END.split(text)]
    return [part for part in parts if part] or ([text.strip()] if text.strip() else [])


def read(conversation: Conversation) -> _Read:
    raw: list[tuple[int, Turn, str]] = [
        (index, turn, sentence)
        for index, turn in enumerate(conversation.turns)
        for sentence in _sentences(turn.text)
    ]
    plains = [normalise(sentence) for _, _, sentence in raw]
    reading = _Read(conversation)
    reading.sentences = [
        _Sentence(index, turn.speaker, sentence, plain, turn.at)
        for (index, turn, sentence), plain in zip(raw, plains, strict=True)
    ]
    return reading


def _quote(sentence: _Sentence | None, note: str = "") -> str:
    if sentence is None:
        return note
    who = {"agent": "客服", "borrower": "客户", "bot": "机器人", "note": "备注"}.get(
        sentence.speaker, sentence.speaker
    )
    quoted = f"{who}：「{sentence.text[:EVIDENCE_LIMIT]}」"
    return f"{quoted}（{note}）" if note else quoted


def _has(plain: str, words: Iterable[str]) -> str | None:
    return next((word for word in words if word in plain), None)


# --- the items --------------------------------------------------------------------------------------


def _greeting(reading: _Read) -> tuple[str, str]:
    agent = reading.of(["agent"])
    if not agent:
        return "n/a", "没有客服发言"
    first_turn = agent[0].turn
    opening = [s for s in agent if s.turn == first_turn]
    polite = next((s for s in opening if _has(s.plain, _GREETING_WORDS)), None)
    named = next((s for s in opening if _has(s.plain, _SELF_WORDS)), None)
    if polite and named:
        return "pass", _quote(polite)
    missing = "未使用礼貌问候语" if polite is None else "未自报姓名或服务名称"
    return "fail", _quote(opening[0], missing)


def _before_verification(sentence: _Sentence, verified_at: datetime | None) -> bool:
    if verified_at is None:
        return True
    return sentence.at is None or sentence.at < verified_at


def may_hold_account_data(plain: str, contract_numbers: Sequence[str] = ()) -> bool:
    """False only when the desk's disclosure scan cannot find anything in this normalised text."""
    if _MAYBE_ACCOUNT_DATA.search(plain):
        return True
    return any(number and disclosure.compact(number) in plain for number in contract_numbers)


# Both checks are pure functions of the text and cost a few hundred microseconds a call; conversations
# repeat sentences (macros, greetings, closings), so a bounded cache of recent answers saves much of
# the nightly run's time without changing any result.
@lru_cache(maxsize=8192)
def _guard_findings(text: str) -> tuple[guard.Violation, ...]:
    return tuple(guard.text_violations(text))


@lru_cache(maxsize=8192)
def _disclosure_findings(
    text: str, contracts: tuple[str, ...], public: tuple[str, ...]
) -> tuple[disclosure.Finding, ...]:
    return tuple(disclosure.find_account_data(text, contract_numbers=contracts, public=public))


def _account_data(reading: _Read, sentence: _Sentence) -> tuple[disclosure.Finding, ...]:
    conversation = reading.conversation
    if not may_hold_account_data(sentence.plain, conversation.contract_numbers):
        return ()
    return _disclosure_findings(sentence.text, conversation.contract_numbers, conversation.public)


def _identity_check(reading: _Read) -> tuple[str, str]:
    verified_at = reading.conversation.verified_at
    company = reading.of(COMPANY)
    for sentence in company:
        if _before_verification(sentence, verified_at) and (found := _account_data(reading, sentence)):
            what, _ = disclosure.describe(found)
            return "fail", _quote(sentence, f"身份核验前透露账户信息：{what}")
    after = (s for s in company if not _before_verification(s, verified_at))
    disclosed = next((s for s in after if _account_data(reading, s)), None)
    if disclosed is None:
        return "n/a", "未提及账户信息"
    return "pass", _quote(disclosed, "核验后提供账户信息")


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


def _accuracy(reading: _Read) -> tuple[str, str]:
    facts = reading.conversation.ledger
    if facts is None or (not facts.amounts_fen and not facts.dates):
        return "n/a", "无账务数据可比对"
    checked = None
    for sentence in reading.of(COMPANY):
        amounts = [_fen(a or b) for a, b in _AMOUNT.findall(sentence.plain)]
        for amount in amounts:
            if amount is not None and facts.amounts_fen and amount not in facts.amounts_fen:
                return "fail", _quote(sentence, f"金额 {amount / 100:.2f} 元与账务不符")
        for quoted in _quoted_dates(sentence.plain, None):
            if facts.dates and not _date_matches(quoted, facts.dates):
                return "fail", _quote(sentence, "日期与账务不符")
        if amounts or _quoted_dates(sentence.plain, None):
            checked = checked or sentence
    if checked is None:
        return "n/a", "客服未报金额或日期"
    return "pass", _quote(checked)


def _empathy(reading: _Read) -> tuple[str, str]:
    distress = next((s for s in reading.of(["borrower"]) if _has(s.plain, _DISTRESS_WORDS)), None)
    if distress is None:
        return "n/a", "客户未表达困难或情绪"
    answer = next(
        (s for s in reading.of(["agent"]) if s.turn > distress.turn and _has(s.plain, _EMPATHY_WORDS)),
        None,
    )
    if answer is None:
        return "fail", _quote(distress, "客户表达困难后客服未予回应")
    return "pass", _quote(answer)


def _needs_solution(reading: _Read) -> _Sentence | None:
    for sentence in reading.of(["borrower"]):
        if _has(sentence.plain, _COMPLAINT_WORDS):
            return sentence
        if categorise.suggest(sentence.plain).category in SOLUTION_CATEGORIES:
            return sentence
    return None


def _solution_offered(reading: _Read) -> tuple[str, str]:
    trigger = _needs_solution(reading)
    if trigger is None and reading.conversation.category not in SOLUTION_CATEGORIES:
        return "n/a", "非困难协商或投诉"
    after = trigger.turn if trigger is not None else -1
    offer = next(
        (s for s in reading.of(["agent"]) if s.turn > after and _has(s.plain, _SOLUTION_WORDS)), None
    )
    if offer is None:
        return "fail", _quote(trigger, "未给出方案或下一步") if trigger else "未给出方案或下一步"
    return "pass", _quote(offer)


def _banned_language(reading: _Read) -> tuple[str, str]:
    for turn in reading.turns_of(STAFF_WRITTEN):
        violations = [v for v in reading.violations(turn) if v.code != "PRIVACY"]
        if violations:
            found = "；".join(f"{v.message_zh}：{v.evidence}" for v in violations)
            return "fail", _quote(reading.sentence_with(turn, violations[0].code), found)
    return "pass", "未发现威胁、辱骂、冒充权威或虚假后果用语"


def _privacy(reading: _Read) -> tuple[str, str]:
    for turn in reading.turns_of(STAFF_WRITTEN):
        violations = [v for v in reading.violations(turn) if v.code == "PRIVACY"]
        if violations:
            found = f"{violations[0].message_zh}：{violations[0].evidence}"
            return "fail", _quote(reading.sentence_with(turn, "PRIVACY"), found)
    return "pass", "未发现明文身份证号、银行卡号或手机号"


def _closing(reading: _Read) -> tuple[str, str]:
    agent = reading.of(["agent"])
    if not agent:
        return "n/a", "没有客服发言"
    last_turn = agent[-1].turn
    closing = [s for s in agent if s.turn == last_turn]
    found = next((s for s in closing if _has(s.plain, _CLOSING_WORDS)), None)
    if found is None:
        return "fail", _quote(closing[-1], "缺少结束语、下一步说明或致谢")
    return "pass", _quote(found)


def _response_time(reading: _Read) -> tuple[str, str]:
    conversation = reading.conversation
    asked = next((s for s in reading.sentences if s.speaker == "borrower" and s.at is not None), None)
    answered = next(
        (
            s
            for s in reading.sentences
            if s.speaker == "agent" and s.at is not None and asked and s.at >= asked.at
        ),
        None,
    )
    if asked is None or answered is None or asked.at is None or answered.at is None:
        return "n/a", "无法计算首次响应时间"
    due = conversation.first_response_due
    if due is None and conversation.first_response_minutes is not None:
        due = asked.at + timedelta(minutes=conversation.first_response_minutes)
    if due is None:
        return "n/a", "无响应时限"
    waited = int((answered.at - asked.at).total_seconds() // 60)
    if answered.at <= due:
        return "pass", _quote(answered, f"{waited} 分钟内首次响应")
    return "fail", _quote(answered, f"首次响应用时 {waited} 分钟，超出时限")


CHECKS = {
    "GREETING": _greeting,
    "IDENTITY_CHECK": _identity_check,
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
