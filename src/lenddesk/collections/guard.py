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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from lenddesk.collections.guard_scope import (
    ENGLISH_NEGATION,
    NOT_A_WORD_CHARACTER,
    SENTENCE_END,
    is_exempt,
    negated,
    scope_of,
    sentence_exemptions,
)
from lenddesk.core.patterns import compile_prefiltered
from lenddesk.core.pii import is_valid_id_number, luhn_ok

if TYPE_CHECKING:
    from lenddesk.collections.guard_model import ModelVerdict

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

_CHINESE_DIGITS = str.maketrans("零〇一二三四五六七八九", "00123456789")
_CHINESE_DIGIT = re.compile("[零〇一二三四五六七八九]")


@lru_cache(maxsize=1)
def _traditional_to_simplified() -> dict[int, str]:
    """OpenCC's character table (variants → Traditional → Simplified), one character to one.

    Character level keeps positions and is ~100× faster than OpenCC's phrase segmentation, which
    matters at p99 ≤ 1 ms; for the guard's phrase lists the character table is what counts.
    """
    import opencc  # the package ships the dictionaries; only its data is read here

    folder = Path(opencc.__file__).parent / "dictionary"

    def pairs(name: str) -> Iterator[tuple[str, str]]:
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            source, _, targets = line.partition("\t")
            target = targets.split(" ")[0] if targets else ""
            if len(source) == 1 and len(target) == 1:
                yield source, target

    to_simplified = dict(pairs("TSCharacters.txt"))
    simplified = set(to_simplified.values())
    table: dict[int, str] = {}
    for name in ("HKVariantsRev.txt", "TWVariantsRev.txt"):
        for source, target in pairs(name):
            # A Simplified character is never a variant to convert (核 is listed as a variant of 覈).
            if source not in simplified:
                table[ord(source)] = to_simplified.get(target, target)
    table.update({ord(source): target for source, target in to_simplified.items()})
    return {source: target for source, target in table.items() if chr(source) != target}


# Emoji that stand for a word (🔪 a knife, 🐶 a dog …); every other emoji (hearts, smileys) is a
# separator and disappears when the text is compacted.
EMOJI_WORDS: dict[str, str] = {
    "🔪": "砍刀", "🗡": "砍刀", "⚔": "砍刀", "🔫": "枪", "💣": "炸弹", "🧨": "炸弹", "💥": "炸",
    "🐶": "狗", "🐕": "狗", "🐩": "狗", "🐷": "猪", "🐖": "猪", "🐽": "猪", "🐀": "老鼠", "🐭": "老鼠",
    "🐢": "王八", "🐍": "蛇", "💩": "屎", "⚰": "棺材", "🪦": "坟", "💀": "死", "☠": "死", "🩸": "血",
    "🖕": "操", "🅱": "b", "🤡": "小丑", "🔥": "火",
}  # fmt: skip
_EMOJI_TABLE = str.maketrans(EMOJI_WORDS)


def _any_of(characters: Iterable[str]) -> re.Pattern[str]:
    """A search for any of `characters` or any character beyond the Basic Multilingual Plane (a class
    holding those is scanned item by item; the rare text with one is simply translated)."""
    basic = "".join(re.escape(char) for char in characters if ord(char) <= 0xFFFF)
    return re.compile(f"[{basic}\U00010000-\U0010ffff]")


@lru_cache(maxsize=1)
def _traditional_characters() -> re.Pattern[str]:
    """Where the Traditional → Simplified table may change something."""
    return _any_of(map(chr, _traditional_to_simplified()))


_EMOJI_CHARACTERS = _any_of(EMOJI_WORDS)


@lru_cache(maxsize=64)  # one check reads the same text several times (rules, disclosure, model)
def normalise(text: str) -> str:
    """Full-width → half-width (NFKC), Traditional → Simplified, lower case, word emoji → words."""
    folded = unicodedata.normalize("NFKC", text).lower()
    # A table translation costs ~0.1 µs a character; a scan for the characters it would change, a
    # hundredth of that, and most messages have none.
    if _traditional_characters().search(folded):
        folded = folded.translate(_traditional_to_simplified())
    if _EMOJI_CHARACTERS.search(folded):
        folded = folded.translate(_EMOJI_TABLE)
    return folded


