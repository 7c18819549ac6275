"""What account data looks like in text a borrower will read, found by its structure. Pure.

Before a contact is verified, nothing sent to them may carry account data in any form: amounts
(with any currency word or symbol, or none when the sentence is about paying or owing), dates,
contract numbers of any shape, and the tails of cards and ID numbers. The text is normalised
first, so that full-width digits, Traditional characters, zero-width characters and spaces inside
numbers change nothing: NFKC (full-width → half-width, ￥ → ¥), OpenCC Traditional → Simplified,
then format characters and white space removed and Latin letters lower-cased.

The scan errs on the side of refusing: an agent whose reply is refused is told what was found and
can rephrase it, whereas an account figure sent to a stranger cannot be taken back.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import opencc

KIND_LABELS = {
    "amount": ("金额", "amount"),
    "date": ("日期", "date"),
    "contract": ("合同编号", "contract number"),
    "tail": ("卡号或证件号尾号", "card or ID number tail"),
    "number": ("账号类长号码", "account-like long number"),
}


@dataclass(frozen=True)
class Finding:
    kind: str  # a key of KIND_LABELS
    text: str  # the normalised snippet that matched


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def traditional_marks() -> frozenset[str]:
    """Every character whose presence can make OpenCC's t2s change a text.

    A dictionary key changes a text only through a character that differs from its value, so a text
    with none of these characters converts to itself, and the pure-Python converter can be skipped
    (it costs about 0.3 ms per sentence, more than the whole rubric otherwise).
    """
    converter = _t2s()
    converter.convert("測")  # loads the dictionaries
    marks: set[str] = set()
    for group in converter._dict_chain_data:
        for _longest, _shortest, mapping in group:
            for key, value in mapping.items():
                target = value.split(" ")[0]
                if key == target:
                    continue
                if len(key) == len(target):
                    marks.update(a for a, b in zip(key, target, strict=True) if a != b)
                else:
                    marks.update(key)
    return frozenset(marks)


def to_simplified(text: str) -> str:
    """OpenCC t2s, skipped when no character of the text can change."""
    if text.isascii() or traditional_marks().isdisjoint(text):
        return text
    return _t2s().convert(text)


def normalise(text: str) -> str:
    """NFKC, Traditional → Simplified, no format characters or white space, Latin lower-cased."""
    text = to_simplified(unicodedata.normalize("NFKC", text))
    kept = (ch for ch in text if not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc"))
    return "".join(kept).lower()


def compact(value: str) -> str:
    """A contract number without case, spaces or separators, to compare shapes that differ only so."""
    return re.sub(r"[\W_]", "", normalise(value))


# --- the pieces -----------------------------------------------------------------------------------

# Patterns that open with a run of digits or numerals start only where the run starts: the scan stays
# linear in the text's length (a reply may be 5,000 digits long).
_ARABIC = r"(?<!\d)(?<!\d,)\d(?:[\d,]*\d)?(?:\.\d+)?"
_CN = "零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟"
# A Chinese numeral that is a sum: two characters or more, or one that starts no word (金额一致 is no
# sum). A lone 一 or 两 before 块 is as often "together" or "this part" (一块去, 这一块) as money.
_CN_SUM = f"(?:[{_CN}]{{2,}}|[{_CN}](?=[元圆块万千百]|[^\u4e00-\u9fff]|$))"
_CN_BEFORE_KUAI = f"(?<![{_CN}])(?:[{_CN}]{{2,}}|[{_CN.replace('一', '').replace('两', '')}])"
_CURRENCY_BEFORE = r"(?:¥|\$|rmb|cny|人民币|usd)"
# Words that make the number after them a sum owed or paid. A bare 还 is too common (还有, 还是) to
# count unless a number follows it at once, and then not when a unit of time or count follows.
_MONEY_WORDS = (
    r"(?:应还|要还|需还|待还|已还|未还|还款|还清|还钱|欠款|欠费|欠|逾期|金额|余额|本金|利息|罚息|"
    r"滞纳金|违约金|费用|手续费|结清|共计|合计|总计|总额|额度|扣款|月供)"
)
_FILLER = r"[:为是约共计了额款还有]{0,4}"
_NOT_MONEY_UNIT = r"(?:个|次|天|日|位|条|件|分钟|小时|工作日|周|月|年|期|号|%|点)"
_CN_DAY = "[一二三四五六七八九十]{1,3}"
_WEEKDAY = "[一二三四五六日天]"
_DUE_WORDS = r"(?:前|之前|以前|到期|截止|还款|扣款|逾期)"

_AMOUNT_PATTERNS = (
    re.compile(f"{_CURRENCY_BEFORE}(?:{_ARABIC}|[{_CN}]+)"),
    re.compile(f"(?:{_ARABIC}|(?<![{_CN}])[{_CN}]+)万?(?:元|圆|rmb|cny|人民币)"),
    re.compile(f"{_ARABIC}万?(?:块|毛|角)"),
    re.compile(f"{_CN_BEFORE_KUAI}万?块|[一两]块钱"),
    re.compile(f"{_MONEY_WORDS}(?:{_FILLER}(?:{_ARABIC}|{_CN_SUM})|[:为是]+[{_CN}])"),  # 余额为零
    re.compile(f"还{_ARABIC}(?!\\d|{_NOT_MONEY_UNIT})"),
    re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?:\.\d+)?"),  # 3,200 or 1,234.56
    re.compile(r"(?<![\d.])\d+\.\d{2}(?![\d.])"),  # 1050.00: money's two decimals
    re.compile(r"(?<![\d.])\d+(?:\.\d+)?万"),
)
_DATE_PATTERNS = (
    re.compile(r"(?<![\d.])(?:19|20)\d{2}[-/.年](?:1[0-2]|0?[1-9])(?:[-/.月]\d{1,2}[日号]?)?"),
    re.compile(r"(?<!\d)\d{1,2}月(?:\d{1,2}[日号]?|" + _CN_DAY + r"[日号]?)?"),
    re.compile(f"(?<![{_CN}]){_CN_DAY}月(?:{_CN_DAY}|\\d{{1,2}})?[日号]?"),
    re.compile(r"(?<![\d.])(?:[12]\d|3[01]|0?[1-9])[日号](?!内|之内|以内)"),
    re.compile(f"(?<![{_CN}])初?{_CN_DAY}[日号](?!内|之内|以内)"),
    re.compile(r"(?<![\d/])(?:1[0-2]|0?[1-9])/(?:[12]\d|3[01]|0?[1-9])(?![\d/])"),
    re.compile(f"(?:下个|这个|下|本|这|上)(?:周|星期|礼拜){_WEEKDAY}"),
    re.compile(f"(?:周|星期|礼拜){_WEEKDAY}{_DUE_WORDS}"),
    re.compile(f"(?:今天|明天|后天|大后天|今日|明日|本月|下月|下个月|月底|月初|月末|月中|年底){_DUE_WORDS}"),
    re.compile(r"(?:上旬|中旬|下旬)"),
)
# Letters and digits mixed, six characters or more, dashes allowed inside: HT20260105001, LN-2026-00123.
_CONTRACT_SHAPE = re.compile(
    r"(?<![a-z0-9-])(?=[a-z0-9-]*\d)(?=[a-z0-9-]*[a-z])[a-z0-9][a-z0-9-]{4,}[a-z0-9]"
)
_LONG_NUMBER = re.compile(r"(?<![\d.-])\d[\d-]{5,}\d(?![\d.])")
_TAIL_PATTERNS = (
    re.compile(
        r"(?:尾号|末尾|末[三四五六]位|后[三四五六346]位|最后[三四五六346]位|结尾)[:是为]{0,2}[\dxX]{2,6}"
    ),
    re.compile(r"(?<![*x×])[*x×]{2,}\d{2,6}"),
    re.compile(r"(?<![\d*])\d{2,6}[*×]{2,}"),
)
_TICKET_NUMBER = re.compile(r"t\d{8}-\d{6}")


def _shapes(text: str) -> Iterable[tuple[int, int, str]]:
    """(start, end, kind) of every match, overlapping ones included."""
    for kind, patterns in (("amount", _AMOUNT_PATTERNS), ("date", _DATE_PATTERNS), ("tail", _TAIL_PATTERNS)):
        for pattern in patterns:
            yield from ((match.start(), match.end(), kind) for match in pattern.finditer(text))
    yield from ((match.start(), match.end(), "contract") for match in _CONTRACT_SHAPE.finditer(text))
    for match in _LONG_NUMBER.finditer(text):
        if sum(ch.isdigit() for ch in match.group()) >= 7:
            yield match.start(), match.end(), "number"


def _outermost(spans: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping matches merged into one (of the first one's kind), in reading order."""
    kept: list[tuple[int, int, str]] = []
    for start, end, kind in sorted(spans, key=lambda span: (span[0], -span[1])):
        if kept and start < kept[-1][1]:
            first_start, first_end, first_kind = kept[-1]
            kept[-1] = (first_start, max(first_end, end), first_kind)
        else:
            kept.append((start, end, kind))
    return kept


