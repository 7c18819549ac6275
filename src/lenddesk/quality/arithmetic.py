"""Figures an agent quotes that can be checked from the conversation alone. Pure.

Without the ledger, an amount can still be judged when the conversation holds what it follows
from: instalments and their total (4 期 × 1,500 元 is not 6,500 元), named parts and their sum
(本金 5,000 + 利息 300 + 罚息 50 is not 5,400), and the level payment (等额本息) of a principal, an
annual rate and a number of months. Text is normalised (NFKC, Simplified, no spaces, lower case).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_NUMBER = r"(\d[\d,]*(?:\.\d+)?)"
_CN_DIGITS = dict(zip("一两二三四五六七八九十", (1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10), strict=True))
_CN_COUNT = "(十二|二十四|三十六|十八|[一二两三四五六七八九十])"
_YUAN = rf"{_NUMBER}(万)?(?:元|块)?"

_INSTALMENTS = re.compile(rf"(?:分|共|剩余?|还有|这)(\d{{1,3}}|{_CN_COUNT})(?:期|个月)")
_BARE_INSTALMENTS = re.compile(r"(?<![第\d.])(\d{1,3})(?:期|个月)(?!内)")
_FILLER = r"(?:应还|要还|需还|还款|本息|本金|还|需|为|是|约|:|大概|大约)"
_EACH = re.compile(rf"(?:每期|每月|月供|每个月){_FILLER}{{0,3}}{_YUAN}")
_TOTAL = re.compile(
    rf"(?:合计|共计|总计|共还|一共|总共|总额|总还款|累计){_FILLER}{{0,3}}{_YUAN}|共{_FILLER}{{0,2}}{_NUMBER}(万)?(?:元|块)"
)
_REMAINING = re.compile(rf"(?:剩余|剩下|余下|免息)(?:本金|欠款|金额|的)?(?:为|是)?{_YUAN}[,，]?分")
_PART = re.compile(
    rf"(本金|利息|罚息|滞纳金|违约金|手续费|服务费|担保费|逾期费|复利)(?:为|是|:|共|约|有|还有){{0,2}}{_YUAN}"
)
_PRINCIPAL = re.compile(rf"(?:借款?|贷款?|借了|本金|额度)(?:金额|为|是|:|了){{0,2}}{_YUAN}")
_ANNUAL_RATE = re.compile(rf"(?:年利率|年化利率|年化|年息|年费率)(?:为|是|:|约){{0,2}}{_NUMBER}%")
_MONTHLY_RATE = re.compile(rf"(?:月利率|月息|月费率)(?:为|是|:|约){{0,2}}{_NUMBER}%")
# A sum written out: 4×1500=6500, 1500乘以4等于6500, 5000+300+50=5400.
_OPERAND = r"(\d[\d,]*(?:\.\d+)?)(?:元|块|期|个月)?"
_PRODUCT = re.compile(
    rf"{_OPERAND}(?:×|x|\*|乘以|乘)(\d[\d,]*(?:\.\d+)?)(?:元|块|期|个月)?(?:=|等于|就是|是|共|一共)(\d[\d,]*(?:\.\d+)?)"
)
_SUM = re.compile(
    r"(\d[\d,]*(?:\.\d+)?(?:元|块)?(?:(?:\+|加上?)\d[\d,]*(?:\.\d+)?(?:元|块)?)+)(?:=|等于|就是|一共|共)(\d[\d,]*(?:\.\d+)?)"
)
_ABOUT = re.compile(r"约|大约|大概|左右|差不多")
_INTEREST_TOTAL = re.compile(rf"(?:总利息|利息共|利息合计|利息总共|共付利息)(?:为|是|:|约){{0,2}}{_YUAN}")
_LEVEL_PAYMENT = re.compile(r"等额本息")
_ANY_DIGIT = re.compile(r"\d")
_ANY_AMOUNT = re.compile(r"\d[\d,]*(?:\.\d+)?(?:万)?(?:元|块)")
# A total that adds interest or fees to the instalments is no product of them.
_PLUS_CHARGES = re.compile(r"(?:加上?|另加|另收|含|包括|外加|再加)(?:利息|手续费|服务费|罚息|违约金|费用)")


@dataclass(frozen=True)
class Check:
    ok: bool
    what: str  # the arithmetic, e.g. "4 × 1500.00 = 6000.00 ≠ 6500.00"


def _amount(number: str, ten_thousand: str | None) -> float:
    value = float(number.replace(",", ""))
    return value * 10_000 if ten_thousand else value


def _count(text: str) -> int:
    if text.isdigit():
        return int(text)
    if len(text) == 1:
        return _CN_DIGITS[text]
    if text.startswith("十"):
        return 10 + _CN_DIGITS[text[1]]
    tens = _CN_DIGITS[text[0]] * 10
    return tens + (_CN_DIGITS[text[2]] if len(text) > 2 else 0)


def _first(pattern: re.Pattern[str], text: str) -> float | None:
    found = pattern.search(text)
    if found is None:
        return None
    # A pattern of alternatives has a (number, 万) pair of groups per alternative: take the one matched.
    groups = found.groups()
    pairs = [groups[i : i + 2] for i in range(0, len(groups), 2)]
    number, ten_thousand = next(pair for pair in pairs if pair[0] is not None)
    return _amount(number, ten_thousand)


def instalments(text: str) -> list[Check]:
    """Instalments × each = the total quoted in the same text (a cent of rounding per instalment)."""
    count = _INSTALMENTS.search(text) or _BARE_INSTALMENTS.search(text)
    each = _first(_EACH, text)
    total = _first(_TOTAL, text) or _first(_REMAINING, text)
    if count is None or each is None or total is None:
        return []
    n = _count(count.group(1))
    if n < 2:
        return []
    product = n * each
    ok = abs(product - total) <= max(1.0, 0.01 * n)
    if not ok and _PLUS_CHARGES.search(text):
        return []  # the total adds interest or fees: not a product of the instalments
    sign = "=" if ok else "≠"
    return [Check(ok, f"{n} × {each:.2f} = {product:.2f} {sign} {total:.2f}")]


def parts_and_sum(text: str) -> list[Check]:
    """Named parts (本金, 利息, 罚息 …) quoted before a total add up to it."""
    total = _TOTAL.search(text)
    if total is None:
        return []
    quoted = _first(_TOTAL, text)
    assert quoted is not None
    parts = {}
    for match in _PART.finditer(text[: total.start()]):
        parts.setdefault(match.group(1), _amount(match.group(2), match.group(3)))
    if len(parts) < 2:
        return []
    added = sum(parts.values())
    ok = abs(added - quoted) <= 0.01 * len(parts)
    if not ok and len(_ANY_AMOUNT.findall(text[: total.start()])) > len(parts):
        return []  # other figures (a fee named otherwise, 即240元) are part of the total too
    sign = "=" if ok else "≠"
    return [Check(ok, f"{' + '.join(f'{v:.2f}' for v in parts.values())} = {added:.2f} {sign} {quoted:.2f}")]


def level_payment(principal: float, annual_rate_percent: float, months: int) -> float:
    monthly = annual_rate_percent / 100 / 12
    if monthly == 0:
        return principal / months
    return principal * monthly / (1 - (1 + monthly) ** -months)


@dataclass(frozen=True)
class _Facts:
    """What the whole conversation says a loan is: read once per conversation."""

    level_payment: bool
    principal: float | None
    annual_rate: float | None  # percent; a monthly rate × 12
    months: int | None


@lru_cache(maxsize=1024)
def _facts(context: str) -> _Facts:
    annual, monthly = _ANNUAL_RATE.search(context), _MONTHLY_RATE.search(context)
    rate = float(annual.group(1)) if annual else (12 * float(monthly.group(1)) if monthly else None)
    count = _INSTALMENTS.search(context) or _BARE_INSTALMENTS.search(context)
    return _Facts(
        level_payment=bool(_LEVEL_PAYMENT.search(context)),
        principal=_first(_PRINCIPAL, context),
        annual_rate=rate,
        months=_count(count.group(1)) if count else None,
    )


def level_payments(context: str, quoted: str) -> list[Check]:
    """A level payment (等额本息) quoted in `quoted`, from the principal, annual rate and months that
    `context` (the whole conversation) gives."""
    each = _first(_EACH, quoted)
    if each is None:
        return []
    facts = _facts(context)
    principal, rate, months = facts.principal, facts.annual_rate, facts.months
    if not facts.level_payment or principal is None or rate is None or not months:
        return []
    due = level_payment(principal, rate, months)
    said = f"等额本息 {principal:.2f} 元、年利率 {rate:g}%、{months} 期：每期 {due:.2f} 元"
    said += f"，报 {each:.2f} 元"
    slack = 0.01 if _ABOUT.search(quoted) else 0.002
    checks = [Check(abs(due - each) <= max(0.5, slack * due), said)]
    interest = _first(_INTEREST_TOTAL, quoted)
    if interest is not None:
        expected = each * months - principal
        ok = abs(expected - interest) <= max(1.0, 0.01 * months)
        checks.append(Check(ok, f"总利息 {expected:.2f} 元，报 {interest:.2f} 元"))
    return checks


_DAILY_RATE = re.compile(
    rf"(?:日利率|日息|日费率|日罚息率?|每日利率|每天利率)(?:为|是|:|约){{0,2}}(?:{_NUMBER}%|万分之([\d.]+|[一二两三四五六七八九十]{{1,3}}))"
)
_DAYS = re.compile(r"(\d{1,4})天")
# The interest quoted, not the first factor of a product written after it (利息是5000×0.05%×30=75元).
_INTEREST = re.compile(
    rf"(?:利息|罚息)(?:共|合计|为|是|:|约|大概|就是|总共|一共|需要|要){{0,3}}(?:[\d,.%×x*]+(?:=|等于))?"
    rf"{_YUAN}(?![\d,.×x*乘%])"
)


def daily_interest(context: str, quoted: str) -> list[Check]:
    """Simple daily interest: principal × daily rate × days = the interest quoted."""
    interest = _first(_INTEREST, quoted)
    if interest is None:
        return []
    rate, days = _DAILY_RATE.search(context), _DAYS.search(context)
    principal = _facts(context).principal
    if rate is None or principal is None or days is None:
        return []
    if rate.group(1):
        daily = float(rate.group(1).replace(",", "")) / 100
    else:
        per_ten_thousand = rate.group(2)
        cn = per_ten_thousand[0] in _CN_DIGITS
        daily = (_count(per_ten_thousand) if cn else float(per_ten_thousand)) / 10_000
    due = principal * daily * int(days.group(1))
    said = (
        f"{principal:.2f} 元 × 日利率 {daily:.4%} × {days.group(1)} 天 = {due:.2f} 元，报 {interest:.2f} 元"
    )
    return [Check(abs(due - interest) <= max(0.01, 0.005 * due), said)]


def _value(text: str) -> float:
    return float(text.replace(",", ""))


def written_sums(text: str) -> list[Check]:
    """Products and sums written out: 4×1500=6500, 5000+300+50=5400."""
    checks = []
    for match in _PRODUCT.finditer(text):
        a, b, said = (_value(g) for g in match.groups())
        ok = abs(a * b - said) <= 0.01 * max(a, b, 1)
        checks.append(Check(ok, f"{a:g} × {b:g} = {a * b:.2f} {'=' if ok else '≠'} {said:g}"))
    for match in _SUM.finditer(text):
        parts = [_value(p) for p in re.findall(r"\d[\d,]*(?:\.\d+)?", match.group(1))]
        said = _value(match.group(2))
        ok = abs(sum(parts) - said) <= 0.01 * len(parts)
        checks.append(
            Check(
                ok, f"{' + '.join(f'{p:g}' for p in parts)} = {sum(parts):.2f} {'=' if ok else '≠'} {said:g}"
            )
        )
    return checks


# N payments of one amount and their total: 两笔各3,200元，共6,400元; 10:02和10:05各扣了2,130元，共4,260元.
_EACH_OF = re.compile(
    r"(?:(?P<count>\d{1,2}|[一两二三四五六七八九十])(?:笔|次|期|个月)|和)[^。；;]{0,14}?各[^。；;\d]{0,4}"
    r"(?P<each>\d[\d,]*(?:\.\d+)?)(?:元|块)[^。；;\d]{0,8}(?:共|合计|一共|总共|总计)[^。；;\d]{0,4}"
    r"(?P<total>\d[\d,]*(?:\.\d+)?)(?:元|块)"
)
# A share of a named amount: 剩余本金12,000元 … 手续费为剩余本金的2%，即240元.
_SHARE = re.compile(
    r"(本金|应还金额|应还|借款金额|借款|金额)(?:(\d[\d,]*(?:\.\d+)?)元)?的(\d+(?:\.\d+)?)%[^。；;\d]{0,8}?"
    r"(?:即|也就是|就是|为|是|共)(\d[\d,]*(?:\.\d+)?)元"
)


def each_of(text: str) -> list[Check]:
    """N payments 各 X 元, 共 Y 元: N × X = Y."""
    checks = []
    for match in _EACH_OF.finditer(text):
        count = _count(match["count"]) if match["count"] else 2
        each, said = _value(match["each"]), _value(match["total"])
        ok = abs(count * each - said) <= 0.01 * count
        checks.append(Check(ok, f"{count} × {each:g} = {count * each:.2f} {'=' if ok else '≠'} {said:g}"))
    return checks


def shares(context: str, quoted: str) -> list[Check]:
    """A percentage of an amount the conversation names (本金12,000元 … 本金的2%，即240元)."""
    checks = []
    for match in _SHARE.finditer(quoted):
        noun, inline, percent, said = (
            match.group(1),
            match.group(2),
            float(match.group(3)),
            _value(match.group(4)),
        )
        base = None if inline else re.search(rf"{noun}(?:为|是|:|有|共)?{_NUMBER}(万)?(?:元|块)", context)
        if inline is None and base is None:
            continue
        whole = _value(inline) if inline else _amount(base.group(1), base.group(2))
        expected = whole * percent / 100
        ok = abs(expected - said) <= max(0.01, 0.005 * expected)
        checks.append(Check(ok, f"{whole:g} × {percent:g}% = {expected:.2f} {'=' if ok else '≠'} {said:g}"))
    return checks


# A rate restated per year: 日利率0.05%（年化18.25%）, 月利率1%即年化12%.
_DAILY_AND_ANNUAL = re.compile(
    r"日(?:利率|息|费率)(?:为|是|:|约)?(\d+(?:\.\d+)?)%[^。；;]{0,16}?年化(?:利率)?(?:为|是|:|约|即|相当于)?(\d+(?:\.\d+)?)%"
)
_MONTHLY_AND_ANNUAL = re.compile(
    r"月(?:利率|息|费率)(?:为|是|:|约)?(\d+(?:\.\d+)?)%[^。；;]{0,16}?年化(?:利率)?(?:为|是|:|约|即|相当于)?(\d+(?:\.\d+)?)%"
)


def annualised(text: str) -> list[Check]:
    """A daily or monthly rate and the annual rate said with it: daily × 360 or 365, monthly × 12."""
    checks = []
    for match in _DAILY_AND_ANNUAL.finditer(text):
        daily, annual = float(match.group(1)), float(match.group(2))
        ok = any(abs(daily * days - annual) <= max(0.1, 0.01 * annual) for days in (360, 365))
        checks.append(Check(ok, f"日利率 {daily:g}% × 365 = {daily * 365:.2f}%，报年化 {annual:g}%"))
    for match in _MONTHLY_AND_ANNUAL.finditer(text):
        monthly, annual = float(match.group(1)), float(match.group(2))
        ok = abs(monthly * 12 - annual) <= max(0.1, 0.01 * annual)
        checks.append(Check(ok, f"月利率 {monthly:g}% × 12 = {monthly * 12:.2f}%，报年化 {annual:g}%"))
    return checks


# The same in an English letter, read with its spaces (lower case).
_MONEY = r"(?:rmb|cny|¥|￥)\s*(\d[\d,]*(?:\.\d+)?)"
_ENGLISH_INSTALMENTS = re.compile(
    rf"{_MONEY}[^.;]{{0,20}}?\b(?:across|over|in|as)\s+(\d{{1,2}})\s+(?:monthly\s+)?(?:instal?l?ments?|payments?)"
    rf"\s+of\s+{_MONEY}"
)
_ENGLISH_PARTS = re.compile(
    rf"{_MONEY},?\s+(?:made up of|consisting of|comprising|which is)\s+"
    rf"(?:the\s+)?principal\s+(?:of\s+)?{_MONEY}\s+(?:and|plus)\s+"
    rf"(?:the\s+)?(?:interest|fees?|late fee|penalty)\s+(?:of\s+)?{_MONEY}"
)


def english(text: str) -> list[Check]:
    """A total and its instalments, or a total and its principal and interest, in English."""
    checks: list[Check] = []
    if "rmb" not in text and "cny" not in text and "¥" not in text and "￥" not in text:
        return checks
    for match in _ENGLISH_INSTALMENTS.finditer(text):
        total, count, each = _value(match.group(1)), int(match.group(2)), _value(match.group(3))
        ok = abs(count * each - total) <= max(1.0, 0.01 * count)
        checks.append(Check(ok, f"{count} × {each:g} = {count * each:.2f} {'=' if ok else '≠'} {total:g}"))
    for match in _ENGLISH_PARTS.finditer(text):
        total, principal, other = (_value(g) for g in match.groups())
        ok = abs(principal + other - total) <= 0.02
        checks.append(
            Check(ok, f"{principal:g} + {other:g} = {principal + other:.2f} {'=' if ok else '≠'} {total:g}")
        )
    return checks


# What is left of a due amount after a payment: 本期应还3000，我先还了1500 … 还差1800元.
_DUE_IN_CONTEXT = re.compile(r"(?:本期|这期|当期)?应还(?:金额)?(?:为|是)?(\d[\d,]*(?:\.\d+)?)")
_PAID_IN_CONTEXT = re.compile(r"(?:已还|先还了?|还了|已经还了?|已付)(\d[\d,]*(?:\.\d+)?)")
_LEFT = re.compile(r"还差(\d[\d,]*(?:\.\d+)?)(?:元|块)")
# A total and its parts after 其中: 待还5320元，其中本金5000元，利息及费用320元.
_TOTAL_THEN_PARTS = re.compile(r"(\d[\d,]*(?:\.\d+)?)(?:元|块)[,，]?其中([^。；;]*)")


def difference(context: str, quoted: str) -> list[Check]:
    """还差 X after a payment: the due amount less what was paid, both said in the conversation."""
    left = _LEFT.search(quoted)
    due, paid = _DUE_IN_CONTEXT.search(context), _PAID_IN_CONTEXT.search(context)
    if left is None or due is None or paid is None:
        return []
    owed, paid_so_far, said = _value(due.group(1)), _value(paid.group(1)), _value(left.group(1))
    ok = abs(owed - paid_so_far - said) <= 0.01
    sign = "=" if ok else "≠"
    return [Check(ok, f"{owed:g} − {paid_so_far:g} = {owed - paid_so_far:.2f} {sign} {said:g}")]


def total_then_parts(text: str) -> list[Check]:
    """A total followed by its parts (其中 …): the parts add up to it."""
    checks = []
    for match in _TOTAL_THEN_PARTS.finditer(text):
        parts = [_value(p) for p in re.findall(r"(\d[\d,]*(?:\.\d+)?)(?:元|块)", match.group(2))]
        if len(parts) < 2:
            continue
        total = _value(match.group(1))
        ok = abs(sum(parts) - total) <= 0.01 * len(parts)
        checks.append(
            Check(
                ok, f"{' + '.join(f'{p:g}' for p in parts)} = {sum(parts):.2f} {'=' if ok else '≠'} {total:g}"
            )
        )
    return checks


def check(context: str, quoted: str) -> list[Check]:
    """Every judgeable figure of `quoted` (an agent's turn), with `context` the whole conversation."""
    if not _ANY_DIGIT.search(quoted):
        return []
    # The newer checks only where their mark is (各, 年化, %): most turns have none of them.
    return [
        *written_sums(quoted),
        *(each_of(quoted) if "各" in quoted else ()),
        *(annualised(quoted) if "年化" in quoted else ()),
        *(shares(context, quoted) if "%" in quoted else ()),
        *(difference(context, quoted) if "还差" in quoted else ()),
        *(total_then_parts(quoted) if "其中" in quoted else ()),
        *instalments(quoted),
        *parts_and_sum(quoted),
        *level_payments(context, quoted),
        *daily_interest(context, quoted),
    ]


# The same figure restated: what this instalment asks (本期应还 …, 存入 …) and the monthly due day
# (每月15日) against a deadline given later (12月20日前还款). A sentence naming other figures (罚息,
# 剩余, 合计 …) or a changed date (宽限, 延期 …) states something else.
_DUE_AMOUNT = re.compile(
    r"(?:应还|需还|要还|存入|还款金额|月供|本期的|这期的)(?:金额)?(?:的|为|是|:)?(\d[\d,]*(?:\.\d{1,2})?)(?:元|块)"
)
_OTHER_FIGURES = re.compile(
    r"罚息|利息|本金|手续费|违约金|滞纳金|剩余|剩下|全部|提前|一共|合计|共计|总|结清|加上|含|每期|分\d+期|最低|至少|逾期"
)
_CHANGED_DATE = re.compile(r"宽限|延期|顺延|节假日|推迟|改到|改为|调整|延后|展期")
_MONTHLY_DAY = re.compile(r"每月(\d{1,2})[日号]")
_RESTATABLE = re.compile(r"应还|需还|要还|存入|还款金额|月供|本期的|这期的|每月\d")
_DEADLINE = re.compile(r"(?<!\d)(\d{1,2})月(\d{1,2})[日号](?:之)?前|还款日(?:为|是)\d{1,2}月(\d{1,2})[日号]")


def restated(turns: list[tuple[int, str]]) -> tuple[int, Check] | None:
    """The first figure an agent restates differently in a later turn (that turn and what differs),
    or None. `turns` are the agent's turns as (turn, normalised text), in order."""
    amounts: dict[float, int] = {}
    monthly: int | None = None
    for turn, text in turns:
        for kind, value in _figures_said(text):
            if kind == "due":
                earlier = next((a for a, t in amounts.items() if a != value and t < turn), None)
                if earlier is not None:
                    return turn, Check(False, f"前后所报应还金额不一致：{earlier:g} ≠ {value:g}")
                amounts.setdefault(value, turn)
            elif kind == "monthly":
                monthly = int(value) if monthly is None else monthly
            elif monthly is not None and int(value) != monthly:
                return turn, Check(False, f"还款日为每月{monthly}日，却要求{int(value)}日前还款")
    return None


@lru_cache(maxsize=4096)
def _figures_said(text: str) -> tuple[tuple[str, float], ...]:
    """A turn's restatable figures in order: ("due", amount), ("monthly", day), ("deadline", day)."""
    if not _RESTATABLE.search(text) and "前" not in text and "还款日" not in text:
        return ()
    said: list[tuple[str, float]] = []
    for sentence in re.split(r"(?<=[。！？!?；;])", text):
        if not sentence:
            continue
        if not _OTHER_FIGURES.search(sentence):
            said += [("due", _value(a)) for a in _DUE_AMOUNT.findall(sentence)]
        if _CHANGED_DATE.search(sentence):
            continue
        if day := _MONTHLY_DAY.search(sentence):
            said.append(("monthly", float(day.group(1))))
        said += [("deadline", float(f.group(2) or f.group(3))) for f in _DEADLINE.finditer(sentence)]
    return tuple(said)
