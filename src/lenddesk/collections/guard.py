"""The compliance guard: may this contact go out? Pure code — no database, no clock.

Every outbound contact (an automated message, an agent's call or SMS, a script template) is
checked against the situation (who is reached, when, how often, opt-outs, open disputes) and its
text. The text checks survive the usual evasions: the text is normalised (NFKC full-width →
half-width, OpenCC's Traditional → Simplified character table, lower case) and compacted (every
space, punctuation mark, symbol and zero-width character removed) before the phrase lists are
matched; a pinyin reading catches known homophone swaps (做牢 for 坐牢, 工安 for 公安) and words
spelled in pinyin or by pinyin initials (zuolao, sb, nmsl). Compliant texts — a polite reminder
with amount, due date, contract number, repayment channels and factual consequences (late fees,
the credit report, lawful proceedings stated as a possibility) — pass; docs/COLLECTIONS.md lists
the rules.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Literal

from lenddesk.core.pii import is_valid_id_number, luhn_ok

VIOLATION_CODES: tuple[str, ...] = (
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
TEXT_CODES: tuple[str, ...] = ("THREAT", "INSULT", "FALSE_AUTHORITY", "FALSE_CONSEQUENCE", "PRIVACY")
CHANNELS: tuple[str, ...] = ("sms", "call_script", "email", "app", "robocall")
Recipient = Literal["self", "third_party"]

MESSAGES_ZH: dict[str, str] = {
    "QUIET_HOURS": "不在允许联系的时段内（借款人当地时间）",
    "FREQUENCY_CAP": "超过联系频次上限（每日或滚动 7 日，各渠道、各团队合计）",
    "THIRD_PARTY_DISCLOSURE": "对第三方只能请其转告回电或更新联系方式，不得提及欠款、金额、逾期、借款或催收",
    "THREAT": "含威胁、恐吓或暴力内容",
    "INSULT": "含侮辱、辱骂或贬损内容",
    "FALSE_AUTHORITY": "冒充公检法、律师、政府机关，或声称不存在的诉讼、立案、传票",
    "FALSE_CONSEQUENCE": "虚构后果（抓捕、坐牢、牵连家人子女、通知单位、曝光通讯录、冻结查封等）",
    "PRIVACY": "含明文个人信息（完整身份证号、银行卡号或手机号）",
    "OPTED_OUT": "借款人已退订该渠道",
    "DISPUTE_HOLD": "该笔债务存在未结的投诉或争议，催收暂停",
    "EMERGENCY_HOLD": "应急事件进行中，提醒与催收外呼暂停",
}
MESSAGES_EN: dict[str, str] = {
    "QUIET_HOURS": "Outside the allowed contact hours (borrower-local time)",
    "FREQUENCY_CAP": "Over the contact cap (per day or rolling 7 days, all channels and teams)",
    "THIRD_PARTY_DISCLOSURE": "A third party may only be asked for a call-back or new contact details",
    "THREAT": "Threatening, intimidating or violent language",
    "INSULT": "Insulting or demeaning language",
    "FALSE_AUTHORITY": "Posing as police, court, lawyer or government, or claiming a non-existent case",
    "FALSE_CONSEQUENCE": "A false consequence (arrest, jail, family, employer, address book, seizure …)",
    "PRIVACY": "Personal data in clear text (full ID number, bank card or mobile number)",
    "OPTED_OUT": "The borrower opted out of this channel",
    "DISPUTE_HOLD": "An open complaint or dispute about this debt pauses collection",
    "EMERGENCY_HOLD": "An active incident pauses reminders and collection contacts",
}


@dataclass(frozen=True)
class Violation:
    code: str
    message_zh: str
    evidence: str


@dataclass(frozen=True)
class ContactRules:
    """The policy limits (defaults: 08:00–21:00, 3 a day, 7 in any rolling 7 days)."""

    window_start: time = time(8, 0)
    window_end: time = time(21, 0)
    daily_cap: int = 3
    rolling_7d_cap: int = 7


@dataclass(frozen=True)
class ContactSituation:
    """What history and the borrower's settings say about this contact.

    `local_time` is the borrower-local wall-clock time; `contacts_today` / `contacts_7d` count
    outbound contacts already made (sent, all channels and teams; the borrower's own contacts do
    not count), before this one. `emergency_hold` names the active incident that pauses outbound
    contact in this borrower's scope ("" when none does).
    """

    recipient: Recipient
    channel: str
    local_time: time
    contacts_today: int = 0
    contacts_7d: int = 0
    opted_out_channels: frozenset[str] = field(default_factory=frozenset)
    dispute_open: bool = False
    emergency_hold: str = ""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    violations: tuple[Violation, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.code for v in self.violations))


def violation(code: str, evidence: str) -> Violation:
    return Violation(code=code, message_zh=MESSAGES_ZH[code], evidence=evidence)


# --- normalisation ----------------------------------------------------------------------------------

_NOT_A_WORD_CHARACTER = re.compile(r"[\W_]+")
_CHINESE_DIGITS = str.maketrans("零〇一二三四五六七八九", "00123456789")


@lru_cache(maxsize=1)
def _traditional_to_simplified() -> dict[int, str]:
    """OpenCC's character table (variants → Traditional → Simplified), one character to one.

    Character level keeps positions and is ~100× faster than OpenCC's phrase segmentation, which
    matters at p99 ≤ 1 ms; for the guard's phrase lists the character table is what counts.
    """
    import opencc  # the package ships the dictionaries; only its data is read here

    folder = Path(opencc.__file__).parent / "dictionary"
    table: dict[int, str] = {}
    for name in ("HKVariantsRev.txt", "TWVariantsRev.txt", "TSCharacters.txt"):
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            source, _, targets = line.partition("\t")
            target = targets.split(" ")[0] if targets else ""
            if len(source) == 1 and len(target) == 1:
                target = table.get(ord(target), target)
                table[ord(source)] = target
    return table


def normalise(text: str) -> str:
    """Full-width → half-width (NFKC), Traditional → Simplified, lower case."""
    return unicodedata.normalize("NFKC", text).lower().translate(_traditional_to_simplified())


def compact(text: str) -> str:
    """The normalised text with every space, mark, symbol and invisible character removed."""
    return _NOT_A_WORD_CHARACTER.sub("", normalise(text))


def _syllable(char: str) -> str | None:
    from pypinyin.pinyin_dict import pinyin_dict

    readings = pinyin_dict.get(ord(char))
    if not readings:
        return None
    first = unicodedata.normalize("NFKD", readings.split(",")[0]).replace("u\u0308", "v")
    return "".join(c for c in first if not unicodedata.combining(c))


class _PinyinTable(dict[int, str]):
    """str.translate table: a Chinese character → " SYLLABLE " (upper case, so a reading is never
    mistaken for Latin letters the writer typed), Latin letters kept, anything else → space."""

    def __missing__(self, code: int) -> str:
        syllable = _syllable(chr(code))
        self[code] = value = f" {syllable.upper()} " if syllable else " "
        return value


_PINYIN = _PinyinTable({ord(c): c for c in "abcdefghijklmnopqrstuvwxyz"})


def pinyin_reading(compacted: str) -> str:
    """Each Chinese character as its toneless pinyin in upper case, space-separated; Latin runs
    (lower case after normalising) kept whole."""
    return " ".join(compacted.translate(_PINYIN).split())


# --- the phrase lists ---------------------------------------------------------------------------------
# Literal phrases are matched in the compacted text. HOMOPHONE phrases are also matched by their
# pinyin, so a character swapped for one that sounds the same is caught; only phrases whose
# reading does not collide with everyday reminder wording are listed there (警察 jing cha would
# catch 经查, 刑事 xing shi 形式). Every phrase is also caught spelled in pinyin (zuolao, gongan).


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


PHRASES: dict[str, tuple[str, ...]] = {
    "THREAT": _words(
        """
        杀了你 杀你 杀全家 砍死 砍你 弄死 打死 整死 搞死 去死 死全家 全家死 不得好死 断手 断腿 打断你
        卸你 废了你 弄残 灭了你 灭门 放火 烧你家 泼油漆 泼粪 砸你家 上门砸 上门闹 堵你 派人上门 找人收拾
        收拾你 让你好看 走着瞧 等着瞧 你等着 后果自负 小心点 小心你 知道你住 知道你家 别想好过
        不会放过你 没好果子 见血 血光 出门小心 走夜路 跑不掉 跑得了和尚 不得安宁
        """
    ),
    "INSULT": _words(
        """
        傻逼 傻b 傻x 傻叉 傻比 煞笔 沙比 傻子 傻瓜 白痴 弱智 智障 脑残 蠢货 蠢猪 废物 垃圾人 你是垃圾
        人渣 贱人
        贱货 下贱 婊子 杂种 畜生 畜牲 王八蛋 混蛋 狗东西 狗娘 你妈的 他妈的 去你妈 操你 草你 日你 滚蛋
        给我滚 老赖 赖皮 无赖 不要脸 穷鬼 穷逼 死皮赖脸 没脸没皮 废柴 猪脑
        """
    ),
    "FALSE_AUTHORITY": _words(
        """
        警察 公安 警方 民警 刑警 经侦 派出所 检察院 检察官 法官 法院 律师 律所 政府 司法局 司法机关
        执行局 传票 通缉 逮捕令 拘捕令 案件 案底 立案 银保监 监管局
        """
    ),
    "FALSE_CONSEQUENCE": _words(
        """
        坐牢 蹲监狱 进监狱 监狱 牢饭 判刑 刑事 刑拘 拘留 逮捕 抓你 抓人 抓起来 抓走 被抓 犯罪 诈骗罪
        坐监 通讯录 群发 曝光 挂网 子女上学 孩子上学 影响子女 影响孩子 子女入学 孩子入学 政审 考公 株连
        连累 冻结 查封 扣押 没收 拍卖 黑名单 黑户 失信名单 限制出行 限高 限制高消费 坐高铁 坐飞机
        永久影响 终身 一辈子 开除 丢工作
        """
    ),
}
HOMOPHONE_PHRASES: frozenset[str] = frozenset(
    _words(
        """
        人渣 传票 傻逼 全家死 公安 判刑 去死 坐牢 弄死 律师 曝光 杀了你 杀你 检察院 死全家 法官 法院
        派出所 王八蛋 监狱 砍死 老赖 脑残 通讯录 黑名单
        """
    )
)
# Insults typed as pinyin initials; matched as whole Latin runs (short ones would hit words).
INITIALISMS: dict[str, str] = {
    "sb": "INSULT", "shabi": "INSULT", "nmsl": "INSULT", "cnm": "INSULT", "wcnm": "INSULT",
    "nmb": "INSULT", "tmd": "INSULT", "mlgb": "INSULT", "rnm": "INSULT", "sjb": "INSULT",
    "nc": "INSULT", "zz": "INSULT", "nmd": "INSULT",
}  # fmt: skip
PATTERNS: dict[str, tuple[str, ...]] = {
    # A lawsuit, case or report claimed as already made (a possibility stated with 可能/将 passes).
    "FALSE_AUTHORITY": (
        r"已经?(?:(?!可能|或|将|会|如|若|否则)\w){0,12}?(?:起诉|提起诉讼|报案|报警|移交(?:法院|公安|司法|警方))",
        r"(?:法院|公安|警方|派出所)已",
        r"(?:诉讼|起诉)(?:已|正在)",
        r"正在(?:起诉|立案)",
    ),
    "FALSE_CONSEQUENCE": (
        r"(?:通知|告诉|告知|联系|找|打给|打电话给|上门找)(?:你|您)?的?(?:家人|父母|亲戚|亲友|朋友|同事|领导|单位|公司|老板|配偶|老婆|老公|子女|孩子|学校|紧急联系人|通讯录)",
        r"(?:你|您)的?(?:单位|公司)(?:领导|老板|同事)",
        r"征信(?:\w{0,4})(?:永久|一辈子|终身)",
    ),
    "INSULT": (r"你\w{0,3}骗子", r"大骗子", r"你滚"),
}
# Lawful wording that mentions a court: exempt only when the match lies inside one of these.
SAFE_PHRASES: tuple[str, ...] = (
    r"(?:可能|将可能|或将|有权|保留)(?:依法)?(?:向(?:有管辖权的)?(?:人民)?法院)?(?:依法)?(?:提起|提出)(?:民事)?诉讼",
    r"(?:可能|将可能|或将|有权)(?:依法)?(?:向(?:有管辖权的)?(?:人民)?法院)?(?:申请|提起)",
)


@dataclass(frozen=True)
class _Matchers:
    literal: dict[str, re.Pattern[str]]
    # Space-joined syllables of HOMOPHONE_PHRASES → code (looked up as n-grams of the reading).
    sounds: dict[str, str]
    # A whole Latin run spelling a phrase in pinyin, or an initialism → code.
    spelled_words: dict[str, str]
    # Longer pinyin spellings found inside a Latin run (woshigongan).
    spelled_inside: dict[str, re.Pattern[str]]
    safe: re.Pattern[str]
    longest_sound: int


def _alternation(parts: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(sorted(parts, key=len, reverse=True)))


@lru_cache(maxsize=1)
def _matchers() -> _Matchers:
    literal: dict[str, re.Pattern[str]] = {}
    sounds: dict[str, str] = {}
    spelled_words: dict[str, str] = dict(INITIALISMS)
    spelled_inside: dict[str, re.Pattern[str]] = {}
    for code, phrases in PHRASES.items():
        literal[code] = _alternation([re.escape(p) for p in phrases] + list(PATTERNS.get(code, ())))
        for phrase in phrases:
            reading = pinyin_reading(phrase)
            if phrase in HOMOPHONE_PHRASES:
                sounds[reading] = code
            spelled_words.setdefault(reading.replace(" ", "").lower(), code)
        long_words = {w for w, c in spelled_words.items() if c == code and len(w) >= 5}
        spelled_inside[code] = _alternation(re.escape(w) for w in long_words)
    longest = max(len(s.split()) for s in sounds)
    return _Matchers(literal, sounds, spelled_words, spelled_inside, _alternation(SAFE_PHRASES), longest)


def _inside(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(start <= span[0] and span[1] <= end for start, end in spans)


def _without(compacted: str, spans: list[tuple[int, int]]) -> str:
    for start, end in reversed(spans):
        compacted = compacted[:start] + " " + compacted[end:]
    return compacted


def _sound_hits(reading: str, matchers: _Matchers) -> Iterator[tuple[str, str]]:
    tokens = reading.split()
    for index, token in enumerate(tokens):
        if token in matchers.spelled_words:
            yield matchers.spelled_words[token], token
        for size in range(2, matchers.longest_sound + 1):
            key = " ".join(tokens[index : index + size])
            if key in matchers.sounds:
                yield matchers.sounds[key], key.lower()
        if len(token) >= 5 and token.islower():
            for code, pattern in matchers.spelled_inside.items():
                found = pattern.search(token)
                if found:
                    yield code, found.group()


def _phrase_hits(compacted: str) -> Iterator[tuple[str, str]]:
    matchers = _matchers()
    safe = [m.span() for m in matchers.safe.finditer(compacted)]
    literal_codes = set()
    for code, pattern in matchers.literal.items():
        for match in pattern.finditer(compacted):
            if not _inside(match.span(), safe):
                literal_codes.add(code)
                yield code, match.group()
    for code, found in _sound_hits(pinyin_reading(_without(compacted, safe)), matchers):
        if code not in literal_codes:
            yield code, found


# --- personal data ------------------------------------------------------------------------------

_DIGIT = re.compile(r"[0-9]")
_DIGIT_RUN = re.compile(r"(?<![0-9a-z])[0-9]{11,19}x?(?![0-9])")
_LOOSE_DIGIT_RUN = re.compile(r"(?<![0-9a-z])[0-9](?:[0-9\s\-]*[0-9])?x?(?![0-9])")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")


def mask_number(run: str) -> str:
    return run[:3] + "*" * max(len(run) - 7, 0) + run[-4:] if len(run) > 7 else "*" * len(run)


def _personal_number(run: str) -> bool:
    if len(run) == 18 and is_valid_id_number(run.upper()):
        return True
    if len(run) == 11 and _MOBILE.fullmatch(run):
        return True
    return run.isdigit() and 16 <= len(run) <= 19 and run[0] in "3456" and luhn_ok(run)


def _privacy_hits(text: str, compacted: str) -> Iterator[str]:
    if len(_DIGIT.findall(compacted.translate(_CHINESE_DIGITS))) < 11:
        return
    loose = normalise(text).translate(_CHINESE_DIGITS)
    candidates = {m.group() for m in _DIGIT_RUN.finditer(compacted.translate(_CHINESE_DIGITS))}
    candidates |= {re.sub(r"[\s\-]", "", m.group()) for m in _LOOSE_DIGIT_RUN.finditer(loose)}
    for run in sorted(candidates):
        if _personal_number(run):
            yield mask_number(run)


# --- the checks -----------------------------------------------------------------------------------


def text_violations(text: str) -> list[Violation]:
    """The text-only checks (THREAT, INSULT, FALSE_AUTHORITY, FALSE_CONSEQUENCE, PRIVACY).

    One violation per code, with the first offending phrase (normalised) or the masked number
    as evidence. Used by the quality room's BANNED_LANGUAGE and PRIVACY rubric items.
    """
    compacted = compact(text)
    evidence: dict[str, list[str]] = {}
    for code, found in _phrase_hits(compacted):
        evidence.setdefault(code, [])
        if found not in evidence[code]:
            evidence[code].append(found)
    for masked in _privacy_hits(text, compacted):
        evidence.setdefault("PRIVACY", []).append(masked)
    return [violation(code, "、".join(evidence[code][:5])) for code in TEXT_CODES if code in evidence]


# What a third party may not hear: the debt, money, lateness, loans or the collection role.
_DISCLOSURE = re.compile(
    r"欠|债|贷|逾期|到期|还款|还钱|还清|催收|催缴|借款|借钱|借了|借的|合同|账单|分期|利息|罚息|滞纳金|"
    r"本金|征信|金额|额度|[0-9]+(?:\.[0-9]+)?(?:元|块|万|rmb|yuan)|¥|人民币|ht[0-9]{6,}"
)
_DISCLOSURE_SPELLED = re.compile(r"qian ?kuan|yu ?qi|dai ?kuan|huan ?kuan|cui ?shou|jie ?kuan|zheng ?xin")


def third_party_violation(text: str) -> Violation | None:
    """A third party may be asked to pass on a call-back request or to update contact details."""
    compacted = compact(text)
    found = _DISCLOSURE.search(compacted)
    if found:
        return violation("THIRD_PARTY_DISCLOSURE", found.group())
    spelled = _DISCLOSURE_SPELLED.search(" ".join(re.findall(r"[a-z]+", compacted)))
    return violation("THIRD_PARTY_DISCLOSURE", spelled.group()) if spelled else None


def situation_violations(situation: ContactSituation, rules: ContactRules) -> list[Violation]:
    found: list[Violation] = []
    at = situation.local_time
    if not rules.window_start <= at.replace(tzinfo=None) < rules.window_end:
        window = f"{rules.window_start:%H:%M}–{rules.window_end:%H:%M}"
        found.append(violation("QUIET_HOURS", f"{at:%H:%M}（允许 {window}）"))
    if situation.contacts_today >= rules.daily_cap:
        found.append(
            violation("FREQUENCY_CAP", f"今日已联系 {situation.contacts_today} 次，上限 {rules.daily_cap}")
        )
    elif situation.contacts_7d >= rules.rolling_7d_cap:
        found.append(
            violation(
                "FREQUENCY_CAP", f"近 7 日已联系 {situation.contacts_7d} 次，上限 {rules.rolling_7d_cap}"
            )
        )
    if situation.channel in situation.opted_out_channels:
        found.append(violation("OPTED_OUT", situation.channel))
    if situation.dispute_open:
        found.append(violation("DISPUTE_HOLD", "存在未结投诉或争议"))
    if situation.emergency_hold:
        found.append(violation("EMERGENCY_HOLD", situation.emergency_hold))
    return found


def check_contact(text: str, situation: ContactSituation, rules: ContactRules | None = None) -> Verdict:
    """Allowed, or every violation found (situation first, then the text)."""
    if situation.channel not in CHANNELS:
        raise ValueError(f"unknown channel {situation.channel!r}; channels are {', '.join(CHANNELS)}")
    found = situation_violations(situation, rules or ContactRules())
    if situation.recipient == "third_party":
        disclosure = third_party_violation(text)
        if disclosure is not None:
            found.append(disclosure)
    found.extend(text_violations(text))
    order = {code: index for index, code in enumerate(VIOLATION_CODES)}
    found.sort(key=lambda v: order[v.code])
    return Verdict(allowed=not found, violations=tuple(found))