def find_account_data(
    text: str, *, contract_numbers: Iterable[str] = (), public: Iterable[str] = ()
) -> list[Finding]:
    """Every piece of account data in `text` (the outermost match where matches overlap).

    `contract_numbers` are the borrower's real ones (from the ledger), found whatever their shape and
    however they are spaced or cased. `public` strings (the hotline, the ticket number) are not
    account data and are taken out before the scan; so are ticket numbers of the desk's own shape.
    """
    return find_in_normalised(normalise(text), contract_numbers=contract_numbers, public=public)


def find_in_normalised(
    scanned: str, *, contract_numbers: Iterable[str] = (), public: Iterable[str] = ()
) -> list[Finding]:
    """`find_account_data` of a text already normalised (`normalise`): QA has every sentence
    normalised once for all its checks, and normalising again was a tenth of its scan."""
    for value in public:
        if normalised := normalise(value):
            scanned = scanned.replace(normalised, "　")  # NFKC never yields U+3000, so it joins nothing
    scanned = _TICKET_NUMBER.sub("　", scanned)
    findings = [Finding(kind, scanned[start:end]) for start, end, kind in _outermost(_shapes(scanned))]
    squeezed = re.sub(r"[\W_]", "", scanned)
    findings += [
        Finding("contract", number)
        for number in sorted({compact(n) for n in contract_numbers})
        if len(number) >= 3 and number in squeezed
    ]
    return list(dict.fromkeys(findings))


def describe(findings: Iterable[Finding]) -> tuple[str, str]:
    """What was found, in Chinese and in English, e.g. ("金额「3,200.00」", "amount '3,200.00'")."""
    found = list(findings)
    zh = "、".join(f"{KIND_LABELS[f.kind][0]}「{f.text}」" for f in found)
    en = ", ".join(f"{KIND_LABELS[f.kind][1]} '{f.text}'" for f in found)
    return zh, en
