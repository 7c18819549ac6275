"""The guard's scope: which words a message negates or states as fact, and which sentences are
exempt for some codes (anti-scam warnings, a contract's dispute clause, a lawful explanation of what
only a court can do, an apology for a colleague's words). Pure code, read by `guard`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lenddesk.core.patterns import compile_prefiltered

# Marks, spaces and underscores: what compaction removes (`guard.compact`).
NOT_A_WORD_CHARACTER = re.compile(r"[\W_]+")

# A phrase is not a violation when its clause negates it ("我们绝不会上门", "逾期不是犯罪，不会坐牢")
# unless a conditional sits between the negation and the phrase ("不还就上门", "别逼我们上门").
# Whole sentences are exempt for some codes: anti-scam warnings naming 公安/法院/律师函, a
# contract's dispute clause naming the court, a lawful explanation of what only a court can do, an
# apology for a colleague's words.

SENTENCE_END = re.compile(r"[。！？!?；;\n]")
_CLAUSE_CHARACTERS = frozenset("，,：:。！？!?；;\n")
_SENTENCE_CHARACTERS = frozenset("。！？!?；;\n")
_NEGATION = re.compile(
    r"绝不|决不|从不|从来不|从未|并不|不会|不能|不得|不是|不再|不用|不必|无需|无权|不属于|不涉及|不构成|"
    r"不存在|没有|没|并非|而非|禁止|严禁|杜绝|拒绝|不要|别|勿|未|唔会|唔系|唔使|冇|"
    r"不(?=上门|联系|通知|告诉|告知|找|去|使用|透露|泄露|打扰|骚扰|威胁|曝光|群发|冻结|查封|抓|起诉|坐牢)"
)
_NOT_NEGATING_BARE = re.compile(r"不(?:还|给|交|付|配合|接|回|处理|理|联系我|管|听|在乎)")
_CONDITIONAL = re.compile(r"就|则|便|才|让|逼|等|要是|还|的话|否|再|到时|敢|如果|若")
_ANTI_SCAM = compile_prefiltered(
    r"谨防|警惕|提防|防范|冒充|假冒|自称|谎称|诈骗电话|诈骗短信|诈骗分子|不法分子|骗局|都是诈骗|属于诈骗|"
    r"均为诈骗|请勿(?:相信|理会|轻信|转账|点击)|立即挂断|安全账户|scam|fraudster|posing as|impersonat|"
    r"claiming to be|pretending to be|pretend to be|(?:如遇|遇到|如有|若遇|一旦遇到)\w{0,6}(?:诈骗|骗)|"
    r"(?:请|及时|可|可以|立即|尽快)(?:向\w{0,8})?(?:报警|报案)|防骗|反诈|防诈|"
    # what an authority never does: ask for money by phone or message
    r"(?:如|若|如果|一旦)(?:您|你)?收到\w{0,12}(?:律师函|传票|通知书|短信|电话)\w{0,16}(?:忽略|核实|客服|官方)|"
    r"不会(?:通过|用|以)?\w{0,6}(?:要求|让|叫)(?:您|你)?\w{0,4}(?:转账|汇款|付款|打款|转钱)|"
    # someone else using an authority's name, and links not to be opened
    r"(?:如|若|如果|一旦)有人(?:以|用|冒用|打着)\w{0,8}(?:名义|旗号)|(?:短信|消息|陌生)\w{0,4}(?:链接|网址)\w{0,4}(?:不要|别|勿)点|"
    r"(?:不要|别|勿)点(?:击|开)?\w{0,4}(?:短信|消息|陌生)\w{0,4}(?:链接|网址)|"
    # telling a victim to report it and stop the money
    r"(?:到|去|前往)\w{0,8}派出所\w{0,4}(?:报警|报案)|拨打110|(?:拨打|联系)\w{0,10}(?:冻结|挂失|止付)|"
    r"(?:立即|尽快|及时)(?:冻结|挂失|止付)"
)
# Advice, policy and hypotheticals that name a lawyer, a court or the government lawfully.
_ADVICE = compile_prefiltered(
    r"建议(?:您|你)?\w{0,6}(?:联系|咨询|报警|报案|前往|拨打|求助)|法律咨询|咨询\w{0,4}律师|聘请\w{0,4}律师|政府(?:出台|发布|的政策|政策|补贴|号召|规定)|"
    r"(?:如果|若|如|一旦|假如)(?:您|你)?已?\w{0,6}(?:案件|诉讼|起诉|仲裁|进入司法)"
)
_APOLOGY = re.compile(r"道歉|歉意|抱歉|致歉|对不起|apolog|sorry")
_STAFF = re.compile(r"同事|员工|催收员|催收人员|工作人员|客服|之前|此前|上次|colleague|agent|staff")
_LEGAL_CLAUSE = compile_prefiltered(
    r"(?:合同|协议|约定|条款|争议|纠纷|协商不成|双方)\w*(?:法院|仲裁)|法院\w{0,4}管辖|jurisdiction|arbitration|"
    r"disputes? (?:under|arising)"
)
_LAWFUL_EXPLANATION = compile_prefiltered(
    r"(?:需|须|需要|必须|只有|只能|应当|要由|由|经)(?:人民)?法院|法院(?:依法)?(?:判决|裁定|作出|签发)\w{0,8}(?:后|才)|"
    r"才(?:会|可能|能)|不属实|无权|生效(?:判决|裁定)|执行阶段|依法(?:采取|认定|作出)|法定程序|需要?经过|须经|"
    r"only (?:a|the) court|court (?:order|judgment|judgement|ruling)|by a court|"
    r"执行措施|没有(?:这个|此)?权力|无此权力|属于法院|(?:是|属于)法院的(?:事|职权|权力|决定)|"
    r"前提是\w{0,8}(?:判决|裁定|法院)|(?:判决|裁定)生效且"
)
_DISAVOWAL = compile_prefiltered(
    r"不是(?:我司|我们|本公司|公司)的?(?:做法|规定|政策)|不代表(?:我司|公司)|违规(?:行为|言论)|"
    r"已(?:对其|严肃|依规)(?:进行)?处理|not our (?:policy|practice)|并非(?:我司|我们|本公司|公司)|"
    r"不是(?:我司|我们|本公司|公司)的?用语|"
    # handling a complaint about a colleague's words: the words are reported, not said
    r"(?:对其|对涉事|涉事)\w{0,6}(?:处理|处罚|调查|核查|停职|停止)|停止其|核查涉事|涉事(?:人员|员工|催收)|"
    r"(?:称|说)\w{0,12}一事|"
    # a rumour reported and denied: 您提到有人说您会被抓，这不是事实
    r"(?:您提到|你提到|您听说|你听说|您反映|您说的|你说的|有人说|有人称|有人告诉|所谓)\w{0,24}?"
    r"(?:不是事实|并非事实|不属实|是假的|谣言|不实)"
)
_POSTPOSED_NEGATION = compile_prefiltered(
    r"(?:都|也|均|并)?(?:不会(?:受到|有)?(?:任何)?影响|不受(?:任何)?影响|不影响|不是真的|不属实|是不存在的)"
)
_CLAIMED = re.compile(r"已|正在")
# "…after the judgment you just wait for prison": a lawful-sounding clause used as a menace.
_MENACED = re.compile(r"等着")
_COMPLAINT_CHANNEL = compile_prefiltered(r"(?:向|拨打|致电|联系)\w{0,16}(?:投诉|举报|反映)|12378|complain")
_ALL_WORD_CODES = frozenset({"THREAT", "INSULT", "FALSE_AUTHORITY", "FALSE_CONSEQUENCE"})
ENGLISH_NEGATION = compile_prefiltered(
    r"\b(?:never|not|no|nobody|won'?t|don'?t|doesn'?t|isn'?t|aren'?t|cannot)\b|n't\b"
)


@dataclass(frozen=True)
class Scope:
    """Clause starts and exempt spans (start, end, codes) in the compacted text."""

    clause_starts: tuple[int, ...]
    exempt: tuple[tuple[int, int, frozenset[str]], ...]


def sentence_exemptions(raw: str) -> frozenset[str]:
    # Chinese cues are read without marks and spaces (谨 防 冒 充), English ones with their spaces.
    sentence = f"{NOT_A_WORD_CHARACTER.sub('', raw)} {raw}"
    codes: set[str] = set()
    if _COMPLAINT_CHANNEL.search(sentence) or _ADVICE.search(sentence):
        codes.add("FALSE_AUTHORITY")
    if _ANTI_SCAM.search(sentence):
        codes |= {"FALSE_AUTHORITY", "FALSE_CONSEQUENCE"}
    if (_APOLOGY.search(sentence) and _STAFF.search(sentence)) or _DISAVOWAL.search(sentence):
        codes |= _ALL_WORD_CODES
    if _LEGAL_CLAUSE.search(sentence) and not _CLAIMED.search(sentence):
        codes.add("FALSE_AUTHORITY")
    lawful = _LAWFUL_EXPLANATION.search(sentence)
    if lawful and not _CLAIMED.search(sentence) and not _MENACED.search(sentence):
        codes |= {"FALSE_AUTHORITY", "FALSE_CONSEQUENCE"}
    return frozenset(codes)


# Any cue of an exempt sentence, in one alternation: one scan of the text instead of seven.
EXEMPTION_CUE = compile_prefiltered(
    "|".join(
        f"(?:{cue.pattern})"
        for cue in (
            _COMPLAINT_CHANNEL, _ADVICE, _ANTI_SCAM, _APOLOGY, _DISAVOWAL, _LEGAL_CLAUSE, _LAWFUL_EXPLANATION
        )
    )
)  # fmt: skip


def may_exempt(normalised: str, compacted: str) -> bool:
    """Whether any sentence could be exempt (one pass over the whole text instead of one per
    sentence; most messages have no cue at all)."""
    return EXEMPTION_CUE.search(f"{compacted} {normalised}") is not None


def scope_of(normalised: str, compacted: str) -> Scope:
    exempting = may_exempt(normalised, compacted)
    clause_starts = [0]
    exempt: list[tuple[int, int, frozenset[str]]] = []
    removed = 0
    sentence_start_raw, sentence_start = 0, 0
    for mark in NOT_A_WORD_CHARACTER.finditer(normalised):
        position = mark.start() - removed
        removed += mark.end() - mark.start()
        marks = mark.group()
        if _CLAUSE_CHARACTERS.isdisjoint(marks):
            continue
        clause_starts.append(position)
        if not _SENTENCE_CHARACTERS.isdisjoint(marks):
            codes = exempting and sentence_exemptions(normalised[sentence_start_raw : mark.start()])
            if codes:
                exempt.append((sentence_start, position, codes))
            sentence_start_raw, sentence_start = mark.end(), position
    codes = exempting and sentence_exemptions(normalised[sentence_start_raw:])
    if codes:
        exempt.append((sentence_start, len(normalised) - removed, codes))
    return Scope(tuple(clause_starts), tuple(exempt))


def negated(compacted: str, start: int, scope: Scope, end: int | None = None) -> bool:
    """A negation before the phrase in its clause ("不会联系您的家人"), none of the conditionals
    between them; or one right after it ("孩子上学不会受到影响")."""
    if end is not None:
        clause_end = min((s for s in scope.clause_starts if s >= end), default=len(compacted))
        if _POSTPOSED_NEGATION.match(compacted[end:clause_end], 0):
            return True
    clause_start = max((s for s in scope.clause_starts if s <= start), default=0)
    window = compacted[max(clause_start, start - 12) : start]
    cues = [m for m in _NEGATION.finditer(window) if not _NOT_NEGATING_BARE.match(window, m.start())]
    if not cues:
        return False
    after = window[cues[-1].end() :]
    return not _CONDITIONAL.search(after[1:] if after.startswith("再") else after)  # 不会再联系


def is_exempt(code: str, span: tuple[int, int], scope: Scope) -> bool:
    return any(start <= span[0] < end and code in codes for start, end, codes in scope.exempt)