def compact(text: str) -> str:
    """The normalised text with every space, mark, symbol and invisible character removed."""
    return NOT_A_WORD_CHARACTER.sub("", normalise(text))


@lru_cache(maxsize=8192)
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
        砍刀 炸弹 躲到哪 躲不掉 躲得了初一 天涯海角 跑不了 找到你 找上门 打爆你 打爆 轰炸你 电话轰炸 呼死你
        别怪我们 别怪我不客气 有你好受 吃不了兜着走 你会后悔 别逼我 有的是办法 小心你家 你家门口 你家楼下
        你楼下 看看身后 等着收尸 付出代价 社死 可不好说
        可不敢保证 门儿清 一清二楚 挂到网上 守着你 见一次打一次
        hkzs hgzf 小心你条命 好果子 电话伺候 电话轰炸 瞓街 待不下去 玻璃就碎 不长眼
        """
    ),
    "INSULT": _words(
        """
        傻逼 傻b 傻x 傻叉 傻比 煞笔 沙比 傻子 傻瓜 白痴 弱智 智障 脑残 蠢货 蠢猪 废物 垃圾人 你是垃圾
        人渣 贱人
        贱货 下贱 婊子 杂种 畜生 畜牲 王八蛋 混蛋 狗东西 狗娘 你妈的 他妈的 去你妈 操你 草你 滚蛋
        给我滚 老赖 赖皮 无赖 不要脸 穷鬼 穷逼 死皮赖脸 没脸没皮 废柴 猪脑
        扑街 仆街 死蠢 冚家铲 食屎 顶你个肺 柒头 衰人 衰仔 low货 mdzz 脸皮厚 脸皮比 没一个好东西 算什么东西
        狼心狗肺 厚颜无耻 猪狗不如 丧尽天良 寡廉鲜耻 下三滥 瘪三 孬种 龟孙 狗日 草泥马 尼玛 卧槽 龟儿子
        丢你老母 恶心的东西 下流胚子 软蛋 渣滓 垃圾东西 没出息 狗杂种 你个狗
        玩意儿 败家子 败家玩意 活该穷 蛀虫 臭虫 寄生虫
        你这个狗 你是猪 你个猪 你这头猪 老鼠辈 鼠辈 人模狗样
        小丑 你妈死 全家都是 一家子都是
        """
    ),
    "FALSE_AUTHORITY": _words(
        """
        警察 公安 警方 民警 刑警 经侦 派出所 检察院 检察官 法官 法院 律师 律所 政府 司法局 司法机关
        执行局 传票 通缉 逮捕令 拘捕令 案件 案底 立案 银保监 监管局
        居委会 街道办 村委会 网格员 金融办 执行庭 立案庭 执行法官 承办人 起诉书 被告 律师函 法务部 仲裁裁决
        诉前调解 强制执行 民初 司法程序 诉讼程序 司法所 检察 司法催收 公证处 公证书 缺席判决 调解中心
        司法鉴定
        """
    ),
    "FALSE_CONSEQUENCE": _words(
        """
        坐牢 蹲监狱 进监狱 监狱 牢饭 判刑 刑事 刑拘 拘留 逮捕 抓你 抓人 抓起来 抓走 被抓 犯罪 诈骗罪
        坐监 通讯录 群发 曝光 挂网 影响子女 影响孩子 政审 考公 株连
        连累 冻结 查封 扣押 没收 拍卖 黑名单 黑户 失信名单 限制出行 限高 限制高消费 坐高铁 坐飞机
        永久影响 终身 开除 丢工作
        外访 上门核实 上门走访 上门催收 上门调查 上门了解 上门带走 实地核查
        实地走访 已经出发 已在路上 已经在路上 在去你 邻居 全小区 小区门口
        全村 村口 家族群 公司群 全员群 人事部 公司人事 你们人事 txl
        tx录 恶意透支 恶意逃债 立案标准 涉嫌 进去的 要进去 被封 户口注销 注销户口
        买不了 贴告示 贴你 社保会 停掉社保 限制出境 直接上门 派人去 去你单位 去你公司 到你单位 到你公司
        去你家 到你家 你父母家 你爸妈家 你老家 拘你 差佬
        """
    ),
}
HOMOPHONE_PHRASES: frozenset[str] = frozenset(
    _words(
        """
        人渣 传票 傻逼 全家死 公安 判刑 坐牢 弄死 律师 曝光 杀了你 杀你 检察院 死全家 法官 法院
        派出所 王八蛋 砍死 老赖 脑残 通讯录 黑名单 找上门 上门催收
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
        r"联合了?(?:当地|你们|您)?的?(?:街道|社区|政府|派出所|公安|居委会|村委)",
    ),
    "FALSE_CONSEQUENCE": (
        r"(?:通知|告诉|告知|联系|找|打给|打电话给|上门找)(?:你|您)?的?(?:所有|全部|每个|每一个|每位)?的?(?:家人|父母|亲戚|亲友|朋友|同事|领导|单位|公司|老板|配偶|老婆|老公|子女|孩子|学校|紧急联系人|通讯录)",
        r"(?:你|您)的?(?:单位|公司)(?:领导|老板|同事)",
        r"(?:就|马上|立刻|立即|直接|随时|准备|安排人|派人|亲自|今天|明天|今晚)上门",
        r"上门(?:找你|找您|拜访|要钱|收钱|讨债|要债|核查|坐坐|聊聊)",
        r"征信(?:\w{0,4})(?:永久|一辈子|终身)",
        r"(?<![穷苦])一辈子",  # 活该穷一辈子 is an insult, not a consequence
        # the children's schooling as a consequence (孩子上学要花钱 is no threat)
        r"(?:孩子|子女|小孩|儿子|女儿)\w{0,3}(?:上学|入学|读书|升学)\w{0,3}(?:受|被|会)?(?:影响|受限|困难|麻烦|不了|不成|成问题)",
        r"影响(?:你|您)的?(?:孩子|子女|小孩|儿子|女儿)",
        # exposure in the borrower's groups and feeds
        r"(?:发|贴|曝光|公布|挂)(?:到|在)?\w{0,6}(?:钉钉群|工作群|同学群|业主群|朋友圈|微信群|家长群)",
        r"(?:钉钉群|工作群|同学群|业主群|家长群)\w{0,4}(?:我们)?(?:也)?(?:能|会|已经|已)?进",
        r"(?:孩子|子女|小孩|儿子|女儿)\w{0,3}(?:上不了|进不了|读不了)",
    ),
    "INSULT": (r"你\w{0,3}骗子", r"大骗子", r"你滚", r"(?<![0-9号月])日你", r"(?<![a-z])on9"),
    "THREAT": (
        r"知道你\w{0,4}(?:孩子|儿子|女儿|小孩|住|家|学校|公司|单位)",
        r"(?:孩子|儿子|女儿)\w{0,2}在\w{0,6}(?:学校|小学|中学|班|年级)",
        r"学校门口",
        r"每天\w{0,4}[0-9百千几]+个电话",
        r"(?:手机|电话)\w{0,8}(?:响个不停|响不停|响到爆|打到(?:关机|没电)|别想(?:安静|消停))",
    ),
}
# English, matched on the normalised text with its spaces (word boundaries).
ENGLISH: dict[str, str] = {
    "THREAT": r"know where you (?:live|are)|can'?t hide|we(?:'ll| will) find you|watch your back|"
    r"you(?:'ll| will) regret|(?:something|bad things?) (?:bad )?(?:might|will|could|may) happen|"
    r"flood your phone|where your (?:kids|children|son|daughter)|kill you|beat you|hurt you|"
    r"break your legs?|or else",
    "INSULT": r"idiot|stupid|moron|loser|scumbag|deadbeat|bitch|asshole|bastard|piece of shit|fuck|"
    r"shameless|worthless|dumb|disgrace|pathetic|trash|garbage|useless|scum",
    "FALSE_AUTHORITY": r"police|officer|courts?\b|warrant|attorney|lawyer|judge|legal notice|"
    r"filed a (?:case|lawsuit)|prosecutor|government",
    "FALSE_CONSEQUENCE": r"arrest|jail|prison|criminal|(?:be|get) (?:frozen|seized)|blacklist|"
    r"(?:tell|inform|notify|call|contact|email|text|message|visit|expose \w+ to) (?:all )?(?:your|the) "
    r"(?:employer|boss|colleagues?|coworkers?|family|parents|friends|contacts|neighbou?rs|phone ?book)|"
    r"(?:your|the) (?:employer|boss|colleagues?|coworkers?|family|parents|friends|contacts|neighbou?rs)"
    r"(?: and \w+)? (?:will|would|are going to|gonna|shall|is going to) "
    r"(?:know|be|hear|get|find|receive|learn)|"
    r"everyone in your (?:phone|contacts?)|"
    r"(?:letter|notice|message|email|text)s? to (?:all |everyone (?:in|at) )?your (?:whole |entire )?"
    r"(?:company|employer|office|workplace|hr|school|village|neighbou?rs|family|parents)",
}
# Lawful wording that mentions a court: exempt only when the match lies inside one of these.
SAFE_PHRASES: tuple[str, ...] = (
    # the contract's rule for the emergency contact, stated as such
    r"(?:无法|联系不上|联系不到)\w{0,8}(?:时|的情况下)\w{0,4}(?:会|将|可能)?(?:联系|致电)\w{0,4}紧急联系人",
    r"(?:额度|账户额度|借款额度)(?:将|会|可能)?(?:被|暂时)?冻结",
    r"(?:可能|将可能|或将|有权|保留|可以|均可|可)(?:依法)?(?:向(?:有管辖权的)?(?:人民)?法院)?(?:依法)?(?:提起|提出)(?:民事)?诉讼",
    r"(?:可能|将可能|或将|有权)(?:依法)?(?:向(?:有管辖权的)?(?:人民)?法院)?(?:申请|提起)",
    r"(?:可能|将可能|或将|有权|保留|可以|可)(?:依法)?(?:向(?:有管辖权的)?(?:人民)?法院)?(?:依法)?(?:起诉|申请)",
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
    # The first syllable of each key of `sounds`: the only tokens worth building n-grams from.
    sound_starts: frozenset[str]


def _alternation(parts: Iterable[str]) -> re.Pattern[str]:
    return compile_prefiltered("|".join(sorted(parts, key=len, reverse=True)))


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
    starts = frozenset(s.split()[0] for s in sounds)
    safe = _alternation(SAFE_PHRASES)
    return _Matchers(literal, sounds, spelled_words, spelled_inside, safe, longest, starts)


def _inside(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(start <= span[0] and span[1] <= end for start, end in spans)


def _without(compacted: str, spans: list[tuple[int, int]]) -> str:
    """The text with each span replaced by one space (overlapping spans merged)."""
    kept: list[str] = []
    position = 0
    for start, end in sorted(spans):
        if end <= position:
            continue
        kept.append(compacted[position : max(start, position)])
        kept.append(" ")
        position = end
    kept.append(compacted[position:])
    return "".join(kept)


def _sound_hits(reading: str, matchers: _Matchers, *, english: bool = False) -> Iterator[tuple[str, str]]:
    """Homophones, whole Latin runs spelling a phrase, and long pinyin spellings inside a Latin run
    (not inside a compacted English sentence, where any letters line up by chance)."""
    tokens = reading.split()
    for index, token in enumerate(tokens):
        # A token is a syllable (upper case) or a Latin run (lower case); the spellings are lower case.
        if token in matchers.sound_starts:
            for size in range(2, matchers.longest_sound + 1):
                key = " ".join(tokens[index : index + size])
                if key in matchers.sounds:
                    yield matchers.sounds[key], key.lower()
        elif token.islower():
            if token in matchers.spelled_words:
                yield matchers.spelled_words[token], token
            if len(token) >= 5 and not (english and len(token) > 15):
                for code, pattern in matchers.spelled_inside.items():
                    found = pattern.search(token)
                    if found:
                        yield code, found.group()


def _mixed_readings(compacted: str) -> Iterator[tuple[str, int, int]]:
    """A Latin run written into Chinese (hou果自负, 后果zifu, dai款) with up to four Chinese
    characters either side, all in lower-case pinyin; with the run's span in that reading."""
    for run in _LATIN_RUN.finditer(compacted):
        before = compacted[max(0, run.start() - 4) : run.start()]
        after = compacted[run.end() : run.end() + 4]
        if not (before or after):
            continue
        spell = "".join((_syllable(c) or "") if not c.isascii() else c for c in before)
        tail = "".join((_syllable(c) or "") if not c.isascii() else c for c in after)
        yield spell + run.group() + tail, len(spell), len(spell) + len(run.group())


def _mixed_hit(pattern: re.Pattern[str], readings: Iterable[tuple[str, int, int]]) -> str | None:
    """The first match of `pattern` in a mixed reading that overlaps the Latin run itself."""
    for reading, start, end in readings:
        for found in pattern.finditer(reading):
            if found.start() < end and start < found.end():
                return found.group()
    return None


# A phrase that compaction can forge from two words (下去，死皮赖脸 → 去死) is skipped after these.
# A phrase inside another word: 下去死 …, and 没收 in 还没收到 (not yet received).
_COLLISIONS: dict[str, re.Pattern[str]] = {
    "去死": re.compile(r"[下上出进回过失]$"),
    "没收": re.compile(r"(?:还|都|也|并|仍|尚|一直|从来|我|你|您|他|她|们)$"),
    "冻结": re.compile(r"已(?:经)?被(?:银行|发卡行)$"),  # a fact about the bank, not a threat
}
_ENGLISH_WORDS = compile_prefiltered(
    r"\b(?:the|you|your|will|to|of|and|is|are|we|for|on|in|be|this|that|with|our|please)\b"
)


_LATIN_RUN = re.compile(r"[a-z]+")


def _phrase_hits(
    text: str, compacted: str | None = None, suppressed: set[str] | None = None
) -> Iterator[tuple[str, str]]:
    """(code, evidence) for each phrase found outside a negation or an exempt sentence; the codes
    of phrases found inside one (and of exempt sentences) are added to `suppressed`."""
    suppressed = set() if suppressed is None else suppressed
    matchers = _matchers()
    normalised = normalise(text)
    compacted = NOT_A_WORD_CHARACTER.sub("", normalised) if compacted is None else compacted
    scope = scope_of(normalised, compacted)
    safe = [m.span() for m in matchers.safe.finditer(compacted)]
    blanked = list(safe)
    literal_codes = set()
    for code, pattern in matchers.literal.items():
        for match in pattern.finditer(compacted):
            if _inside(match.span(), safe):
                continue
            collision = _COLLISIONS.get(match.group())
            if collision and collision.search(compacted, 0, match.start()):
                blanked.append(match.span())
                continue
            if is_exempt(code, match.span(), scope) or (
                code != "INSULT" and negated(compacted, match.start(), scope, match.end())
            ):
                blanked.append(match.span())
                suppressed.add(code)
                continue
            literal_codes.add(code)
            yield code, match.group()
    for start, end, codes in scope.exempt:
        blanked.append((start, end))
        suppressed.update(codes)
    blanked.sort()
    english = len(_ENGLISH_WORDS.findall(normalised)) >= 2
    remaining = _without(compacted, blanked)
    for code, found in _sound_hits(pinyin_reading(remaining), matchers, english=english):
        if code not in literal_codes:
            literal_codes.add(code)
            yield code, found
    readings = list(_mixed_readings(remaining)) if _LATIN_RUN.search(remaining) else []
    if readings:
        for code, pattern in matchers.spelled_inside.items():
            mixed = None if code in literal_codes else _mixed_hit(pattern, readings)
            if mixed:
                literal_codes.add(code)
                yield code, mixed
    yield from _english_hits(normalised)


def _english_hits(normalised: str) -> Iterator[tuple[str, str]]:
    if not _LATIN_RUN.search(normalised):
        return
    if not any(pattern.search(normalised) for pattern in _english_patterns().values()):
        return
    for sentence in SENTENCE_END.split(normalised):
        if not _LATIN_RUN.search(sentence):
            continue
        exempt = sentence_exemptions(sentence)
        for code, pattern in _english_patterns().items():
            if code in exempt:
                continue
            for match in pattern.finditer(sentence):
                before = sentence[max(0, match.start() - 40) : match.start()]
                if code != "INSULT" and ENGLISH_NEGATION.search(before):
                    continue
                yield code, match.group()
                break


@lru_cache(maxsize=1)
def _english_patterns() -> dict[str, re.Pattern[str]]:
    return {code: compile_prefiltered(rf"\b(?:{pattern})") for code, pattern in ENGLISH.items()}


# --- personal data ------------------------------------------------------------------------------

_SPACE_OR_DASH = re.compile(r"[\s\-]")
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


def _arabic_digits(text: str) -> str:
    """Chinese digits written as Arabic ones (the translation only when there is one to make)."""
    return text.translate(_CHINESE_DIGITS) if _CHINESE_DIGIT.search(text) else text


def _privacy_hits(text: str, compacted: str) -> Iterator[str]:
    digits = _arabic_digits(compacted)
    if sum(map(digits.count, "0123456789")) < 11:
        return
    loose = _arabic_digits(normalise(text))
    candidates = {m.group() for m in _DIGIT_RUN.finditer(digits)}
    candidates |= {_SPACE_OR_DASH.sub("", m.group()) for m in _LOOSE_DIGIT_RUN.finditer(loose)}
    for run in sorted(candidates):
        if _personal_number(run):
            yield mask_number(run)


# --- the checks -----------------------------------------------------------------------------------


def text_violations(text: str, *, learned: bool = True) -> list[Violation]:
    """The text-only checks (THREAT, INSULT, FALSE_AUTHORITY, FALSE_CONSEQUENCE, PRIVACY).

    One violation per code. The phrase rules come first (evidence: the offending phrases,
    normalised, or the masked number); then the learned model (`guard_model`, unless `learned`
    is False) may add a code the rules did not name, quoting the n-grams that carried it. Used by
    the quality room's BANNED_LANGUAGE and PRIVACY rubric items.
    """
    return _text_violations(text, _model_verdicts(text, third_party=False) if learned else None)


def text_violations_of_many(texts: Sequence[str], *, learned: bool = True) -> list[list[Violation]]:
    """`text_violations` of each text, the learned layer scoring all of them at once (QA's batches)."""
    if not learned:
        return [_text_violations(text, None) for text in texts]
    from lenddesk.collections import guard_model

    verdicts = guard_model.current().verdicts_of_many(texts, third_party=False)
    return [_text_violations(text, found) for text, found in zip(texts, verdicts, strict=True)]


def _text_violations(text: str, model_verdicts: list[ModelVerdict] | None) -> list[Violation]:
    """The rules' violations of `text`, and the learned layer's `model_verdicts` (None: rules alone)."""
    compacted = compact(text)
    evidence: dict[str, list[str]] = {}
    suppressed: set[str] = set()
    for code, found in _phrase_hits(text, compacted, suppressed):
        evidence.setdefault(code, [])
        if found not in evidence[code]:
            evidence[code].append(found)
    for masked in _privacy_hits(text, compacted):
        evidence.setdefault("PRIVACY", []).append(masked)
    found = {code: violation(code, "、".join(evidence[code][:5])) for code in evidence}
    if model_verdicts is not None:
        # A code whose words the rules found negated or in a factual sentence stays with the rules.
        # A verdict no n-gram carried (a reply as short as 是的) is the model's prior, not evidence.
        for verdict in model_verdicts:
            if verdict.code not in suppressed and verdict.evidence:
                found.setdefault(verdict.code, violation(verdict.code, _model_evidence(verdict)))
    return [found[code] for code in TEXT_CODES if code in found]


def _model_verdicts(text: str, *, third_party: bool) -> list[ModelVerdict]:
    from lenddesk.collections import guard_model

    return guard_model.current().verdicts(text, third_party=third_party)


def _model_evidence(verdict: ModelVerdict) -> str:
    quoted = "、".join(f"「{gram}」" for gram in verdict.evidence) or "—"
    return f"模型判定 {verdict.probability:.2f}：{quoted}"


# What a third party may not hear: the debt, money, lateness, loans or the collection role.
_DISCLOSURE = compile_prefiltered(
    r"欠|债|贷|逾期|到期|还款|还钱|还清|催收|催缴|催款|催账|收账|账款|款项|透支|信用卡|资产管理|委托处理|借款|借钱|借了|借的|合同|账单|分期|利息|罚息|滞纳金|"
    r"本金|征信|金额|额度|[0-9]+(?:\.[0-9]+)?(?:元|块|万|rmb|yuan)|¥|人民币|ht[0-9]{6,}"
)
_DISCLOSURE_SPELLED = re.compile(r"qian ?kuan|yu ?qi|dai ?kuan|huan ?kuan|cui ?shou|jie ?kuan|zheng ?xin")
# Pinyin initials for the same words, as whole Latin runs: dk 贷款, yq 逾期, qk 欠款, zx 征信, hk 还款.
_DISCLOSURE_INITIALS = frozenset({"dk", "yq", "qk", "zx", "hk", "jk", "cs"})
_DISCLOSURE_ENGLISH = compile_prefiltered(
    r"\b(?:loans?|debts?|owes?|owed|owing|overdue|repay\w*|payments?|collections?|collector|arrears|"
    r"instal+ments?|credit|borrow\w*|late fees?|outstanding|bill)\b"
)


def third_party_violation(text: str, *, learned: bool = True) -> Violation | None:
    """A third party may be asked to pass on a call-back request or to update contact details.

    The word rules first; then the learned model for disclosures without a listed word."""
    found = _third_party_rule(text)
    if found is None and learned:
        for verdict in _model_verdicts(text, third_party=True):
            if verdict.code == "THIRD_PARTY_DISCLOSURE":
                return violation(verdict.code, _model_evidence(verdict))
    return found


def _third_party_rule(text: str) -> Violation | None:
    normalised = normalise(text)
    compacted = NOT_A_WORD_CHARACTER.sub("", normalised)
    found = _DISCLOSURE.search(compacted)
    if found:
        return violation("THIRD_PARTY_DISCLOSURE", found.group())
    latin = re.findall(r"[a-z]+", normalised)
    if not latin:
        return None
    initials = next((word for word in latin if word in _DISCLOSURE_INITIALS), None)
    if initials:
        return violation("THIRD_PARTY_DISCLOSURE", initials)
    english = _DISCLOSURE_ENGLISH.search(normalised)
    if english:
        return violation("THIRD_PARTY_DISCLOSURE", english.group())
    spelled = _DISCLOSURE_SPELLED.search(" ".join(latin))
    if spelled:
        return violation("THIRD_PARTY_DISCLOSURE", spelled.group())
    mixed = _mixed_hit(_DISCLOSURE_SPELLED, _mixed_readings(compacted))
    return violation("THIRD_PARTY_DISCLOSURE", mixed) if mixed else None


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


def check_contact(
    text: str, situation: ContactSituation, rules: ContactRules | None = None, *, learned: bool = True
) -> Verdict:
    """Allowed, or every violation found (situation first, then the text). `learned=False` runs
    the phrase rules alone (the evaluation's rules-only column)."""
    if situation.channel not in CHANNELS:
        raise ValueError(f"unknown channel {situation.channel!r}; channels are {', '.join(CHANNELS)}")
    found = situation_violations(situation, rules or ContactRules())
    if situation.recipient == "third_party":
        disclosure = third_party_violation(text, learned=learned)
        if disclosure is not None:
            found.append(disclosure)
    found.extend(text_violations(text, learned=learned))
    order = {code: index for index, code in enumerate(VIOLATION_CODES)}
    found.sort(key=lambda v: order[v.code])
    return Verdict(allowed=not found, violations=tuple(found))
